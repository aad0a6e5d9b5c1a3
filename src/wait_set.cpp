#include "wait_set.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "channel.hpp"
#include "futex.hpp"
#include "handle_table.hpp"
#include "multi_wait.hpp"
#include "posix.hpp"
#include "region.hpp"
#include "zinc.h"

namespace zinc::core {
namespace {

// How often a waiting set asks the kernel whether its channels' peers died
// (a killed writer or reader never notifies): the delay before a set sees
// what a blocking read or acquire would report after the same delay.
constexpr int64_t kJudgeIntervalNs = 1'000'000'000;
// The polling fallback's sleeps between looks: short at first, so a member
// that becomes ready soon is seen soon, then growing to the longest delay.
constexpr int64_t kFirstPollNs = 100'000;
constexpr int64_t kLongestPollNs = 5'000'000;

bool polling_forced() {
  const char* mode = std::getenv("ZINC_WAIT_SET");
  return mode != nullptr && std::strcmp(mode, "poll") == 0;
}

}  // namespace

WaitSet::WaitSet()
    : wait_any_(!polling_forced() && futex::wait_any_available()), pid_(posix::process_id()) {}

WaitSet::~WaitSet() {
  cancel();
  if (feeder_.joinable()) {
    if (posix::process_id() == pid_) {
      feeder_.join();
    } else {
      // A fork() child's copy names a thread only the parent has.
      new std::thread(std::move(feeder_));
    }
  }
  if (event_fd_ >= 0) ::close(event_fd_);
}

Status WaitSet::add(Kind kind, void* handle, uint64_t key) {
  const bool live = kind == Kind::kRegion
                        ? HandleTable<Region>::Pin(region_handles(), handle).get() != nullptr
                        : HandleTable<Channel>::Pin(channel_handles(), handle).get() != nullptr;
  if (!live) {
    return Status::error(ZINC_EINVAL, std::string("wait set: not a live ") +
                                          (kind == Kind::kRegion ? "region" : "channel") +
                                          " handle");
  }
  uint32_t cursor = 0;
  if (kind == Kind::kRegion) {
    // The set starts where the handle is: a notification the handle has
    // not consumed yet is reported at once, as zinc_wait would.
    HandleTable<Region>::Pin pin(region_handles(), handle);
    if (pin.get() != nullptr) cursor = pin->cursor();
  }
  {
    std::lock_guard lock(mutex_);
    for (const Member& m : members_) {
      if (m.handle == handle) {
        return Status::error(ZINC_EEXIST, "wait set: the handle is a member already (key " +
                                              std::to_string(m.key) + ")");
      }
    }
    members_.push_back({kind, handle, key, cursor, false});
  }
  bump_control();
  return Status::ok();
}

Status WaitSet::remove(void* handle) {
  {
    std::lock_guard lock(mutex_);
    auto it = std::find_if(members_.begin(), members_.end(),
                           [&](const Member& m) { return m.handle == handle; });
    if (it == members_.end()) {
      return Status::error(ZINC_ENOENT, "wait set: the handle is not a member");
    }
    members_.erase(it);
  }
  bump_control();
  return Status::ok();
}

bool WaitSet::inherited() const {
  return posix::process_id() != pid_;
}

size_t WaitSet::size() {
  std::lock_guard lock(mutex_);
  return members_.size();
}

void WaitSet::bump_control() {
  control_.fetch_add(1, std::memory_order_seq_cst);
  futex::wake_all(&control_);
}

void WaitSet::interrupt() {
  interrupts_.fetch_add(1, std::memory_order_seq_cst);
  bump_control();
}

void WaitSet::cancel() {
  cancelled_.store(true, std::memory_order_seq_cst);
  bump_control();
}

// What one look holds on to: a pin per member (so none is destroyed while
// the look uses it) and the sleeper registrations it made.
class WaitSet::Round {
 public:
  explicit Round(size_t n)
      : regions_(new std::optional<HandleTable<Region>::Pin>[n]),
        channels_(new std::optional<HandleTable<Channel>::Pin>[n]) {}
  Round(const Round&) = delete;
  Round& operator=(const Round&) = delete;
  ~Round() {
    for (Region* r : registered_regions_) r->remove_sleeper();
    for (Channel* c : registered_channels_) c->remove_sleeper();
  }

  Region* pin_region(size_t i, void* handle) {
    return regions_[i].emplace(region_handles(), handle).get();
  }
  Channel* pin_channel(size_t i, void* handle) {
    return channels_[i].emplace(channel_handles(), handle).get();
  }
  // Registers as a sleeper on the word the member's own wait sleeps on and
  // reads the word's value to sleep on (after the registration, before the
  // look at the member: the order of §11.2).
  void watch(Region* region) {
    region->add_sleeper();
    registered_regions_.push_back(region);
    watches_.push_back(
        {region->notify_word(), region->notify_word()->load(std::memory_order_seq_cst)});
  }
  void watch(Channel* channel) {
    channel->add_sleeper();
    registered_channels_.push_back(channel);
    watches_.push_back(
        {channel->wake_word(), channel->wake_word()->load(std::memory_order_seq_cst)});
  }
  const std::vector<futex::Watch>& watches() const { return watches_; }

 private:
  std::unique_ptr<std::optional<HandleTable<Region>::Pin>[]> regions_;
  std::unique_ptr<std::optional<HandleTable<Channel>::Pin>[]> channels_;
  std::vector<Region*> registered_regions_;
  std::vector<Channel*> registered_channels_;
  std::vector<futex::Watch> watches_;
};

int32_t WaitSet::look_and_sleep(bool consume, int64_t deadline_ns, uint64_t* keys,
                                uint32_t max_keys, int64_t* poll_ns, bool on_signal) {
  const uint32_t control_seen = control_.load(std::memory_order_seq_cst);
  if (cancelled_.load(std::memory_order_seq_cst)) return ZINC_ECANCELED;
  std::vector<Member> members;
  size_t start = 0;
  {
    std::lock_guard lock(mutex_);
    members = members_;
    start = members.empty() ? 0 : rotation_ % members.size();
  }
  const size_t n = members.size();
  const bool has_channels = std::any_of(members.begin(), members.end(),
                                        [](const Member& m) { return m.kind == Kind::kChannel; });
  int64_t now = futex::monotonic_ns();
  int64_t judged = last_judged_ns_.load(std::memory_order_relaxed);
  const bool judge = has_channels && now - judged >= kJudgeIntervalNs &&
                     last_judged_ns_.compare_exchange_strong(judged, now);

  // Register and read the words first, then look: a member that becomes
  // ready after its look changes its word after the read, so the sleep
  // below returns at once (and a notifier sees the registration).
  Round round(n);
  std::vector<Region*> regions(n, nullptr);
  std::vector<Channel*> channels(n, nullptr);
  std::vector<bool> closed(n, false);
  std::vector<size_t> watched;  // the member of each of round.watches()
  watched.reserve(n);
  // In member order, not the look's rotating one: a sleep keeps the
  // batches of words that the last one had at the same places (multi_wait).
  for (size_t i = 0; i < n; ++i) {
    const Member& m = members[i];
    if (m.kind == Kind::kRegion) {
      regions[i] = round.pin_region(i, m.handle);
      closed[i] = regions[i] == nullptr;
      if (!closed[i] && wait_any_) round.watch(regions[i]);
    } else {
      channels[i] = round.pin_channel(i, m.handle);
      closed[i] = channels[i] == nullptr;
      if (!closed[i] && wait_any_) round.watch(channels[i]);
    }
    if (!closed[i] && wait_any_) watched.push_back(i);
  }
  auto is_ready = [&](size_t i, bool judging) {
    const Member& m = members[i];
    if (closed[i] || m.judged_ready) return true;
    if (regions[i] != nullptr) {
      return regions[i]->notify_word()->load(std::memory_order_seq_cst) != m.region_cursor;
    }
    return channels[i]->ready(judging);
  };
  // Reports the members in `ready` (consume), or only that there are some.
  auto report = [&](const std::vector<size_t>& ready, bool judging) -> int32_t {
    std::lock_guard lock(mutex_);
    if (!consume) {
      // Remember what only a judgement found, for the wait that reports it.
      if (judging) {
        for (size_t i : ready) {
          for (Member& m : members_) {
            if (m.handle == members[i].handle && channels[i] != nullptr) m.judged_ready = true;
          }
        }
      }
      return 1;
    }
    uint32_t count = 0;
    for (size_t i : ready) {
      if (count == max_keys) break;
      auto it = std::find_if(members_.begin(), members_.end(),
                             [&](const Member& m) { return m.handle == members[i].handle; });
      if (it == members_.end()) continue;  // removed meanwhile
      // A handle whose close began (it waits for this look's pin) is
      // reported as closed now, once: it would not pin at the next look.
      const bool gone =
          closed[i] || (regions[i] != nullptr ? region_handles().find(it->handle) == nullptr
                                              : channel_handles().find(it->handle) == nullptr);
      if (gone) {
        keys[count++] = it->key;
        members_.erase(it);
        continue;
      }
      if (regions[i] != nullptr) {
        // Another waiter on this set may have reported it meanwhile.
        const uint32_t now_seq = regions[i]->notify_word()->load(std::memory_order_seq_cst);
        if (now_seq == it->region_cursor) continue;
        it->region_cursor = now_seq;
      }
      it->judged_ready = false;
      keys[count++] = it->key;
    }
    ++rotation_;
    return static_cast<int32_t>(count);
  };

  std::vector<size_t> ready;
  for (size_t k = 0; k < n; ++k) {
    const size_t i = (start + k) % n;
    if (is_ready(i, judge)) ready.push_back(i);
  }
  if (!ready.empty()) return report(ready, judge);
  if (consume) {
    uint32_t pending = interrupts_.load(std::memory_order_seq_cst);
    while (pending != 0) {
      if (interrupts_.compare_exchange_weak(pending, pending - 1)) return ZINC_EAGAIN;
    }
  }

  if (control_.load(std::memory_order_seq_cst) != control_seen) return 0;
  now = futex::monotonic_ns();
  if (now >= deadline_ns) return ZINC_ETIMEDOUT;
  int64_t until = deadline_ns;
  if (has_channels) {
    until = std::min(until, last_judged_ns_.load(std::memory_order_relaxed) + kJudgeIntervalNs);
  }
  bool interrupted = false;
  int err = 0;
  if (!wait_any_) {
    err = futex::wait_until(&control_, control_seen, std::min(until, now + *poll_ns), &interrupted);
    *poll_ns = std::min(*poll_ns * 2, kLongestPollNs);
  } else {
    int woken = -1;
    err = sleeper_.sleep(round.watches(), {&control_, control_seen}, until, &woken, &interrupted);
    // The member whose word woke the sleep is most likely what is ready:
    // look at it alone while it is still pinned, instead of a whole new
    // look. (The others stay ready for the next wait: channels are
    // level-triggered and regions keep their cursor.)
    if (err == 0 && woken >= 0 && static_cast<size_t>(woken) < watched.size() &&
        is_ready(watched[static_cast<size_t>(woken)], false)) {
      return report({watched[static_cast<size_t>(woken)]}, false);
    }
  }
  // The caller's signal handler has run: its caller may have to act on it
  // (Python raises KeyboardInterrupt) before the set sleeps again.
  if (err == 0 && interrupted && on_signal) return ZINC_EAGAIN;
  return err;
}

int32_t WaitSet::wait(uint32_t timeout_ms, uint64_t* keys, uint32_t max_keys, bool on_signal) {
  const int64_t deadline = timeout_ms == UINT32_MAX
                               ? INT64_MAX
                               : futex::monotonic_ns() + int64_t{timeout_ms} * 1'000'000;
  int64_t poll_ns = kFirstPollNs;
  int32_t rc = 0;
  do {
    rc = look_and_sleep(true, deadline, keys, max_keys, &poll_ns, on_signal);
  } while (rc == 0);
  if (rc != ZINC_ECANCELED) rearm_fd();
  return rc;
}

int32_t WaitSet::fd() {
  std::lock_guard lock(fd_mutex_);
  if (event_fd_ >= 0) return event_fd_;
  const int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return -errno;
  event_fd_ = fd;
  feeder_ = std::thread([this] { feed_fd(); });
  return fd;
}

void WaitSet::feed_fd() {
  int64_t poll_ns = kFirstPollNs;
  while (!cancelled_.load(std::memory_order_seq_cst)) {
    if (!armed_.load(std::memory_order_seq_cst)) {
      // Signalled: sleep until a wait() rearms (or the set closes).
      const uint32_t seen = control_.load(std::memory_order_seq_cst);
      if (!armed_.load(std::memory_order_seq_cst) && !cancelled_.load(std::memory_order_seq_cst)) {
        futex::wait_until(&control_, seen, INT64_MAX);
      }
      continue;
    }
    const int32_t rc = look_and_sleep(false, INT64_MAX, nullptr, 0, &poll_ns);
    if (rc == 0 || rc == ZINC_ECANCELED) continue;
    // Ready, or a failure the next wait() reports: either way, readable.
    // The write and the flag change together under the lock, so a wait()
    // that rearms drains this write or none (a wait() that consumed what
    // the look above saw, before this, leaves one spurious wake-up).
    {
      std::lock_guard lock(signal_mutex_);
      const uint64_t one = 1;
      [[maybe_unused]] const ssize_t written = ::write(event_fd_, &one, sizeof one);
      armed_.store(false, std::memory_order_seq_cst);
    }
    poll_ns = kFirstPollNs;
  }
}

void WaitSet::rearm_fd() {
  {
    // Always under the lock: the fd's thread may have written but not yet
    // disarmed, and then this must wait for it and drain.
    std::lock_guard lock(signal_mutex_);
    if (armed_.load(std::memory_order_seq_cst)) return;  // not signalled (or no fd)
    uint64_t count = 0;
    [[maybe_unused]] const ssize_t drained = ::read(event_fd_, &count, sizeof count);
    armed_.store(true, std::memory_order_seq_cst);
  }
  bump_control();
}

}  // namespace zinc::core
