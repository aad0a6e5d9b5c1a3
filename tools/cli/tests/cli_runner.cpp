#include "cli_runner.hpp"
#include "program_paths.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

extern char** environ;

namespace zinc::cli::test {
namespace {

int64_t now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

int exit_code_of(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Reads what is available from fd into buffer; false at EOF.
bool drain_into(int fd, std::string* buffer) {
  char chunk[4096];
  const ssize_t n = read(fd, chunk, sizeof chunk);
  if (n <= 0) return false;
  buffer->append(chunk, static_cast<size_t>(n));
  return true;
}

}  // namespace

Background::Background(const std::vector<std::string>& args) {
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  // Whatever the test runner did with signals, zinc starts with defaults.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGPIPE}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> words = {zinc::test::paths::kCli};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  const int rc = posix_spawn(&pid_, zinc::test::paths::kCli, &actions, &attributes, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  close(out[1]);
  close(err[1]);
  out_ = out[0];
  err_ = err[0];
  if (rc != 0) throw std::runtime_error(std::string("posix_spawn ") + zinc::test::paths::kCli + " failed");
}

Background::~Background() {
  if (!reaped_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
  }
  close(out_);
  close(err_);
}

std::string Background::read_line(int timeout_ms) {
  const int64_t deadline = now_ms() + timeout_ms;
  for (;;) {
    if (const size_t nl = out_buffer_.find('\n'); nl != std::string::npos) {
      std::string line = out_buffer_.substr(0, nl);
      out_buffer_.erase(0, nl + 1);
      return line;
    }
    const int64_t left = deadline - now_ms();
    if (left <= 0) return "<timeout>";
    pollfd pfd{out_, POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(left)) <= 0) continue;
    if (!drain_into(out_, &out_buffer_)) return "<eof>";
  }
}

void Background::signal(int signal_number) {
  if (!reaped_) kill(pid_, signal_number);
}

bool Background::exited() {
  if (!reaped_ && waitpid(pid_, &status_, WNOHANG) == pid_) reaped_ = true;
  return reaped_;
}

bool Background::blocks(int signal_number) {
  std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("SigBlk:", 0) == 0) {
      const unsigned long long mask = std::strtoull(line.c_str() + 7, nullptr, 16);
      return (mask >> (signal_number - 1)) & 1;
    }
  }
  return false;
}

Result Background::finish(int timeout_ms) {
  const int64_t deadline = now_ms() + timeout_ms;
  bool out_open = true, err_open = true;
  while ((out_open || err_open) && now_ms() < deadline) {
    pollfd pfds[2] = {{out_open ? out_ : -1, POLLIN, 0}, {err_open ? err_ : -1, POLLIN, 0}};
    if (poll(pfds, 2, static_cast<int>(deadline - now_ms())) <= 0) continue;
    if (pfds[0].revents != 0) out_open = drain_into(out_, &out_buffer_);
    if (pfds[1].revents != 0) err_open = drain_into(err_, &err_buffer_);
  }
  while (!exited() && now_ms() < deadline) usleep(1000);
  Result result;
  result.out = out_buffer_;
  result.err = err_buffer_;
  result.exit_code = reaped_ ? exit_code_of(status_) : -1;
  return result;
}

Result run_zinc(const std::vector<std::string>& args) {
  Background process(args);
  return process.finish(60000);
}

}  // namespace zinc::cli::test
