#include "region.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <limits>

#include "futex.hpp"
#include "name.hpp"
#include "removal.hpp"
#include "shared_mappings.hpp"
#include "stale.hpp"
#include "zinc.h"

namespace zinc::core {
namespace {

Status validate_capacity(uint64_t capacity, size_t page) {
  // Overflow and addressability come first so a huge capacity is reported
  // as too large, not as misaligned.
  constexpr uint64_t kMaxObject = uint64_t{std::numeric_limits<std::ptrdiff_t>::max()};
  if (capacity > kMaxObject - page) {
    return Status::error(ZINC_EINVAL,
                         "capacity " + std::to_string(capacity) + " is too large for one mapping");
  }
  if (capacity == 0) return Status::error(ZINC_EINVAL, "capacity must be positive");
  if (capacity % page != 0) {
    return Status::error(ZINC_EINVAL, "capacity " + std::to_string(capacity) +
                                          " is not a multiple of the page size " +
                                          std::to_string(page));
  }
  return Status::ok();
}

}  // namespace

Region::Region(std::string name, uint8_t* base, size_t length, bool owner, posix::ObjectId id,
               WaiterCount* waiters, posix::Fd fd)
    : name_(std::move(name)),
      base_(base),
      length_(length),
      page_size_(posix::page_size()),
      owner_(owner),
      id_(id),
      uses_locks_((reinterpret_cast<Header*>(base)->flags & locks::kRegionFlag) != 0),
      waiters_(waiters),
      waiters_tag_(waiter_count_tag(header()->created_at)),
      pid_(posix::process_id()) {
  fd_.reset(std::move(fd));
}

Status Region::take_handle_locks(int fd, bool creator) {
  if (creator) {
    if (Status s = locks::take(fd, locks::kCreatorByte, locks::Kind::kExclusive); !s.is_ok()) {
      return s;
    }
  }
  Status s = locks::take(fd, locks::kAttachedByte, locks::Kind::kShared);
  if (s.code == ZINC_EBUSY) {
    // Only an exclusive lock conflicts, and no zinc participant takes one
    // on this byte.
    return Status::error(ZINC_EBUSY, "a process outside the protocol write-locks byte " +
                                         std::to_string(locks::kAttachedByte) + " of the object");
  }
  return s;
}

Status Region::create(std::string_view name, uint64_t capacity, uint32_t flags,
                      std::unique_ptr<Region>* out, const Initializer& initialize) {
  if (Status s = validate_name(name); !s.is_ok()) return s;
  const size_t page = posix::page_size();
  if (Status s = validate_capacity(capacity, page); !s.is_ok()) return with_name(s, name);
  constexpr uint32_t kKnownFlags =
      ZINC_CREATE_PREFAULT | ZINC_CREATE_REPLACE_STALE | ZINC_CREATE_NORESERVE;
  if ((flags & ~kKnownFlags) != 0) {
    return Status::error(ZINC_EINVAL, "unknown create flags " + std::to_string(flags));
  }
  const bool reserve = (flags & ZINC_CREATE_NORESERVE) == 0;
  if (!reserve && (flags & ZINC_CREATE_PREFAULT) != 0) {
    return Status::error(ZINC_EINVAL,
                         "ZINC_CREATE_PREFAULT allocates every page; it cannot be combined with "
                         "ZINC_CREATE_NORESERVE");
  }
  const std::string object = object_name(name);
  const uint64_t total = page + capacity;
  const bool replace_stale = (flags & ZINC_CREATE_REPLACE_STALE) != 0;

  // A taken name fails before any page is reserved (the publish below is
  // what decides, atomically; this only saves the work).
  posix::ObjectId existing;
  if (!replace_stale && posix::identify_object(object, &existing).is_ok()) {
    return Status::error(ZINC_EEXIST, "region '" + std::string(name) + "' already exists");
  }
  // The object is built nameless and published complete (publish_object),
  // so no process ever sees a half-made region under the name, and a
  // creator killed here leaves nothing behind. Without O_TMPFILE, the
  // classic shm_open(O_EXCL) path: the name exists from the start.
  posix::Fd fd;
  bool named = false;
  Status created = posix::create_unnamed_object(&fd);
  if (!created.is_ok() && created.code != ZINC_ENOSPC && created.code != ZINC_EPERM &&
      created.code != -EMFILE && created.code != -ENFILE) {
    created = claim_name(name, replace_stale, [&] { return posix::create_object(object, &fd); });
    named = true;
  }
  if (!created.is_ok()) return created.code == ZINC_EEXIST ? created : with_name(created, name);
  uint64_t size = 0;
  posix::ObjectId id;
  uint8_t* base = nullptr;
  Status s = reserve ? posix::reserve(fd.get(), total) : posix::resize(fd.get(), total);
  if (s.is_ok()) s = posix::stat_object(fd.get(), &size, &id);
  if (s.is_ok()) s = mappings::map(fd.get(), id, total, flags & ZINC_CREATE_PREFAULT, &base);
  if (!s.is_ok()) {
    if (named) posix::unlink_object(object);  // we created it; nobody can have opened it yet
    return with_name(s, name);
  }

  // Liveness locks (§4.5), taken before anyone can see the region. A
  // kernel without OFD locks (before Linux 3.15) gets a region without the
  // flag, judged by the pid rule.
  Status locked = take_handle_locks(fd.get(), true);
  if (!locked.is_ok() && locked.code != ZINC_EINVAL) {
    mappings::unmap(base, total);
    if (named) posix::unlink_object(object);
    return with_name(locked, name);
  }

  // Plain fields first, then publish with a release store of the magic: an
  // opener that acquire-loads the magic sees every field below.
  Header* h = reinterpret_cast<Header*>(base);
  h->version = ZINC_FORMAT_VERSION;
  h->flags = locked.is_ok() ? locks::kRegionFlag : 0;
  h->capacity = capacity;
  h->created_at = posix::realtime_ns();
  h->name_hash = name_hash(name);
  h->ref_count.store(1, std::memory_order_relaxed);
  h->owner_pid.store(posix::process_id(), std::memory_order_relaxed);
  // The waiter-count extension, published by the same release store: the
  // owner is its first counted handle.
  auto* waiters = reinterpret_cast<WaiterCount*>(base + kWaiterCountOffset);
  waiters->counted_handles.store(1, std::memory_order_relaxed);
  waiters->sleepers.store(0, std::memory_order_relaxed);
  waiters->tag.store(waiter_count_tag(h->created_at), std::memory_order_relaxed);
  if (initialize) {
    if (Status init = initialize(base + page, fd.get(), locked.is_ok()); !init.is_ok()) {
      mappings::unmap(base, total);
      if (named) posix::unlink_object(object);
      return with_name(init, name);
    }
  }
  h->magic.store(ZINC_MAGIC, std::memory_order_release);

  if (!named) {
    Status published =
        claim_name(name, replace_stale, [&] { return posix::publish_object(fd.get(), object); });
    if (!published.is_ok()) {
      mappings::unmap(base, total);
      return published.code == ZINC_EEXIST ? published : with_name(published, name);
    }
  }
  out->reset(new Region(std::string(name), base, total, true, id, waiters, std::move(fd)));
  return Status::ok();
}

Status Region::claim_name(std::string_view name, bool replace_stale,
                          const std::function<Status()>& attempt) {
  Status claimed = attempt();
  if (claimed.code == ZINC_EEXIST && replace_stale) {
    if (Status removed = replace(name); !removed.is_ok()) return removed;
    claimed = attempt();
  }
  if (claimed.code == ZINC_EEXIST) {
    return Status::error(ZINC_EEXIST, "region '" + std::string(name) + "' already exists");
  }
  return claimed;
}

Status Region::replace(std::string_view name) {
  // Readers of the stale region are not waited for: with its creator dead
  // nobody will publish there again, and their mappings stay valid.
  Status removed = remove_stale(name, ZINC_REMOVE_DEFAULT);
  if (removed.is_ok() || removed.code == ZINC_ENOENT) return Status::ok();
  return Status::error(ZINC_EEXIST, "region '" + std::string(name) +
                                        "' already exists and was not replaced: " +
                                        without_name_prefix(removed.message, name));
}

Status Region::open(std::string_view name, std::unique_ptr<Region>* out) {
  if (Status s = validate_name(name); !s.is_ok()) return s;
  const size_t page = posix::page_size();
  posix::Fd fd;
  if (Status s = posix::open_object(object_name(name), false, &fd); !s.is_ok()) {
    if (s.code == ZINC_ENOENT) {
      return Status::error(ZINC_ENOENT, "no region named '" + std::string(name) + "'");
    }
    return with_name(s, name);
  }
  uint64_t size = 0;
  posix::ObjectId id;
  if (Status s = posix::stat_object(fd.get(), &size, &id); !s.is_ok()) return with_name(s, name);
  // Size first: mapping and touching a short object is what would SIGBUS.
  if (Status s = validate_object_size(size, page); !s.is_ok()) return with_name(s, name);

  uint8_t* base = nullptr;
  if (Status s = mappings::map(fd.get(), id, size, false, &base); !s.is_ok()) {
    return with_name(s, name);
  }
  Header* h = reinterpret_cast<Header*>(base);
  uint8_t snapshot[ZINC_HEADER_SIZE];
  snapshot_region_header(h, snapshot);
  Status s = validate_header(snapshot, size, page);
  const uint64_t expected_hash = name_hash(name);
  if (s.is_ok() && decode_header(snapshot).name_hash != expected_hash) {
    s = Status::error(ZINC_EBADMSG, "name_hash does not match the name (another region's header?)");
  }
  if (s.is_ok()) {
    // Count ourselves in, refusing counts that only corruption produces.
    uint32_t count = h->ref_count.load(std::memory_order_relaxed);
    do {
      if (count == 0 || count == UINT32_MAX) {
        s = Status::error(ZINC_EBADMSG, "ref_count " + std::to_string(count) +
                                            " is impossible for a live region");
        break;
      }
    } while (!h->ref_count.compare_exchange_weak(count, count + 1, std::memory_order_seq_cst));
  }
  if (s.is_ok() && (decode_header(snapshot).flags & locks::kRegionFlag) != 0) {
    // Attached before counted: a judge that finds nobody attached and the
    // creator gone may remove the name, never a region someone still opens.
    s = take_handle_locks(fd.get(), false);
    if (!s.is_ok()) {
      uint32_t count = h->ref_count.load(std::memory_order_relaxed);
      while (count != 0 &&
             !h->ref_count.compare_exchange_weak(count, count - 1, std::memory_order_seq_cst)) {
      }
    }
  }
  if (!s.is_ok()) {
    mappings::unmap(base, size);
    return with_name(s, name);
  }
  // Counted in only after ref_count: while an open is half done, ref_count
  // exceeds the counted handles and notifiers wake, which is always safe.
  WaiterCount* waiters = join_waiter_count(base, decode_header(snapshot).created_at);
  out->reset(new Region(std::string(name), base, size, false, id, waiters, std::move(fd)));
  return Status::ok();
}

WaiterCount* Region::join_waiter_count(uint8_t* base, uint64_t created_at) {
  auto* waiters = reinterpret_cast<WaiterCount*>(base + kWaiterCountOffset);
  if (waiters->tag.load(std::memory_order_acquire) != waiter_count_tag(created_at)) {
    return nullptr;  // a plain v2 creator's region, or a damaged block: always wake
  }
  const auto& ref_count = reinterpret_cast<Header*>(base)->ref_count;
  // The word first, then ref_count: opens raise ref_count before the count
  // and closes lower the count before ref_count, so a concurrent open only
  // widens the gap and a refusal needs a close that falls between the two
  // loads. Such a refusal is retried; a count that stays at or above
  // ref_count is garbage, and the handle stays uncounted, which only makes
  // notifiers wake (docs/spec.md §9.3).
  // A failed compare-and-swap means other handles came or went: look again.
  // Every retry is bounded, so a neighbour that rewrites the word
  // continuously cannot hold an open here.
  constexpr int kRefusals = 8, kAttempts = 1024;
  int refusals = 0;
  for (int attempt = 0; attempt < kAttempts && refusals < kRefusals; ++attempt) {
    uint64_t word = waiters->counted_handles.load(std::memory_order_seq_cst);
    if (testing::waiter_count_join_hook != nullptr) testing::waiter_count_join_hook();
    const uint32_t refs = ref_count.load(std::memory_order_seq_cst);
    // ref_count already includes this handle, so an honest count is below it.
    if (static_cast<uint32_t>(word) >= refs) {
      ++refusals;
      continue;
    }
    if (waiters->counted_handles.compare_exchange_strong(word, word + kCountedHandleChange + 1,
                                                         std::memory_order_seq_cst)) {
      return waiters;
    }
  }
  return nullptr;
}

void Region::unlink_if_owner() {
  if (!owner_ || posix::process_id() != pid_) return;
  unlink_own(object_name(name_), id_);
  owner_ = false;
}

bool Region::name_is_ours() const {
  posix::ObjectId now;
  return posix::identify_object(object_name(name_), &now).is_ok() && now == id_;
}

Region::~Region() {
  if (posix::process_id() != pid_) {
    // A copy inherited through fork(): the handle and its counts belong to
    // the process that made it, which still holds them. Only our mapping
    // goes.
    mappings::unmap(base_, length_);
    return;
  }
  // Counted handles leave before ref_count drops, so at every instant
  // ref_count - counted handles >= the plain handles attached.
  if (waiters_ != nullptr) {
    uint64_t word = waiters_->counted_handles.load(std::memory_order_seq_cst);
    do {
      if (static_cast<uint32_t>(word) == 0) {
        // We were counted, so the block is damaged: turn the extension off
        // for every handle (they all re-check the tag on notify).
        waiters_->tag.store(0, std::memory_order_seq_cst);
        break;
      }
    } while (!waiters_->counted_handles.compare_exchange_weak(word, word + kCountedHandleChange - 1,
                                                              std::memory_order_seq_cst));
  }
  if (owner_) {
    // Unlink by identity: if the name was removed and re-created by someone
    // else, it is not ours to remove. Our mapping keeps our inode alive, so
    // a match cannot be a recycled inode number. The name goes first: a
    // creator killed from here on leaves no name, and one killed before
    // leaves a valid region whose creator lock is free, which gc and
    // REPLACE_STALE recover (a count of 0 under the name would not be).
    unlink_own(object_name(name_), id_);
  }
  // Never below zero, even if another process corrupted the count.
  std::atomic<uint32_t>& count = header()->ref_count;
  uint32_t current = count.load(std::memory_order_relaxed);
  while (current != 0 &&
         !count.compare_exchange_weak(current, current - 1, std::memory_order_acq_rel)) {
  }
  mappings::unmap(base_, length_);
  // fd_ closes after this body, dropping the handle's locks last.
}

// Why skipping the wake is safe (the argument docs/spec.md gives in full):
//
// 1. Counted sleepers. A counted waiter increments `sleepers`, then re-reads
//    notify_seq, and only sleeps if it is unchanged; notify increments
//    notify_seq, then reads `sleepers`. All four are seq_cst, so they fall
//    in one total order: if the waiter's re-read missed the increment, the
//    notifier's read comes later and sees sleepers != 0, and wakes. If the
//    re-read saw it, the waiter does not sleep. (The futex itself re-checks
//    the word in the kernel, closing the gap between re-read and sleep.)
// 2. Plain v2 waiters never register, but each opened its handle, which
//    incremented ref_count, before its futex wait read notify_seq (the
//    locked increment and the kernel's barrier in futex_wait order the two).
//    So a plain waiter that read the old notify_seq is visible in ref_count
//    to a notifier that reads ref_count after its increment. Counted handles
//    join counted_handles after ref_count and leave it before, so at every
//    instant ref_count - counted >= plain handles attached; crashes only
//    leave either count too high. Equal counts, read within one window in
//    which counted_handles (count and change counter) did not move, prove no
//    plain handle was attached when ref_count was read.
// 3. A crashed sleeper leaves `sleepers` too high, and a count that wraps
//    below zero is huge: both only cost wakes. Unknown tags mean "always wake".
bool Region::wake_needed() const {
  if (waiters_ == nullptr) return true;
  const uint64_t before = waiters_->counted_handles.load(std::memory_order_seq_cst);
  if (waiters_->sleepers.load(std::memory_order_seq_cst) != 0) return true;
  if (waiters_->tag.load(std::memory_order_seq_cst) != waiters_tag_) return true;
  const uint32_t refs = header()->ref_count.load(std::memory_order_seq_cst);
  const uint64_t after = waiters_->counted_handles.load(std::memory_order_seq_cst);
  return before != after || static_cast<uint32_t>(before) != refs;
}

void Region::notify() {
  header()->notify_seq.fetch_add(1, std::memory_order_seq_cst);
  if (wake_needed()) futex::wake_all(&header()->notify_seq);
}

bool Region::consume(uint32_t& seen, uint32_t current) {
  return cursor_.compare_exchange_strong(seen, current, std::memory_order_acq_rel);
}

bool Region::poll(uint32_t& seen) {
  for (;;) {
    const uint32_t current = header()->notify_seq.load(std::memory_order_acquire);
    if (current == seen) return false;
    // On failure another thread on this handle consumed it; `seen` is
    // reloaded and we look again, so each change is reported once.
    if (consume(seen, current)) return true;
  }
}

int32_t Region::try_wait() {
  uint32_t seen = cursor_.load(std::memory_order_acquire);
  return poll(seen) ? ZINC_OK : ZINC_EAGAIN;
}

void Region::add_sleeper() {
  if (waiters_ == nullptr) return;  // uncounted: every notify wakes
  const uint32_t before = waiters_->sleepers.fetch_add(1, std::memory_order_seq_cst);
  if (before >= kImpossibleSleepers) {
    // No system runs this many threads: the count is garbage (a peer wrote
    // it), and this increment may have wrapped it to 0, which would let a
    // notifier skip the wake. Turn the extension off for every handle
    // before the caller's re-read: a notifier that then reads sleepers == 0
    // reads the cleared tag too, and wakes (docs/spec.md §9.5).
    waiters_->tag.store(0, std::memory_order_seq_cst);
  }
}

void Region::remove_sleeper() {
  if (waiters_ != nullptr) waiters_->sleepers.fetch_sub(1, std::memory_order_seq_cst);
}

int Region::sleep_until(uint32_t seen, int64_t deadline_ns) {
  std::atomic<uint32_t>* word = &header()->notify_seq;
  add_sleeper();
  if (waiters_ != nullptr && word->load(std::memory_order_seq_cst) != seen) {
    remove_sleeper();
    return 0;
  }
  const int err = futex::wait_until(word, seen, deadline_ns);
  remove_sleeper();
  return err;
}

int32_t Region::wait(uint32_t timeout_ms) {
  uint32_t seen = cursor_.load(std::memory_order_acquire);
  if (poll(seen)) return ZINC_OK;
  if (cancelled_.load(std::memory_order_acquire)) return ZINC_ECANCELED;
  if (timeout_ms == 0) return ZINC_ETIMEDOUT;

  const int64_t start = futex::monotonic_ns();
  const int64_t deadline = start + int64_t{timeout_ms} * 1000000;
  // Poll phase: a peer that answers within the budget is seen a cache-line
  // transfer after it notifies, with no system call on either side. The
  // clock and the cancel flag are checked every few polls only; past the
  // first kPollAloneNs the loop also yields the CPU at each check, so a
  // notifier waiting for this very CPU gets it. When the last wait found the
  // CPU shared, it yields from the first check.
  constexpr uint32_t kPollsPerCheck = 8;
  const int64_t spin_until = std::min(deadline, start + spin_.budget_ns());
  const int64_t poll_alone_ns = spin_.cpu_shared() ? 0 : kPollAloneNs;
  bool shared = false;
  for (uint32_t i = 1; spin_until > start; ++i) {
    cpu_relax();
    if (poll(seen)) {
      spin_.record(futex::monotonic_ns() - start);
      spin_.set_cpu_shared(shared);
      return ZINC_OK;
    }
    if (i % kPollsPerCheck == 0) {
      if (cancelled_.load(std::memory_order_acquire)) return ZINC_ECANCELED;
      const int64_t now = futex::monotonic_ns();
      if (now >= spin_until) break;
      if (now - start >= poll_alone_ns) {
        yield_cpu();
        shared = shared || futex::monotonic_ns() - now > kYieldRanOtherNs;
      }
    }
  }
  // Sleep phase.
  for (;;) {
    if (poll(seen)) {
      spin_.record(futex::monotonic_ns() - start);
      return ZINC_OK;
    }
    if (cancelled_.load(std::memory_order_acquire)) return ZINC_ECANCELED;
    if (futex::monotonic_ns() >= deadline) {
      spin_.record(std::numeric_limits<int64_t>::max());  // nothing came: spin less
      return ZINC_ETIMEDOUT;
    }
    if (const int err = sleep_until(seen, deadline); err != 0) return err;
  }
}

void Region::cancel_waits() {
  cancelled_.store(true, std::memory_order_release);
  // A spurious wake for other processes' waiters: they re-check and sleep.
  futex::wake_all(&header()->notify_seq);
}

}  // namespace zinc::core
