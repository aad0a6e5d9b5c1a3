// Shared helpers for the unit tests: unique region names, cleanup guards,
// raw access to objects in /dev/shm, and a scripted peer process.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "zinc.h"

namespace zinc::test {

// A name no other test or test run uses: "t<pid>-<scenario>-<counter>-<random>".
// Sanitizer builds run every test several times slower. A test that
// repeats one scenario many times for confidence repeats it fewer times
// there; the release build runs the full count.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitizerBuild = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kSanitizerBuild = true;
#else
inline constexpr bool kSanitizerBuild = false;
#endif
#else
inline constexpr bool kSanitizerBuild = false;
#endif

std::string unique_name(std::string_view scenario);

// Sets one of the core's test seams (zinc::core::testing::*_hook) for a
// scope and clears it however the scope ends, a failed ASSERT included.
class HookGuard {
 public:
  HookGuard(void (**hook)(), void (*fn)()) : hook_(hook) { *hook_ = fn; }
  HookGuard(const HookGuard&) = delete;
  HookGuard& operator=(const HookGuard&) = delete;
  ~HookGuard() { *hook_ = nullptr; }

 private:
  void (**hook_)();
};

// Unlinks "/zinc_<name>" when it goes out of scope, whatever the test did.
class ObjectGuard {
 public:
  explicit ObjectGuard(std::string name) : name_(std::move(name)) {}
  ObjectGuard(const ObjectGuard&) = delete;
  ObjectGuard& operator=(const ObjectGuard&) = delete;
  ~ObjectGuard();
  const std::string& name() const { return name_; }
  const char* c_str() const { return name_.c_str(); }

 private:
  std::string name_;
};

// Closes a channel at the end of the scope, whatever the test did.
class ChannelGuard {
 public:
  ChannelGuard() = default;
  ChannelGuard(const ChannelGuard&) = delete;
  ChannelGuard& operator=(const ChannelGuard&) = delete;
  ~ChannelGuard() { zinc_channel_close(channel); }
  ZincChannel* out() { return &channel; }
  operator ZincChannel() const { return channel; }
  ZincChannel channel = nullptr;
};

// Closes a region handle at the end of the scope, whatever the test did.
class RegionGuard {
 public:
  RegionGuard() = default;
  RegionGuard(const RegionGuard&) = delete;
  RegionGuard& operator=(const RegionGuard&) = delete;
  ~RegionGuard() { zinc_close(handle); }
  ZincHandle* out() { return &handle; }
  operator ZincHandle() const { return handle; }
  ZincHandle handle = nullptr;
};

// Where region `name`'s object lives: "/dev/shm/zinc_<name>".
std::string object_path(const std::string& name);
bool object_exists(const std::string& name);
// Bytes of /dev/shm the object holds (its allocated pages); 0 if it is gone.
uint64_t allocated_bytes(const std::string& name);
// Writes `bytes` as the whole content of "/zinc_<name>", then sizes the
// object to `size` (which may be shorter or longer than bytes).
void write_raw_object(const std::string& name, const std::vector<uint8_t>& bytes, uint64_t size);
std::vector<uint8_t> read_raw_object(const std::string& name);

// The header page of a valid region with `capacity` bytes named `name`.
std::vector<uint8_t> valid_header_page(const std::string& name, uint64_t capacity);
// A valid one-page region, written raw, whose header says `owner` created it
// at `created_at` (CLOCK_REALTIME ns).
void write_region(const std::string& name, int32_t owner, uint64_t created_at);

// CLOCK_REALTIME in ns: the clock of the header's created_at.
uint64_t realtime_ns();
// A pid no process has now: a child that exited and was reaped.
pid_t dead_pid();
bool contains(const std::string& text, const std::string& part);

// Runs `call` in a forked child, bounded in time: a call that blocks (in an
// open of a FIFO, say) is killed after timeout_ms and reported unfinished.
struct ChildResult {
  bool finished = false;
  int32_t value = 0;
};
ChildResult call_in_child(const std::function<int32_t()>& call, int timeout_ms);

// Whether thread `tid` of this process is blocked in the futex (or futex_waitv) system call
// (from /proc/self/task/<tid>/syscall): a waiter that really sleeps.
bool thread_in_futex(pid_t tid);
// Polls for up to 5 s until the thread whose id `tid` will hold (0 until
// it has started) sleeps in the futex; whether it does.
bool await_futex_sleep(const std::atomic<pid_t>& tid);

// The waiter-count block's `sleepers` word (docs/spec.md §9) of the region
// whose data starts at `data` (a region's or a channel's), as every process
// sees it: how many counted handles are asleep, or about to be, in a futex
// wait.
uint32_t sleepers_at(const uint8_t* data);
uint32_t sleepers_of(ZincHandle region);

// Another process running tests/peer.cpp; commands are lines on its stdin,
// each answered by one line on its stdout.
class Peer {
 public:
  Peer();
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;
  ~Peer();  // sends "exit" and reaps; kills after a generous grace period
  // Sends one command and returns its one-line answer (without newline).
  std::string call(const std::string& command);
  // Sends a command without reading the answer (for a blocking wait).
  void send(const std::string& command);
  std::string read_line();
  void kill_hard();  // SIGKILL, as a crash would
  int wait_exit();   // exit status, or 128+signal
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int to_peer_ = -1;
  int from_peer_ = -1;
  std::string buffered_;
  bool reaped_ = false;
  int status_ = 0;
};

}  // namespace zinc::test
