// Participants the liveness tests need but one process cannot be: a process
// in another pid namespace with its own /proc (as containers that share
// /dev/shm but not pids are), and a process whose main thread has exited
// while a worker thread goes on using zinc.
//
// Each runs a scenario body in a forked child and talks with the test by
// lines over two pipes: the body reports what it did ("joined 0"), the test
// tells it what to do next ("release", "exit"). Reads are bounded in time,
// so a peer that hangs fails the test instead of hanging it.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

namespace zinc::test {

// One end of the line channel between a test and its peer process.
class LineLink {
 public:
  LineLink() = default;
  LineLink(int in_fd, int out_fd) : in_(in_fd), out_(out_fd) {}
  void send(const std::string& line) const;
  // The next line (without its newline), waiting up to timeout_ms; throws
  // std::runtime_error on a timeout or when the other end has gone.
  std::string read_line(int timeout_ms = 30'000);
  void close_both();

 private:
  int in_ = -1;
  int out_ = -1;
  std::string buffered_;
};

// Why pid namespaces cannot be used here ("" when they can): the test must
// run as root and the kernel must let it unshare a pid and a mount
// namespace (containers often refuse with EPERM). Probed once per process.
std::string pid_namespace_unavailable_reason();

// Runs `body` in a new pid namespace with a fresh /proc of its own
// (unshare(CLONE_NEWPID | CLONE_NEWNS), / made rprivate, proc mounted on
// /proc). /dev/shm is the host's. The body is the process with pid
// `pid_in_namespace` there: 1 (the namespace's init), or any larger pid (a
// throwaway init is pid 1 and the kernel's ns_last_pid places the body at
// the requested pid). The body's return value is the process's exit code.
class NamespacedProcess {
 public:
  using Body = std::function<int(LineLink&)>;
  NamespacedProcess(Body body, pid_t pid_in_namespace);
  NamespacedProcess(const NamespacedProcess&) = delete;
  NamespacedProcess& operator=(const NamespacedProcess&) = delete;
  ~NamespacedProcess();  // kills the whole namespace and reaps it

  LineLink& link() { return link_; }
  // Kills every process of the namespace (SIGKILL to its init).
  void kill_namespace();
  // The body's exit code, or 128 + signal; waits up to timeout_ms (then kills).
  int wait_exit(int timeout_ms = 30'000);

 private:
  pid_t outer_ = -1;      // the host-side child that unshared (reaps the init)
  pid_t init_host_ = -1;  // the namespace's init, as the host sees it
  LineLink link_;
  bool reaped_ = false;
  int status_ = 0;
};

// Runs `body` in a plain forked child (same namespaces): a participant the
// test can kill with SIGKILL at a point the body reported.
class ForkedProcess {
 public:
  using Body = std::function<int(LineLink&)>;
  explicit ForkedProcess(Body body);
  ForkedProcess(const ForkedProcess&) = delete;
  ForkedProcess& operator=(const ForkedProcess&) = delete;
  ~ForkedProcess();  // kills and reaps a child still running

  LineLink& link() { return link_; }
  pid_t pid() const { return pid_; }
  void kill_hard();
  int wait_exit(int timeout_ms = 30'000);

 private:
  pid_t pid_ = -1;
  LineLink link_;
  bool reaped_ = false;
  int status_ = 0;
};

// Runs `setup` on the main thread of a forked child, then `body` on a worker
// thread while the main thread calls pthread_exit: the process lives on with
// a zombie thread-group leader, so /proc/<pid>/stat says 'Z'. The constructor
// returns once that is so. Returns the body's value as the exit code.
class ExitedMainThreadProcess {
 public:
  using Setup = std::function<void(LineLink&)>;
  using Body = std::function<int(LineLink&)>;
  ExitedMainThreadProcess(Setup setup, Body body);
  ExitedMainThreadProcess(const ExitedMainThreadProcess&) = delete;
  ExitedMainThreadProcess& operator=(const ExitedMainThreadProcess&) = delete;
  ~ExitedMainThreadProcess();

  LineLink& link() { return link_; }
  pid_t pid() const { return pid_; }
  void kill_hard();
  int wait_exit(int timeout_ms = 30'000);

 private:
  pid_t pid_ = -1;
  LineLink link_;
  bool reaped_ = false;
  int status_ = 0;
};

// The state letter of /proc/<pid>/stat ('R', 'S', 'Z'...), '?' if unreadable.
char process_state(pid_t pid);

// Waits up to timeout_ms for `pid` (a child) to end; its exit code or
// 128 + signal; kills it with SIGKILL and returns -1 when it does not end.
int wait_child(pid_t pid, int timeout_ms);

}  // namespace zinc::test
