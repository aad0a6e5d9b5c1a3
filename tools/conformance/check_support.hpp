// Small tools the checks share: handles that close themselves, a wait on a
// background thread that the check can watch fall asleep, raw header edits.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "check.hpp"
#include "format.hpp"
#include "library.hpp"

namespace zinc::conformance {

// A candidate handle closed at scope exit (unless leaked).
class Handle {
 public:
  explicit Handle(const Api& api) : api_(&api) {}
  Handle(Handle&& other) noexcept : api_(other.api_), handle_(other.handle_) {
    other.handle_ = nullptr;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { close(); }

  ZincHandle get() const { return handle_; }
  ZincHandle* out() { return &handle_; }
  uint8_t* data() const { return api_->ptr(handle_); }
  void close();
  // Forgets the handle without closing it (a thread may still be inside a
  // call on it; the check process exits soon anyway).
  void leak() { handle_ = nullptr; }

 private:
  const Api* api_;
  ZincHandle handle_ = nullptr;
};

// zinc_create / zinc_open that stop the check unless they return 0.
Handle create_region(CheckContext& ctx, const std::string& name, uint64_t capacity);
Handle open_region(CheckContext& ctx, const std::string& name);

// zinc_wait(handle, timeout_ms) on a thread of its own.
class BackgroundWait {
 public:
  BackgroundWait(const Api& api, Handle& handle, uint32_t timeout_ms);
  BackgroundWait(const BackgroundWait&) = delete;
  BackgroundWait& operator=(const BackgroundWait&) = delete;
  ~BackgroundWait();

  // True once the waiting thread sleeps in the kernel (or after timeout_ms,
  // false, for a port that spins instead of sleeping).
  bool asleep_within(int timeout_ms);
  // True if the wait returned within limit_ms; then rc() and elapsed_ms().
  bool returned_within(int limit_ms);
  int32_t rc() const { return state_->rc.load(); }
  int64_t elapsed_ms() const { return state_->elapsed_ms.load(); }

 private:
  struct State {
    std::atomic<pid_t> tid{0};
    std::atomic<bool> done{false};
    std::atomic<int32_t> rc{0};
    std::atomic<int64_t> elapsed_ms{0};
  };
  Handle& handle_;
  std::shared_ptr<State> state_;
  std::thread thread_;
};

// Returns the raw header of a region (the first 64 bytes of its object).
HeaderFields read_header(const std::string& name);

// A valid header page for `name` with `capacity`, as another implementation
// would write it (owner_pid 4242, created_at 1).
std::vector<uint8_t> valid_header_page(const std::string& name, uint64_t capacity);

class Peer;

// A wait that a notify should end starts with kLongWaitMs and must return
// within kWakeLimitMs of the notify.
inline constexpr uint32_t kLongWaitMs = 10000;
inline constexpr int kWakeLimitMs = 2000;

// The peer's answer "rc N" for `code`.
std::string rc_line(int32_t code);

// Sends "wait MS" to the peer and returns once the peer sleeps in it (after
// at most 2 s; a note says so if it never seemed to sleep).
void start_peer_wait(CheckContext& ctx, Peer& peer, uint32_t timeout_ms);
// The peer's answer to that wait within limit_ms: true and *rc, *elapsed_ms;
// false (and a failure "what: expected ..., still waiting") if it did not
// answer in time.
bool peer_wait_result(CheckContext& ctx, Peer& peer, const std::string& what,
                      const std::string& expected, int limit_ms, int32_t* rc,
                      int64_t* elapsed_ms = nullptr);
// Sends `command` to the peer and checks its one-line answer; returns it.
bool expect_answer(CheckContext& ctx, Peer& peer, const std::string& command,
                   const std::string& expected);
void require_answer(CheckContext& ctx, Peer& peer, const std::string& command,
                    const std::string& expected);
// "rc N" answers as a code (or a failure and INT32_MIN for anything else).
int32_t peer_rc(CheckContext& ctx, const std::string& what, const std::string& answer);

// Runs `body` in a forked child that first switches to user and group 65534
// ("nobody"); returns body's result, or -1 if the switch failed.
int run_as_nobody(const std::function<int()>& body);

}  // namespace zinc::conformance
