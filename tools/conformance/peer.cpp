#include "peer.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>

#include "format.hpp"
#include "library.hpp"
#include "peer_channel.hpp"
#include "raw_object.hpp"

namespace zinc::conformance {

uint8_t pattern_byte(uint32_t seed, uint64_t offset) {
  return static_cast<uint8_t>(seed * 131u + offset * 7u + (offset >> 8));
}

void fill_pattern(uint8_t* data, uint64_t length, uint32_t seed) {
  for (uint64_t i = 0; i < length; ++i) data[i] = pattern_byte(seed, i);
}

uint64_t pattern_mismatches(const uint8_t* data, uint64_t length, uint32_t seed) {
  uint64_t wrong = 0;
  for (uint64_t i = 0; i < length; ++i) wrong += data[i] != pattern_byte(seed, i);
  return wrong;
}

Peer::Peer(const std::string& self, const std::string& library)
    : Peer({self, "--peer", "--lib", library}, library) {}

std::unique_ptr<Peer> Peer::from_command(const std::string& command) {
  return std::unique_ptr<Peer>(new Peer({"/bin/sh", "-c", command}, command));
}

Peer::Peer(const std::vector<std::string>& argv, std::string label) : label_(std::move(label)) {
  int in[2];
  int out[2];
  if (pipe2(in, O_CLOEXEC) != 0) throw KitError("pipe: " + std::string(std::strerror(errno)));
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    throw KitError("pipe: " + std::string(std::strerror(errno)));
  }
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_ = fork();
  if (pid_ < 0) throw KitError("fork: " + std::string(std::strerror(errno)));
  if (pid_ == 0) {
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    execv(args[0], args.data());
    std::printf("error exec %s: %s\n", args[0], std::strerror(errno));
    std::fflush(stdout);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  to_peer_ = in[1];
  from_peer_ = out[0];
  try {
    const std::string hello = read_line(10000);
    int reported = 0;
    if (std::sscanf(hello.c_str(), "ready %d", &reported) != 1 || reported <= 0) {
      throw PeerFailed("peer " + label_ + " did not start: '" + hello + "'");
    }
    reported_pid_ = reported;
  } catch (...) {
    shut_down();
    throw;
  }
}

Peer::~Peer() {
  shut_down();
}

void Peer::shut_down() {
  if (to_peer_ >= 0) close(to_peer_);
  to_peer_ = -1;
  if (!reaped_) {
    // A clean exit closes the peer's handle; give it a second, then insist
    // (a peer stuck in a wait that was never woken would take longer).
    for (int i = 0; i < 100 && !reaped_; ++i) {
      if (waitpid(pid_, &status_, WNOHANG) == pid_) {
        reaped_ = true;
        break;
      }
      usleep(10000);
    }
    if (!reaped_) kill_hard();
  }
  if (from_peer_ >= 0) close(from_peer_);
  from_peer_ = -1;
}

void Peer::send(const std::string& command) {
  const std::string line = command + "\n";
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = write(to_peer_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw PeerFailed("could not send '" + command + "': " + describe_exit());
    done += static_cast<size_t>(n);
  }
}

bool Peer::try_read_line(std::string* line, int timeout_ms) {
  const int64_t deadline = monotonic_ms() + timeout_ms;
  for (;;) {
    const size_t newline = buffered_.find('\n');
    if (newline != std::string::npos) {
      *line = buffered_.substr(0, newline);
      buffered_.erase(0, newline + 1);
      return true;
    }
    const int64_t left = deadline - monotonic_ms();
    if (left <= 0) return false;
    pollfd p{from_peer_, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char chunk[4096];
    const ssize_t n = read(from_peer_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw PeerFailed("peer " + label_ + " " + describe_exit());
    buffered_.append(chunk, static_cast<size_t>(n));
  }
}

std::string Peer::read_line(int timeout_ms) {
  std::string line;
  if (!try_read_line(&line, timeout_ms)) {
    throw PeerFailed("peer " + label_ + " did not answer within " + std::to_string(timeout_ms) +
                     " ms");
  }
  return line;
}

std::string Peer::call(const std::string& command, int timeout_ms) {
  send(command);
  std::string line;
  if (!try_read_line(&line, timeout_ms)) {
    throw PeerFailed("peer " + label_ + " did not answer '" + command + "' within " +
                     std::to_string(timeout_ms) + " ms");
  }
  return line;
}

void Peer::kill_hard() {
  if (reaped_) return;
  if (reported_pid_ > 0 && reported_pid_ != pid_) kill(reported_pid_, SIGKILL);
  kill(pid_, SIGKILL);
  waitpid(pid_, &status_, 0);
  reaped_ = true;
}

bool Peer::kill_unreaped() {
  if (reaped_ || reported_pid_ != pid_) return false;
  kill(pid_, SIGKILL);
  // Wait for the exit but leave the process to be reaped later (WNOWAIT).
  siginfo_t info{};
  while (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) != 0) {
    if (errno != EINTR) return false;
  }
  return true;
}

std::string Peer::describe_exit() {
  if (!reaped_) {
    // It closed its output; it is exiting or gone.
    for (int i = 0; i < 100 && !reaped_; ++i) {
      if (waitpid(pid_, &status_, WNOHANG) == pid_) reaped_ = true;
      if (!reaped_) usleep(10000);
    }
  }
  if (!reaped_) return "closed its output";
  if (WIFSIGNALED(status_)) {
    return "died of signal " + std::to_string(WTERMSIG(status_)) + " (" +
           strsignal(WTERMSIG(status_)) + ")";
  }
  return "exited with status " + std::to_string(WEXITSTATUS(status_));
}

namespace {

std::string to_hex(const uint8_t* bytes, size_t size) {
  static const char digits[] = "0123456789abcdef";
  std::string text;
  for (size_t i = 0; i < size; ++i) {
    text += digits[bytes[i] >> 4];
    text += digits[bytes[i] & 15];
  }
  return text;
}

bool from_hex(const std::string& text, std::vector<uint8_t>* bytes) {
  if (text.size() % 2 != 0) return false;
  for (size_t i = 0; i < text.size(); i += 2) {
    unsigned value = 0;
    if (std::sscanf(text.c_str() + i, "%2x", &value) != 1) return false;
    bytes->push_back(static_cast<uint8_t>(value));
  }
  return true;
}

}  // namespace

int run_peer(const std::string& library) {
  LoadedLibrary loaded;
  std::string error;
  if (!load_library(library, &loaded, &error)) {
    std::printf("error %s\n", error.c_str());
    return 1;
  }
  if (!loaded.missing_required.empty()) {
    std::printf("error %s lacks %s\n", library.c_str(), loaded.missing_required.front().c_str());
    return 1;
  }
  const Api& zinc = loaded.api;
  std::printf("ready %d\n", static_cast<int>(getpid()));
  std::fflush(stdout);

  ZincHandle handle = nullptr;
  ZincChannel channel = nullptr;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string op;
    in >> op;
    if (op == "create" || op == "open") {
      std::string name;
      unsigned long long capacity = 0;
      in >> name >> capacity;
      const int32_t rc = op == "create" ? zinc.create(name.c_str(), capacity, &handle)
                                        : zinc.open(name.c_str(), &handle);
      if (rc != 0) handle = nullptr;
      std::printf("rc %d\n", rc);
    } else if (op == "capacity") {
      std::printf("capacity %llu\n", static_cast<unsigned long long>(zinc.capacity(handle)));
    } else if (op == "fill" || op == "verify") {
      uint32_t seed = 0;
      in >> seed;
      uint8_t* data = zinc.ptr(handle);
      const uint64_t size = zinc.capacity(handle);
      std::string answer = "ok";
      if (data == nullptr) {
        answer = "no data (zinc_ptr is NULL)";
      } else if (op == "fill") {
        fill_pattern(data, size, seed);
      } else {
        for (uint64_t i = 0; i < size; ++i) {
          if (data[i] != pattern_byte(seed, i)) {
            answer = "mismatch at " + std::to_string(i) + ": " + std::to_string(data[i]) +
                     ", expected " + std::to_string(pattern_byte(seed, i));
            break;
          }
        }
      }
      std::printf("%s\n", answer.c_str());
    } else if (op == "write") {
      uint64_t offset = 0;
      std::string text;
      std::vector<uint8_t> bytes;
      in >> offset >> text;
      if (!from_hex(text, &bytes) || zinc.ptr(handle) == nullptr ||
          offset + bytes.size() > zinc.capacity(handle)) {
        std::printf("bad write\n");
      } else {
        std::memcpy(zinc.ptr(handle) + offset, bytes.data(), bytes.size());
        std::printf("ok\n");
      }
    } else if (op == "read") {
      uint64_t offset = 0;
      uint64_t length = 0;
      in >> offset >> length;
      if (zinc.ptr(handle) == nullptr || offset + length > zinc.capacity(handle)) {
        std::printf("bad read\n");
      } else {
        std::printf("bytes %s\n", to_hex(zinc.ptr(handle) + offset, length).c_str());
      }
    } else if (op == "notify") {
      zinc.notify(handle);
      std::printf("ok\n");
    } else if (op == "try_wait") {
      std::printf("rc %d\n", zinc.try_wait(handle));
    } else if (op == "wait") {
      uint32_t timeout = 0;
      in >> timeout;
      // Announce first: the driver then watches this process fall asleep.
      std::printf("waiting\n");
      std::fflush(stdout);
      const int64_t start = monotonic_ms();
      const int32_t rc = zinc.wait(handle, timeout);
      std::printf("rc %d ms %lld\n", rc, static_cast<long long>(monotonic_ms() - start));
    } else if (op == "inspect") {
      std::string name;
      in >> name;
      if (zinc.inspect == nullptr) {
        std::printf("rc none\n");
      } else {
        std::printf("rc %d\n", zinc.inspect(name.c_str(), nullptr));
      }
    } else if (op == "close") {
      zinc.close(handle);
      handle = nullptr;
      std::printf("ok\n");
    } else if (!serve_channel_command(zinc, op, in, &channel)) {
      std::printf("unknown command '%s'\n", op.c_str());
    }
    std::fflush(stdout);
  }
  if (channel != nullptr) zinc.channel_close(channel);
  if (handle != nullptr) zinc.close(handle);
  return 0;
}

}  // namespace zinc::conformance
