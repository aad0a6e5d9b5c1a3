// A mapped region and one handle's view of it: lifecycle, cursor, notify/wait.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "header.hpp"
#include "locks.hpp"
#include "posix.hpp"
#include "spin_policy.hpp"
#include "status.hpp"

namespace zinc::core {

namespace testing {
// Test seam for a race that timing cannot force: when set, an opener joining
// the waiter count calls it between its load of the count word and its load
// of ref_count (tests/waiter_count_test.cpp opens and closes other handles
// exactly there). Null in every real use.
inline void (*waiter_count_join_hook)() = nullptr;
}  // namespace testing

class Region {
 public:
  // Creates "/zinc_<name>" with `capacity` usable bytes; the result owns the
  // name and unlinks it when destroyed. `flags` are ZINC_CREATE_* bits; with
  // ZINC_CREATE_REPLACE_STALE a stale region holding the name is removed
  // first (remove_stale) and the create retried once.
  // `initialize` (optional) lays out the data area, given the object's
  // descriptor (for locks), before the region is published: nobody ever
  // sees the region without it. A failure there fails the create.
  using Initializer = std::function<Status(uint8_t* data, int fd, bool uses_locks)>;
  static Status create(std::string_view name, uint64_t capacity, uint32_t flags,
                       std::unique_ptr<Region>* out, const Initializer& initialize = nullptr);
  static Status open(std::string_view name, std::unique_ptr<Region>* out);

  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;
  // Drops the reference, unlinks the name if this is the owner and the name
  // still refers to this object, and unmaps. In a process other than the
  // one that made the handle (a fork child), only unmaps.
  ~Region();

  uint8_t* data() const { return base_ + page_size_; }
  size_t capacity() const { return length_ - page_size_; }
  const std::string& name() const { return name_; }
  // Whether this region's participants hold liveness locks (§4.5), and the
  // descriptor this handle holds them through (-1 in a fork() child).
  bool uses_locks() const { return uses_locks_; }
  int lock_fd() const { return fd_.get(); }

  // The owner gives up the name now rather than at close (identity-safe,
  // as the close would); afterwards the handle is no longer the owner.
  void unlink_if_owner();
  // Whether the name still refers to this handle's object.
  bool name_is_ours() const;

  // Bumps notify_seq and wakes the futex unless wake_needed() proves that
  // no thread in any process can be asleep on it.
  void notify();
  // ZINC_OK if this call consumed a notification, else ZINC_EAGAIN.
  int32_t try_wait();
  // Polls for up to the spin budget, then sleeps in the futex.
  // ZINC_OK, ZINC_ETIMEDOUT, ZINC_ECANCELED (cancel_waits) or -errno.
  int32_t wait(uint32_t timeout_ms);
  // Makes every current and future wait() on this handle return
  // ZINC_ECANCELED promptly. Called by close from another thread.
  void cancel_waits();

  // For a waiter that sleeps on this region among others (a wait set,
  // docs/spec.md §11): the futex word notify() bumps and wakes, and the
  // sleeper registration a waiter holds from before its last look at the
  // word until it is awake again, so that notify() cannot skip the wake.
  std::atomic<uint32_t>* notify_word() const { return &header()->notify_seq; }
  // The last notify_seq this handle consumed.
  uint32_t cursor() const { return cursor_.load(std::memory_order_acquire); }
  void add_sleeper();
  void remove_sleeper();

  // The "waiter count" extension (docs/spec.md). False when this handle
  // does not take part: a region made by a plain v2 creator, or counters
  // that failed the sanity checks at open. Such a handle always wakes.
  bool counts_waiters() const { return waiters_ != nullptr; }
  // The process that made this handle; in a fork() child the copy is not
  // its own (see the destructor).
  int32_t owner_pid() const { return pid_; }
  // Whether a notify now must call FUTEX_WAKE: true unless this handle
  // counts waiters, no counted thread sleeps, and every attached handle is
  // a counted one (so no plain v2 peer can be asleep unregistered).
  bool wake_needed() const;

  // The spin limit of this handle's waits, in microseconds (0 = never spin).
  void set_spin_limit_us(uint32_t limit_us) { spin_.set_limit_us(limit_us); }
  const SpinPolicy& spin_policy() const { return spin_; }

 private:
  Region(std::string name, uint8_t* base, size_t length, bool owner, posix::ObjectId id,
         WaiterCount* waiters, posix::Fd fd);
  Header* header() const { return reinterpret_cast<Header*>(base_); }
  // Runs `attempt` (shm_open(O_EXCL), or linkat of the finished nameless
  // object); on EEXIST with replace_stale removes the stale region holding
  // the name and tries once more. A name still taken is ZINC_EEXIST.
  static Status claim_name(std::string_view name, bool replace_stale,
                           const std::function<Status()>& attempt);
  // Removes the stale region holding the name; ZINC_EEXIST with the reason
  // when it is not stale.
  static Status replace(std::string_view name);
  // Takes the locks of §4.5 a new handle holds: attached (shared), and
  // for the creator the creator lock (exclusive).
  static Status take_handle_locks(int fd, bool creator);
  // Counts a newly opened handle in, if the region carries a sane extension.
  static WaiterCount* join_waiter_count(uint8_t* base, uint64_t created_at);
  // Advances the cursor to `current` if it still equals `seen`.
  bool consume(uint32_t& seen, uint32_t current);
  // Consumes a pending change if there is one; `seen` follows the cursor.
  bool poll(uint32_t& seen);
  // One futex sleep while notify_seq == seen, registered as a sleeper.
  int sleep_until(uint32_t seen, int64_t deadline_ns);

  std::string name_;
  uint8_t* base_;
  size_t length_;
  size_t page_size_;
  bool owner_;
  posix::ObjectId id_;
  // Kept open for the handle's lifetime: it holds the handle's locks.
  locks::ProcessFd fd_;
  bool uses_locks_;
  // Last notify_seq this handle consumed. Starts at 0 for every handle, so a
  // handle opened after earlier notifications sees one pending (format rule).
  std::atomic<uint32_t> cursor_{0};
  std::atomic<bool> cancelled_{false};
  // The region's extension block when this handle is counted, else null.
  WaiterCount* waiters_;
  uint64_t waiters_tag_ = 0;
  // The process that made this handle. A copy inherited by a fork()ed child
  // only unmaps when closed there: no unlink, no shared count changes.
  int32_t pid_;
  SpinPolicy spin_;
};

}  // namespace zinc::core
