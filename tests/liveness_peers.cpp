#include "liveness_peers.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

namespace zinc::test {
namespace {

using Clock = std::chrono::steady_clock;

struct Pipe {
  int read_end = -1;
  int write_end = -1;
};

Pipe make_pipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe2: " + std::string(std::strerror(errno)));
  }
  return {fds[0], fds[1]};
}

void write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the other end is gone; its reader reports that
    done += static_cast<size_t>(n);
  }
}

// What the host-side helper child exits with when a namespace step fails
// (the probe normally finds that out first and the test skips).
constexpr int kNamespaceSetupFailed = 125;

// In the namespace's init: reap every child (orphans included) until
// `actor` ends; its exit code or 128 + signal.
int reap_until(pid_t actor) {
  for (;;) {
    int status = 0;
    const pid_t done = waitpid(-1, &status, 0);
    if (done < 0 && errno == EINTR) continue;
    if (done < 0) return kNamespaceSetupFailed;
    if (done != actor) continue;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
}

// Makes the next process forked in this pid namespace get pid `pid`.
bool place_next_pid(pid_t pid) {
  const int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const std::string text = std::to_string(pid - 1);
  const bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return ok;
}

// Runs in the host-side child: unshares, then forks the namespace's init.
[[noreturn]] void run_namespace(const NamespacedProcess::Body& body, pid_t pid_in_namespace,
                                LineLink link, int report_fd) {
  if (unshare(CLONE_NEWPID | CLONE_NEWNS) != 0) _exit(kNamespaceSetupFailed);
  // Our /proc mount must not propagate back to the host's mount namespace.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    _exit(kNamespaceSetupFailed);
  }
  const pid_t init = fork();
  if (init < 0) _exit(kNamespaceSetupFailed);
  if (init == 0) {
    close(report_fd);
    // pid 1 of the new namespace. A proc mounted from here shows this
    // namespace's pids.
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
      _exit(kNamespaceSetupFailed);
    }
    if (pid_in_namespace == 1) _exit(body(link));
    if (!place_next_pid(pid_in_namespace)) _exit(kNamespaceSetupFailed);
    const pid_t actor = fork();
    if (actor < 0) _exit(kNamespaceSetupFailed);
    if (actor == 0) _exit(body(link));
    link.close_both();
    _exit(reap_until(actor));
  }
  write_all(report_fd, std::to_string(init) + "\n");
  close(report_fd);
  link.close_both();
  int status = 0;
  while (waitpid(init, &status, 0) < 0 && errno == EINTR) {
  }
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

// A thread that runs the body and then ends the process with its value.
struct WorkerStart {
  ExitedMainThreadProcess::Body body;
  LineLink link;
};

void* run_worker(void* arg) {
  std::unique_ptr<WorkerStart> start(static_cast<WorkerStart*>(arg));
  const int code = start->body(start->link);
  _exit(code);
}

}  // namespace

// ---- LineLink -----------------------------------------------------------------

void LineLink::send(const std::string& line) const {
  write_all(out_, line + "\n");
}

std::string LineLink::read_line(int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const size_t newline = buffered_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffered_.substr(0, newline);
      buffered_.erase(0, newline + 1);
      return line;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      throw std::runtime_error("no line from the peer within " + std::to_string(timeout_ms) +
                               " ms (got so far: '" + buffered_ + "')");
    }
    pollfd p{in_, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char chunk[512];
    const ssize_t n = read(in_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw std::runtime_error("the peer closed its end (got so far: '" + buffered_ + "')");
    buffered_.append(chunk, static_cast<size_t>(n));
  }
}

void LineLink::close_both() {
  if (in_ >= 0) close(in_);
  if (out_ >= 0) close(out_);
  in_ = out_ = -1;
}

// ---- probes ---------------------------------------------------------------------

std::string pid_namespace_unavailable_reason() {
  static const std::string reason = [] {
    if (geteuid() != 0) {
      return std::string("pid namespaces need root (unshare(CLONE_NEWPID | CLONE_NEWNS))");
    }
    // Try the real thing once in a child: unshare, make / private, mount
    // a proc from the namespace's init.
    const pid_t child = fork();
    if (child < 0) return std::string("fork failed: ") + std::strerror(errno);
    if (child == 0) {
      if (unshare(CLONE_NEWPID | CLONE_NEWNS) != 0) _exit(errno == EPERM ? 1 : 2);
      if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(3);
      const pid_t init = fork();
      if (init == 0) {
        if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
          _exit(4);
        }
        _exit(getpid() == 1 && place_next_pid(7) ? 0 : 5);
      }
      int status = 0;
      waitpid(init, &status, 0);
      _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 6);
    }
    const int code = wait_child(child, 10'000);
    switch (code) {
      case 0: return std::string();
      case 1:
        return std::string("unshare(CLONE_NEWPID | CLONE_NEWNS) refused with EPERM (a container?)");
      case 2: return std::string("unshare(CLONE_NEWPID | CLONE_NEWNS) failed");
      case 3: return std::string("cannot make / a private mount in a new mount namespace");
      case 4: return std::string("cannot mount a proc for a new pid namespace");
      case 5: return std::string("cannot place pids in a new pid namespace (ns_last_pid)");
      default:
        return std::string("the pid namespace probe failed (code ") + std::to_string(code) + ")";
    }
  }();
  return reason;
}

char process_state(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return '?';
  // "pid (comm) S ...": the comm may hold spaces and parentheses.
  const size_t paren = text.rfind(')');
  if (paren == std::string::npos || paren + 2 >= text.size()) return '?';
  return text[paren + 2];
}

int wait_child(pid_t pid, int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int status = 0;
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (done < 0 && errno != EINTR) return -1;
    if (Clock::now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // polling the child's end
  }
}

// ---- NamespacedProcess -----------------------------------------------------------

NamespacedProcess::NamespacedProcess(Body body, pid_t pid_in_namespace) {
  if (pid_in_namespace < 1) throw std::invalid_argument("pid_in_namespace must be >= 1");
  const Pipe to_child = make_pipe();
  const Pipe from_child = make_pipe();
  const Pipe report = make_pipe();
  outer_ = fork();
  if (outer_ < 0) throw std::runtime_error("fork: " + std::string(std::strerror(errno)));
  if (outer_ == 0) {
    close(to_child.write_end);
    close(from_child.read_end);
    close(report.read_end);
    run_namespace(body, pid_in_namespace, LineLink(to_child.read_end, from_child.write_end),
                  report.write_end);
  }
  close(to_child.read_end);
  close(from_child.write_end);
  close(report.write_end);
  link_ = LineLink(from_child.read_end, to_child.write_end);
  LineLink report_link(report.read_end, -1);
  try {
    init_host_ = std::stoi(report_link.read_line(10'000));
  } catch (const std::exception& e) {
    report_link.close_both();
    throw std::runtime_error(std::string("the pid namespace did not start: ") + e.what());
  }
  report_link.close_both();
}

NamespacedProcess::~NamespacedProcess() {
  if (!reaped_) {
    kill_namespace();
    wait_exit(10'000);
  }
  link_.close_both();
}

void NamespacedProcess::kill_namespace() {
  if (init_host_ > 0) kill(init_host_, SIGKILL);
}

int NamespacedProcess::wait_exit(int timeout_ms) {
  if (!reaped_) {
    status_ = wait_child(outer_, timeout_ms);
    if (status_ < 0) kill_namespace();
    reaped_ = true;
  }
  return status_;
}

// ---- ForkedProcess ------------------------------------------------------------------

ForkedProcess::ForkedProcess(Body body) {
  const Pipe to_child = make_pipe();
  const Pipe from_child = make_pipe();
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork: " + std::string(std::strerror(errno)));
  if (pid_ == 0) {
    close(to_child.write_end);
    close(from_child.read_end);
    LineLink link(to_child.read_end, from_child.write_end);
    _exit(body(link));
  }
  close(to_child.read_end);
  close(from_child.write_end);
  link_ = LineLink(from_child.read_end, to_child.write_end);
}

ForkedProcess::~ForkedProcess() {
  if (!reaped_) {
    kill_hard();
    wait_exit(10'000);
  }
  link_.close_both();
}

void ForkedProcess::kill_hard() {
  if (!reaped_) kill(pid_, SIGKILL);
}

int ForkedProcess::wait_exit(int timeout_ms) {
  if (!reaped_) {
    status_ = wait_child(pid_, timeout_ms);
    reaped_ = true;
  }
  return status_;
}

// ---- ExitedMainThreadProcess -------------------------------------------------------

ExitedMainThreadProcess::ExitedMainThreadProcess(Setup setup, Body body) {
  const Pipe to_child = make_pipe();
  const Pipe from_child = make_pipe();
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork: " + std::string(std::strerror(errno)));
  if (pid_ == 0) {
    close(to_child.write_end);
    close(from_child.read_end);
    LineLink link(to_child.read_end, from_child.write_end);
    setup(link);
    auto* start = new WorkerStart{std::move(body), link};
    pthread_t worker;
    if (pthread_create(&worker, nullptr, run_worker, start) != 0) _exit(kNamespaceSetupFailed);
    // End the main thread the way pthread_exit ends it in the kernel (the
    // thread-group leader becomes a zombie while the worker runs on), but
    // without pthread_exit's unwinding of this stack: that would run the
    // destructors of the test's own frames (its guards) in this child.
    syscall(SYS_exit, 0);
  }
  close(to_child.read_end);
  close(from_child.write_end);
  link_ = LineLink(from_child.read_end, to_child.write_end);
  // The judges must see the leader gone before the test asks them.
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (process_state(pid_) != 'Z') {
    if (Clock::now() >= deadline) {
      kill_hard();
      throw std::runtime_error("the child's main thread did not exit");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // polling /proc
  }
}

ExitedMainThreadProcess::~ExitedMainThreadProcess() {
  if (!reaped_) {
    kill_hard();
    wait_exit(10'000);
  }
  link_.close_both();
}

void ExitedMainThreadProcess::kill_hard() {
  if (!reaped_) kill(pid_, SIGKILL);
}

int ExitedMainThreadProcess::wait_exit(int timeout_ms) {
  if (!reaped_) {
    status_ = wait_child(pid_, timeout_ms);
    reaped_ = true;
  }
  return status_;
}

}  // namespace zinc::test
