// A wait set: one thread waits for any of many regions and channel
// participants to be ready (docs/spec.md §11). Members are handle values of
// the region and channel handle tables, each with a caller's key; a wait
// pins them for its duration, so a member closed meanwhile wakes the wait
// (its close cancels, which wakes its futex word) and is reported once and
// dropped, never touched after it is gone.
//
// Sleeping: the set registers as a sleeper on every member's futex word
// exactly as that member's own blocking call does, looks at every member,
// and sleeps on all the words at once (multi_wait: futex_waitv, batched
// past 126 members, the batches kept asleep between waits). Where futex_waitv is missing, or with
// ZINC_WAIT_SET=poll in the environment when the set is made, it polls
// instead: a look at every member, then a sleep on the set's own control
// word of 100 us growing to 5 ms.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "multi_wait.hpp"
#include "status.hpp"

namespace zinc::core {

class WaitSet {
 public:
  enum class Kind { kRegion, kChannel };

  WaitSet();
  WaitSet(const WaitSet&) = delete;
  WaitSet& operator=(const WaitSet&) = delete;
  ~WaitSet();

  // Adds a live handle of `kind` under `key`. EEXIST if the handle is a
  // member already, EINVAL if it is not live.
  Status add(Kind kind, void* handle, uint64_t key);
  // ENOENT if `handle` is not a member.
  Status remove(void* handle);
  size_t size();

  // Up to `max_keys` keys of ready members, waiting up to `timeout_ms`
  // (UINT32_MAX: no limit). Returns how many (> 0), or ZINC_ETIMEDOUT,
  // ZINC_ECANCELED (the set was closed meanwhile), ZINC_EAGAIN (interrupt(),
  // or with `on_signal` a signal handler that ended the sleep in this
  // thread), or -errno.
  int32_t wait(uint32_t timeout_ms, uint64_t* keys, uint32_t max_keys, bool on_signal = false);

  // An eventfd that is readable while a member is ready (fed by a thread of
  // the set, started by the first call). A wait() that finds what made it
  // readable clears it.
  int32_t fd();

  // Makes one wait (a current one, else the next) return ZINC_EAGAIN after
  // its look: for a caller that keeps state of its own beside the set (the
  // Python adapter's asyncio waiter) and must look at it again.
  void interrupt();

  // Makes current and future waits return ZINC_ECANCELED; any number of times.
  void cancel();

  // Whether this set was made by another process (inherited through fork).
  bool inherited() const;

  // Whether this set sleeps in futex_waitv (else it polls).
  bool uses_wait_any() const { return wait_any_; }

 private:
  struct Member {
    Kind kind;
    void* handle;
    uint64_t key;
    uint32_t region_cursor;  // regions: the notify_seq the set last reported
    bool judged_ready;       // channels: a look that judged peers found it ready
  };
  class Round;

  // One look at every member and, if none is ready, one sleep. With
  // `consume`, ready members' keys go to `keys` (region cursors move,
  // closed members leave the set); without, only whether any is ready.
  // With `on_signal`, a sleep a signal handler ended returns ZINC_EAGAIN.
  int32_t look_and_sleep(bool consume, int64_t deadline_ns, uint64_t* keys, uint32_t max_keys,
                         int64_t* poll_ns, bool on_signal = false);
  void bump_control();
  void feed_fd();
  // After a wait: lets the fd's thread look again if it signalled.
  void rearm_fd();

  const bool wait_any_;
  const int32_t pid_;
  std::mutex mutex_;  // guards members_ and rotation_
  std::vector<Member> members_;
  size_t rotation_ = 0;  // where the next look starts, for fairness
  // Bumped (and woken) by add, remove, cancel and rearm: wakes every sleep
  // of the set so it looks again.
  std::atomic<uint32_t> control_{0};
  std::atomic<bool> cancelled_{false};
  std::atomic<uint32_t> interrupts_{0};  // interrupt() calls not yet answered
  // The last time a wait asked the kernel about members' peers (ns).
  std::atomic<int64_t> last_judged_ns_{0};

  // Its batches of member words stay asleep from one wait to the next.
  multi_wait::Sleeper sleeper_;

  std::mutex fd_mutex_;  // guards the start of the fd's thread
  int event_fd_ = -1;    // set once, before feeder_ starts
  std::thread feeder_;
  std::mutex signal_mutex_;        // orders the fd's write and read with armed_
  std::atomic<bool> armed_{true};  // the fd's thread may signal
};

}  // namespace zinc::core
