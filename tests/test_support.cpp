#include "test_support.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>

#include "header.hpp"
#include "name.hpp"
#include "zinc.h"
#include "program_paths.hpp"

namespace zinc::test {

std::string unique_name(std::string_view scenario) {
  static std::atomic<unsigned> counter{0};
  static const unsigned salt = std::random_device{}();
  // The pid comes first so scripts/lib.sh can sweep objects left by a test
  // process that crashed before its guards ran.
  return "t" + std::to_string(getpid()) + "-" + std::string(scenario) + "-" +
         std::to_string(counter++) + "-" + std::to_string(salt % 100000);
}

ObjectGuard::~ObjectGuard() {
  shm_unlink(("/zinc_" + name_).c_str());
}

std::string object_path(const std::string& name) {
  return "/dev/shm/zinc_" + name;
}

bool object_exists(const std::string& name) {
  struct stat st {};
  return stat(object_path(name).c_str(), &st) == 0;
}

uint64_t allocated_bytes(const std::string& name) {
  struct stat st {};
  if (stat(object_path(name).c_str(), &st) != 0) return 0;
  return uint64_t(st.st_blocks) * 512;
}

void write_raw_object(const std::string& name, const std::vector<uint8_t>& bytes, uint64_t size) {
  const int fd = shm_open(("/zinc_" + name).c_str(), O_CREAT | O_RDWR | O_TRUNC, 0600);
  if (fd < 0) throw std::runtime_error("shm_open: " + std::string(std::strerror(errno)));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) {
      close(fd);
      throw std::runtime_error("write raw object failed");
    }
    done += static_cast<size_t>(n);
  }
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
    close(fd);
    throw std::runtime_error("ftruncate raw object failed");
  }
  close(fd);
}

std::vector<uint8_t> read_raw_object(const std::string& name) {
  const int fd = open(object_path(name).c_str(), O_RDONLY);
  if (fd < 0) throw std::runtime_error("open raw object: " + std::string(std::strerror(errno)));
  std::vector<uint8_t> bytes;
  uint8_t chunk[65536];
  for (;;) {
    const ssize_t n = read(fd, chunk, sizeof chunk);
    if (n <= 0) break;
    bytes.insert(bytes.end(), chunk, chunk + n);
  }
  close(fd);
  return bytes;
}

namespace {

template <typename T>
void put(std::vector<uint8_t>& page, size_t offset, T value) {
  std::memcpy(page.data() + offset, &value, sizeof value);
}

}  // namespace

std::vector<uint8_t> valid_header_page(const std::string& name, uint64_t capacity) {
  std::vector<uint8_t> page(zinc_page_size(), 0);
  put<uint64_t>(page, 0, ZINC_MAGIC);
  put<uint16_t>(page, 8, ZINC_FORMAT_VERSION);
  put<uint64_t>(page, 16, capacity);
  put<uint32_t>(page, 24, 1);
  put<int32_t>(page, 28, getpid());
  put<uint64_t>(page, 32, 1700000000000000000ULL);
  put<uint64_t>(page, 40, zinc::core::name_hash(name));
  return page;
}

void write_region(const std::string& name, int32_t owner, uint64_t created_at) {
  auto page = valid_header_page(name, zinc_page_size());
  std::memcpy(page.data() + 28, &owner, sizeof owner);
  std::memcpy(page.data() + 32, &created_at, sizeof created_at);
  write_raw_object(name, page, 2 * zinc_page_size());
}

uint64_t realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ULL + uint64_t(ts.tv_nsec);
}

pid_t dead_pid() {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  return child;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

ChildResult call_in_child(const std::function<int32_t()>& call, int timeout_ms) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  const pid_t child = fork();
  if (child < 0) throw std::runtime_error("fork");
  if (child == 0) {
    const int32_t value = call();
    const ssize_t n = write(fds[1], &value, sizeof value);
    _exit(n == sizeof value ? 0 : 1);
  }
  close(fds[1]);
  ChildResult result;
  pollfd p{fds[0], POLLIN, 0};
  if (poll(&p, 1, timeout_ms) == 1 &&
      read(fds[0], &result.value, sizeof result.value) == sizeof result.value) {
    result.finished = true;
  }
  close(fds[0]);
  if (!result.finished) kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  return result;
}

bool thread_in_futex(pid_t tid) {
  const std::string path = "/proc/self/task/" + std::to_string(tid) + "/syscall";
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char text[64] = {};
  const ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  // The first field is the system call number: 202 is futex on x86-64, 98
  // on aarch64; 449 is futex_waitv on both (a wait set's sleep).
  return n > 0 && (std::strncmp(text, "202 ", 4) == 0 || std::strncmp(text, "98 ", 3) == 0 ||
                   std::strncmp(text, "449 ", 4) == 0);
}

uint32_t sleepers_at(const uint8_t* data) {
  const auto* waiters = reinterpret_cast<const zinc::core::WaiterCount*>(
      data - zinc_page_size() + zinc::core::kWaiterCountOffset);
  return waiters->sleepers.load();
}

uint32_t sleepers_of(ZincHandle region) {
  return sleepers_at(zinc_ptr(region));
}

bool await_futex_sleep(const std::atomic<pid_t>& tid) {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const time_t until = now.tv_sec + 5;
  while (!(tid != 0 && thread_in_futex(tid))) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec >= until) return false;
    const timespec pause{0, 1000000};
    nanosleep(&pause, nullptr);
  }
  return true;
}

Peer::Peer() {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork");
  if (pid_ == 0) {
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    execl(paths::kTestPeer, paths::kTestPeer, static_cast<char*>(nullptr));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  to_peer_ = in[1];
  from_peer_ = out[0];
}

Peer::~Peer() {
  if (!reaped_) {
    send("exit");
    for (int i = 0; i < 100 && !reaped_; ++i) {
      if (waitpid(pid_, &status_, WNOHANG) == pid_)
        reaped_ = true;
      else
        usleep(20000);
    }
    if (!reaped_) kill_hard();
  }
  close(to_peer_);
  close(from_peer_);
}

void Peer::send(const std::string& command) {
  const std::string line = command + "\n";
  const ssize_t n = write(to_peer_, line.data(), line.size());
  (void)n;  // a dead peer shows up as EOF on the next read_line
}

std::string Peer::read_line() {
  for (;;) {
    if (const size_t nl = buffered_.find('\n'); nl != std::string::npos) {
      std::string line = buffered_.substr(0, nl);
      buffered_.erase(0, nl + 1);
      return line;
    }
    pollfd pfd{from_peer_, POLLIN, 0};
    if (poll(&pfd, 1, 20000) <= 0) return "<peer timeout>";
    char chunk[512];
    const ssize_t n = read(from_peer_, chunk, sizeof chunk);
    if (n <= 0) return "<peer eof>";
    buffered_.append(chunk, static_cast<size_t>(n));
  }
}

std::string Peer::call(const std::string& command) {
  send(command);
  return read_line();
}

void Peer::kill_hard() {
  if (reaped_) return;
  kill(pid_, SIGKILL);
  wait_exit();
}

int Peer::wait_exit() {
  if (!reaped_) {
    waitpid(pid_, &status_, 0);
    reaped_ = true;
  }
  return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
}

}  // namespace zinc::test
