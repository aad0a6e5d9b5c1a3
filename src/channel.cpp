#include "channel.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "futex.hpp"
#include "liveness.hpp"
#include "locks.hpp"
#include "name.hpp"

namespace zinc::core {
namespace {

// How often a held-back lossless writer (or a reader facing a full table)
// asks /proc whether the readers in its way still live.
constexpr int64_t kReclaimIntervalNs = 50'000'000;
// How many times a latest-value reader retries a slot the writer took
// between the reader's load of latest_slot and its pin before it waits for
// the next notification instead.
constexpr int kLatestRetries = 64;

constexpr uint32_t kRegionFlags =
    ZINC_CREATE_PREFAULT | ZINC_CREATE_REPLACE_STALE | ZINC_CREATE_NORESERVE;

template <typename T>
void put(uint8_t* bytes, size_t offset, T value) {
  std::memcpy(bytes + offset, &value, sizeof value);
}

// The header as one consistent-enough copy: every field read with the
// access its writers use (atomics atomically), so that a snapshot of a
// live channel is no data race.
void snapshot_header(const ChannelHeader* h, uint8_t* out) {
  std::memset(out, 0, ZINC_CHANNEL_HEADER_SIZE);
  put(out, 0, h->magic.load(std::memory_order_acquire));
  put(out, 8, h->version);
  put(out, 10, h->mode);
  put(out, 12, h->flags);
  put(out, 16, h->slot_count);
  put(out, 20, h->max_readers);
  put(out, 24, h->slot_size);
  put(out, 32, h->write_seq.load(std::memory_order_acquire));
  put(out, 40, h->latest_slot.load(std::memory_order_acquire));
  put(out, 44, h->release_seq.load(std::memory_order_relaxed));
  put(out, 48, h->writer_sleeping.load(std::memory_order_relaxed));
  put(out, 56, h->writer.load(std::memory_order_acquire));
  put(out, 64, h->writer_joined_at.load(std::memory_order_relaxed));
  put(out, 72, h->frame_type);  // written once before the magic: a plain copy
}

uint64_t round_up(uint64_t n, uint64_t to) {
  return (n + to - 1) / to * to;
}

int64_t deadline_after(uint32_t timeout_ms) {
  return futex::monotonic_ns() + int64_t{timeout_ms} * 1'000'000;
}

}  // namespace

Channel::Channel(std::unique_ptr<Region> region, const ZincChannelInfo& layout, Role role)
    : region_(std::move(region)),
      header_(reinterpret_cast<ChannelHeader*>(region_->data())),
      entries_(reinterpret_cast<ReaderEntry*>(region_->data() + ZINC_CHANNEL_HEADER_SIZE)),
      map_(reinterpret_cast<std::atomic<uint32_t>*>(region_->data() + ZINC_CHANNEL_HEADER_SIZE +
                                                    uint64_t{layout.max_readers} *
                                                        ZINC_CHANNEL_ENTRY_SIZE)),
      slots_(region_->data() + layout.slots_offset),
      mode_(layout.mode),
      slot_count_(layout.slot_count),
      max_readers_(layout.max_readers),
      slot_size_(layout.slot_size),
      slot_stride_(layout.slot_stride),
      role_(role),
      locks_(region_->uses_locks()) {
  region_id_known_ = posix::identify_object(object_name(region_->name()), &region_id_).is_ok();
}

Status Channel::create(std::string_view name, uint32_t mode, uint32_t slot_count,
                       uint64_t slot_size, uint32_t max_readers, uint32_t flags,
                       const ZincChannelFrameType* type, std::unique_ptr<Channel>* out) {
  if (Status s = validate_name(name); !s.is_ok()) return s;
  ChannelGeometry geometry;
  if (Status s = channel_geometry(mode, slot_count, slot_size, max_readers, &geometry);
      !s.is_ok()) {
    return with_name(s, name);
  }
  if ((flags & ~(kRegionFlags | ZINC_CHANNEL_CREATE_READER)) != 0) {
    return with_name(
        Status::error(ZINC_EINVAL, "unknown channel create flags " + std::to_string(flags)), name);
  }
  const Role role = (flags & ZINC_CHANNEL_CREATE_READER) != 0 ? Role::kReader : Role::kWriter;
  const int32_t pid = posix::process_id();
  const uint64_t joined_word = owner_word(pid, true, 1);
  // The channel is laid out, and the creator's role taken, before the
  // region is published: nobody sees a half-made channel or can take the
  // creator's role first, and a creator killed here leaves nothing.
  auto lay_out = [&](uint8_t* data, int fd, bool uses_locks) -> Status {
    const size_t page = posix::page_size();
    const uint64_t byte =
        role == Role::kWriter ? locks::writer_byte(page) : locks::reader_byte(page, 0);
    if (uses_locks) {
      if (Status s = locks::take(fd, byte, locks::Kind::kExclusive); !s.is_ok()) return s;
    }
    auto* h = reinterpret_cast<ChannelHeader*>(data);
    h->version = ZINC_CHANNEL_VERSION;
    h->mode = static_cast<uint16_t>(mode);
    h->flags = 0;
    h->slot_count = slot_count;
    h->max_readers = max_readers;
    h->slot_size = slot_size;
    if (type != nullptr) h->frame_type = *type;
    h->latest_slot.store(kNoSlot, std::memory_order_relaxed);
    const uint64_t now = posix::realtime_ns();
    if (role == Role::kWriter) {
      h->writer_joined_at.store(now, std::memory_order_relaxed);
      h->writer.store(joined_word, std::memory_order_relaxed);
    } else {
      // Entry 0; lossless cursor 0 = write_seq of a new channel.
      auto* e = reinterpret_cast<ReaderEntry*>(data + ZINC_CHANNEL_HEADER_SIZE);
      e->joined_at.store(now, std::memory_order_relaxed);
      e->owner.store(joined_word, std::memory_order_relaxed);
    }
    // The region's release store of its magic publishes all of this; the
    // channel magic keeps its own release store for readers of the bytes.
    h->magic.store(ZINC_CHANNEL_MAGIC, std::memory_order_release);
    return Status::ok();
  };
  std::unique_ptr<Region> region;
  const uint64_t capacity = round_up(geometry.required_bytes, posix::page_size());
  if (Status s = Region::create(name, capacity, flags & kRegionFlags, &region, lay_out);
      !s.is_ok()) {
    return s;
  }
  uint8_t snapshot[ZINC_CHANNEL_HEADER_SIZE];
  snapshot_header(reinterpret_cast<ChannelHeader*>(region->data()), snapshot);
  std::unique_ptr<Channel> channel(
      new Channel(std::move(region), decode_channel_header(snapshot), role));
  channel->my_word_ = joined_word;
  channel->entry_index_ = 0;
  channel->joined_ = true;
  if (role == Role::kWriter) channel->resume_writing();
  *out = std::move(channel);
  return Status::ok();
}

Status Channel::open(std::string_view name, Role role, std::unique_ptr<Channel>* out) {
  std::unique_ptr<Region> region;
  if (Status s = Region::open(name, &region); !s.is_ok()) return s;
  if (region->capacity() < ZINC_CHANNEL_HEADER_SIZE) {
    return with_name(Status::error(ZINC_EBADMSG, "channel: the data area is too small"), name);
  }
  uint8_t snapshot[ZINC_CHANNEL_HEADER_SIZE];
  snapshot_header(reinterpret_cast<ChannelHeader*>(region->data()), snapshot);
  if (Status s = validate_channel(snapshot, sizeof snapshot, region->capacity()); !s.is_ok()) {
    return with_name(s, name);
  }
  std::unique_ptr<Channel> channel(
      new Channel(std::move(region), decode_channel_header(snapshot), role));
  Status joined = role == Role::kWriter ? channel->join_writer() : channel->join_reader();
  if (!joined.is_ok()) return with_name(joined, name);
  *out = std::move(channel);
  return Status::ok();
}

std::atomic<uint64_t>& Channel::role_word() const {
  return role_ == Role::kWriter ? header_->writer : entry(entry_index_).owner;
}

uint64_t Channel::lock_byte_of_reader(uint32_t index) const {
  return locks::reader_byte(posix::page_size(), index);
}

Status Channel::check_call(Role expected, const char* call) const {
  const int32_t joined_by = region_->owner_pid();
  if (posix::process_id() != joined_by) {
    return Status::error(ZINC_EINVAL,
                         "channel: this handle was inherited through fork(); the role is the "
                         "parent's (pid " +
                             std::to_string(joined_by) + "): open the channel again in the child");
  }
  if (role_ != expected) {
    return Status::error(ZINC_EINVAL, std::string("channel: ") + call + " on " +
                                          (role_ == Role::kWriter ? "the writer" : "a reader"));
  }
  const uint64_t word = role_word().load(std::memory_order_seq_cst);
  if (word == my_word_) return Status::ok();
  return Status::error(ZINC_ESTALE,
                       std::string("channel: this handle's ") +
                           (role_ == Role::kWriter ? "writer role" : "reader entry") +
                           " was taken over (its owner word now names pid " +
                           std::to_string(owner_pid(word)) + ", generation " +
                           std::to_string(owner_generation(word)) +
                           "): it was judged dead. Close the handle and open the channel again");
}

Channel::~Channel() {
  // Not joined, or a fork() child's copy (the role and any held frame are
  // the parent's): the region closes by itself.
  const int32_t pid = region_->owner_pid();
  if (!joined_ || posix::process_id() != pid) return;
  const int fd = region_->lock_fd();
  std::atomic<uint64_t>& word = role_word();
  uint64_t mine = my_word_;
  if (role_ == Role::kWriter) {
    // An acquired, uncommitted slot stays odd: no reader ever shows it, and
    // the next writer writes that frame anew. A role taken over is not ours
    // to free (the swap fails).
    if (!word.compare_exchange_strong(mine, owner_released(my_word_), std::memory_order_seq_cst)) {
      return;
    }
    if (locks_) locks::drop(fd, locks::writer_byte(posix::page_size()));
    // A writer that owns the name ends the stream: the name goes now, and
    // sleeping readers wake to find no writer and no name (ZINC_EPIPE). A
    // writer that only joined leaves the channel to the next writer.
    region_->unlink_if_owner();
    region_->notify();
    return;
  }
  // A reader: inactive first, so no writer waits for it; then unpin; then
  // free. If the entry is no longer ours (taken over), touch nothing.
  ReaderEntry& e = entry(entry_index_);
  const uint64_t leaving = owner_word(pid, false, owner_generation(my_word_));
  if (!word.compare_exchange_strong(mine, leaving, std::memory_order_seq_cst)) return;
  e.held.store(0, std::memory_order_release);
  word.store(owner_released(my_word_), std::memory_order_seq_cst);
  if (locks_) locks::drop(fd, lock_byte_of_reader(entry_index_));
  if (mode_ == ZINC_CHANNEL_LOSSLESS) wake_writer();
}

// ---- liveness -------------------------------------------------------------

bool Channel::holder_is_dead(uint64_t word, uint64_t joined_at, uint64_t lock_byte) const {
  if (owner_free(word)) return false;  // nobody to judge
  if (locks_) {
    // A holder takes the lock before its word and frees its word before
    // the lock, so a set word without a lock is a dead holder's.
    return !role_holder_alive(region_->lock_fd(), lock_byte);
  }
  const int32_t pid = owner_pid(word);
  const posix::ProcessInfo process = posix::probe_process(pid);
  if (!owner_active(word)) {
    // Still claiming: joined_at may be a previous occupant's, so only a
    // process that is gone counts as dead.
    return pid > 0 && (!process.exists || process.zombie);
  }
  // The same rule as a stale region's creator (spec §4.4): a recycled pid
  // is not taken for the participant. It cannot see other pid namespaces.
  const Creator verdict = judge_creator(pid, joined_at, process, [&] {
    bool maps = false;
    return region_id_known_ && posix::process_maps(pid, region_id_, &maps).is_ok() && maps;
  });
  return verdict == Creator::kDead || verdict == Creator::kPidReused;
}

uint32_t Channel::reclaim_dead_readers() {
  const int32_t pid = posix::process_id();
  const int fd = region_->lock_fd();
  uint32_t reclaimed = 0;
  for (uint32_t i = 0; i < max_readers_; ++i) {
    ReaderEntry& e = entry(i);
    uint64_t word = e.owner.load(std::memory_order_seq_cst);
    if (owner_free(word)) continue;
    // Without locks a participant never judges its own pid (it is alive);
    // with locks its other handles answer for themselves.
    if (!locks_ && owner_pid(word) == pid) continue;
    const uint64_t byte = lock_byte_of_reader(i);
    if (!holder_is_dead(word, e.joined_at.load(std::memory_order_relaxed), byte)) continue;
    // With locks, hold the entry's lock meanwhile so no reader joins it
    // halfway; one that took it since makes this fail, and is alive.
    if (locks_ && !locks::take(fd, byte, locks::Kind::kExclusive).is_ok()) continue;
    // Reclaiming is claiming: take the entry, clear what the dead reader
    // left, free it. The generation makes the swap fail on a newcomer.
    const uint64_t claim = owner_next_claim(word, pid);
    if (e.owner.compare_exchange_strong(word, claim, std::memory_order_seq_cst)) {
      e.held.store(0, std::memory_order_relaxed);
      e.owner.store(owner_released(claim), std::memory_order_seq_cst);
      ++reclaimed;
    }
    if (locks_) locks::drop(fd, byte);
  }
  if (reclaimed > 0 && mode_ == ZINC_CHANNEL_LOSSLESS) wake_writer();
  return reclaimed;
}

// ---- joining ---------------------------------------------------------------

Status Channel::join_writer() {
  const int32_t pid = posix::process_id();
  uint64_t word = header_->writer.load(std::memory_order_seq_cst);
  if (locks_) {
    Status s = locks::take(region_->lock_fd(), locks::writer_byte(posix::page_size()),
                           locks::Kind::kExclusive);
    if (s.code == ZINC_EBUSY) {
      return Status::error(ZINC_EBUSY, "channel: it already has a writer (pid " +
                                           std::to_string(owner_pid(word)) +
                                           " in its own pid namespace, alive: it holds the "
                                           "writer lock); a channel has one writer at a time");
    }
    if (!s.is_ok()) return s;
    // We hold the role's lock, so whoever the word names is gone.
    while (!header_->writer.compare_exchange_weak(word, owner_next_claim(word, pid),
                                                  std::memory_order_seq_cst)) {
    }
  } else {
    for (;;) {
      if (owner_free(word)) {
        if (header_->writer.compare_exchange_strong(word, owner_next_claim(word, pid),
                                                    std::memory_order_seq_cst)) {
          break;
        }
        continue;
      }
      if (owner_pid(word) == pid ||
          !holder_is_dead(word, header_->writer_joined_at.load(std::memory_order_relaxed), 0)) {
        return Status::error(ZINC_EBUSY, "channel: it already has a writer (pid " +
                                             std::to_string(owner_pid(word)) +
                                             "); a channel has one writer at a time");
      }
      // A dead writer's role: free it (the swap fails if another process
      // took it first; then look again).
      header_->writer.compare_exchange_strong(word, owner_released(word),
                                              std::memory_order_seq_cst);
      word = header_->writer.load(std::memory_order_seq_cst);
    }
  }
  my_word_ = owner_word(pid, true, owner_generation(word) + 1);
  header_->writer_joined_at.store(posix::realtime_ns(), std::memory_order_relaxed);
  header_->writer.store(my_word_, std::memory_order_seq_cst);
  joined_ = true;
  resume_writing();
  return Status::ok();
}

void Channel::resume_writing() {
  frame_ = header_->write_seq.load(std::memory_order_acquire);
  next_frame_.store(frame_, std::memory_order_relaxed);
  if (mode_ == ZINC_CHANNEL_LOSSLESS) {
    // Frames [frame_ - N, frame_) may still be read, each in the slot its
    // map entry names; every other slot is free. A slot named twice (by
    // damage, or by a writer killed after mapping frame_, whose entry is
    // also frame_ - N's) counts for the newer frame: no slot is handed out
    // while a frame in it may be read. Frame order is warmth order.
    slot_of_frame_.assign(slot_count_, kNoSlot);
    std::vector<bool> claimed(slot_count_, false);
    released_below_ = frame_ > slot_count_ ? frame_ - slot_count_ : 0;
    for (uint64_t f = frame_; f-- > released_below_;) {
      const uint32_t slot = map_entry(f).load(std::memory_order_relaxed);
      if (slot >= slot_count_ || claimed[slot]) continue;
      claimed[slot] = true;
      slot_of_frame_[f % slot_count_] = slot;
    }
    // Never-used slots are the coldest: under the rest, slot 0 on top.
    free_slots_.clear();
    free_slots_.reserve(slot_count_);
    for (uint32_t s = slot_count_; s-- > 0;) {
      if (!claimed[s]) free_slots_.push_back(s);
    }
    return;
  }
  // A writer killed between publishing latest_slot and write_seq left a
  // newer frame than write_seq says: continue after it (one frame at most;
  // anything further is damage and ignored).
  const uint32_t latest = header_->latest_slot.load(std::memory_order_acquire);
  if (latest < slot_count_) {
    const uint64_t seq = slot_header(latest)->seq.load(std::memory_order_acquire);
    if (seq != 0 && seq % 2 == 0 && seq / 2 == frame_ + 1) frame_ = seq / 2;
  }
  // The slot written last is the warmest: rank slots by their seq.
  std::vector<uint64_t> seqs(slot_count_);
  slots_by_use_.resize(slot_count_);
  for (uint32_t s = 0; s < slot_count_; ++s) {
    seqs[s] = slot_header(s)->seq.load(std::memory_order_relaxed);
    slots_by_use_[s] = s;
  }
  std::stable_sort(slots_by_use_.begin(), slots_by_use_.end(),
                   [&](uint32_t a, uint32_t b) { return seqs[a] > seqs[b]; });
}

bool Channel::claim_reader_entry(int32_t pid, uint64_t* previous) {
  for (uint32_t i = 0; i < max_readers_; ++i) {
    std::atomic<uint64_t>& owner = entry(i).owner;
    uint64_t word = owner.load(std::memory_order_seq_cst);
    if (locks_) {
      // The entry's lock decides; its word may still name a dead reader.
      if (!locks::take(region_->lock_fd(), lock_byte_of_reader(i), locks::Kind::kExclusive)
               .is_ok()) {
        continue;
      }
      while (!owner.compare_exchange_weak(word, owner_next_claim(word, pid),
                                          std::memory_order_seq_cst)) {
      }
    } else if (!owner_free(word) ||
               !owner.compare_exchange_strong(word, owner_next_claim(word, pid),
                                              std::memory_order_seq_cst)) {
      continue;
    }
    *previous = word;
    entry_index_ = i;
    return true;
  }
  return false;
}

Status Channel::join_reader() {
  const int32_t pid = posix::process_id();
  uint64_t previous = 0;
  // A second round after reclaiming dead entries (the pid rule), or after
  // a writer's brief hold of an entry lock while reclaiming (locks).
  bool claimed = claim_reader_entry(pid, &previous);
  if (!claimed && (locks_ || reclaim_dead_readers() > 0))
    claimed = claim_reader_entry(pid, &previous);
  if (!claimed) {
    return Status::error(ZINC_EBUSY, "channel: all " + std::to_string(max_readers_) +
                                         " reader entries are held by live readers");
  }
  my_word_ = owner_word(pid, true, owner_generation(previous) + 1);
  const uint32_t index = entry_index_;
  ReaderEntry& e = entry(index);
  e.joined_at.store(posix::realtime_ns(), std::memory_order_relaxed);
  e.held.store(0, std::memory_order_relaxed);
  // Lossless: start at the next frame. Publish the entry, then read
  // write_seq again and move up to it: a writer whose scan missed the entry
  // stored its write_seq before that scan, so this second read sees it, and
  // no frame from there on can be overwritten before this reader reads it
  // (docs/spec.md §10.5).
  const bool lossless = mode_ == ZINC_CHANNEL_LOSSLESS;
  e.cursor.store(lossless ? header_->write_seq.load(std::memory_order_seq_cst) : 0,
                 std::memory_order_relaxed);
  if (testing::reader_join_hook != nullptr) testing::reader_join_hook();
  e.owner.store(my_word_, std::memory_order_seq_cst);
  if (lossless) {
    e.cursor.store(header_->write_seq.load(std::memory_order_seq_cst), std::memory_order_seq_cst);
  }
  joined_ = true;
  return Status::ok();
}

// ---- slots -----------------------------------------------------------------

SlotHeader* Channel::slot_header(uint32_t slot) const {
  return reinterpret_cast<SlotHeader*>(slots_ + uint64_t{slot} * slot_stride_);
}

uint8_t* Channel::payload(uint32_t slot) const {
  return slots_ + uint64_t{slot} * slot_stride_ + ZINC_CHANNEL_SLOT_HEADER_SIZE;
}

// ---- the writer -------------------------------------------------------------

bool Channel::ring_has_room(uint64_t frame, int32_t* blocker, uint64_t* oldest) const {
  // At most N frames are in flight: every active reader must have released
  // frame f - N (cursor > f - N), so that a slot is free for frame f.
  *oldest = frame;
  for (uint32_t i = 0; i < max_readers_; ++i) {
    const uint64_t word = entry(i).owner.load(std::memory_order_seq_cst);
    if (!owner_active(word)) continue;
    const uint64_t cursor = entry(i).cursor.load(std::memory_order_seq_cst);
    // (A cursor past `frame` can only be damage; it holds nothing back.)
    if (cursor <= frame) *oldest = std::min(*oldest, cursor);
    if (cursor <= frame && frame - cursor >= slot_count_) {
      *blocker = owner_pid(word);
      return false;
    }
  }
  return true;
}

void Channel::return_released_slots(uint64_t oldest) {
  // Every reader released the frames below `oldest` (a cursor seen lower
  // than an earlier scan's belongs to a joining reader, which moves up to
  // write_seq before it reads: the slots already returned stay free).
  for (; released_below_ < oldest; ++released_below_) {
    uint32_t& slot = slot_of_frame_[released_below_ % slot_count_];
    if (slot != kNoSlot) free_slots_.push_back(slot);
    slot = kNoSlot;
  }
}

bool Channel::slot_is_pinned(uint32_t slot) const {
  for (uint32_t i = 0; i < max_readers_; ++i) {
    if (entry(i).held.load(std::memory_order_seq_cst) == slot + 1) return true;
  }
  return false;
}

void Channel::add_writer_sleeper() {
  std::lock_guard lock(writer_sleep_mutex_);
  if (writer_sleepers_++ == 0) header_->writer_sleeping.store(1, std::memory_order_seq_cst);
}

void Channel::remove_writer_sleeper() {
  std::lock_guard lock(writer_sleep_mutex_);
  if (--writer_sleepers_ == 0) header_->writer_sleeping.store(0, std::memory_order_seq_cst);
}

bool Channel::held_back_only_by_dead(uint64_t frame) const {
  for (uint32_t i = 0; i < max_readers_; ++i) {
    const uint64_t word = entry(i).owner.load(std::memory_order_seq_cst);
    if (!owner_active(word)) continue;
    const uint64_t cursor = entry(i).cursor.load(std::memory_order_seq_cst);
    if (cursor > frame || frame - cursor < slot_count_) continue;
    if (!locks_ && owner_pid(word) == posix::process_id()) return false;  // alive: it is us
    if (!holder_is_dead(word, entry(i).joined_at.load(std::memory_order_relaxed),
                        lock_byte_of_reader(i))) {
      return false;
    }
  }
  return true;
}

void Channel::wake_writer() {
  header_->release_seq.fetch_add(1, std::memory_order_seq_cst);
  if (header_->writer_sleeping.load(std::memory_order_seq_cst) != 0) {
    futex::wake_all(&header_->release_seq);
  }
}

Status Channel::acquire_lossless(uint32_t timeout_ms) {
  const int64_t deadline = deadline_after(timeout_ms);
  int32_t blocker = 0;
  uint64_t oldest = frame_;
  while (!ring_has_room(frame_, &blocker, &oldest)) {
    if (cancelled_.load(std::memory_order_acquire)) {
      return Status::error(ZINC_ECANCELED, "channel: the handle was closed while acquiring");
    }
    const int64_t now = futex::monotonic_ns();
    if (now - last_reclaim_ns_ >= kReclaimIntervalNs) {
      last_reclaim_ns_ = now;
      if (reclaim_dead_readers() > 0) continue;
    }
    const std::string why = "the ring is full: reader pid " + std::to_string(blocker) + " is " +
                            std::to_string(slot_count_) + " frames behind";
    if (timeout_ms == 0) return Status::error(ZINC_EAGAIN, "channel: " + why);
    if (now >= deadline) return Status::error(ZINC_ETIMEDOUT, "channel: timed out; " + why);
    // Sleep until a reader releases (readers bump release_seq and wake when
    // writer_sleeping is set; seq_cst on both sides, so a release the
    // re-check misses sees the flag). Wake up now and then to look for dead
    // readers, which release nothing.
    const uint32_t seen = header_->release_seq.load(std::memory_order_seq_cst);
    add_writer_sleeper();
    if (!ring_has_room(frame_, &blocker, &oldest) && !cancelled_.load(std::memory_order_acquire)) {
      const int err = futex::wait_until(&header_->release_seq, seen,
                                        std::min(deadline, now + kReclaimIntervalNs));
      if (err != 0) {
        remove_writer_sleeper();
        return Status::error(err,
                             "channel: futex wait failed: " + std::string(std::strerror(-err)));
      }
    }
    remove_writer_sleeper();
  }
  // The warmest free slot: the one whose frame every reader released last
  // (its bytes are likely still in the caches). At most N - 1 frames are
  // in flight, so the stack is never empty.
  return_released_slots(oldest);
  if (free_slots_.empty()) {
    return Status::error(ZINC_EBADMSG, "channel: no free slot although the readers made room");
  }
  slot_ = free_slots_.back();
  free_slots_.pop_back();
  slot_of_frame_[frame_ % slot_count_] = slot_;
  // Published with the frame: commit's release stores follow this one, and
  // readers load the entry after their acquire load of write_seq.
  map_entry(frame_).store(slot_, std::memory_order_relaxed);
  slot_header(slot_)->seq.store(2 * frame_ + 1, std::memory_order_relaxed);
  return Status::ok();
}

Status Channel::acquire_latest() {
  const uint32_t latest = header_->latest_slot.load(std::memory_order_relaxed);
  // The warmest slot first: the one written last that is neither the newest
  // nor pinned. With slot_count >= max_readers + 2 some slot is free; pins
  // that come and go can still make a pass miss it, so allow a few passes
  // before reporting.
  for (uint32_t tries = 0; tries < 4 * slot_count_; ++tries) {
    const uint32_t rank = tries % slot_count_;
    const uint32_t slot = slots_by_use_[rank];
    if (slot == latest) continue;
    SlotHeader* h = slot_header(slot);
    const uint64_t old = h->seq.load(std::memory_order_relaxed);
    // Mark the slot taken, then look for pins; a reader pins, then
    // re-reads seq. seq_cst on both sides: one of us sees the other.
    h->seq.store(2 * frame_ + 1, std::memory_order_seq_cst);
    if (slot_is_pinned(slot)) {
      h->seq.store(old, std::memory_order_seq_cst);  // nothing was written
      continue;
    }
    std::rotate(slots_by_use_.begin(), slots_by_use_.begin() + rank,
                slots_by_use_.begin() + rank + 1);
    slot_ = slot;
    return Status::ok();
  }
  return Status::error(ZINC_EAGAIN, "channel: every slot is the newest or pinned by a reader");
}

Status Channel::acquire(uint32_t timeout_ms, ZincChannelFrame* out) {
  if (Status s = check_call(Role::kWriter, "acquire"); !s.is_ok()) return s;
  if (!acquired_) {
    // Frame 2^63 - 1 would commit as seq 2^64 = 0, "never written" (§10.4).
    if (frame_ >= kMaxWriteSeq) {
      return Status::error(ZINC_EBADMSG, "channel: write_seq " + std::to_string(frame_) +
                                             " is at 2^63 - 1, where frame numbers end");
    }
    Status s = mode_ == ZINC_CHANNEL_LOSSLESS ? acquire_lossless(timeout_ms) : acquire_latest();
    if (!s.is_ok()) return s;
    acquired_ = true;
  }
  out->data = payload(slot_);
  out->length = slot_size_;
  out->sequence = frame_;
  return Status::ok();
}

Status Channel::commit(uint64_t length) {
  if (Status s = check_call(Role::kWriter, "commit"); !s.is_ok()) return s;
  if (!acquired_) return Status::error(ZINC_EINVAL, "channel: commit without an acquired slot");
  if (length > slot_size_) {
    return Status::error(ZINC_EINVAL, "channel: frame length " + std::to_string(length) +
                                          " exceeds the slot size " + std::to_string(slot_size_));
  }
  SlotHeader* h = slot_header(slot_);
  h->length.store(length, std::memory_order_relaxed);
  // The release store publishes the payload and length with the frame.
  h->seq.store(2 * frame_ + 2, std::memory_order_release);
  if (mode_ == ZINC_CHANNEL_LATEST) header_->latest_slot.store(slot_, std::memory_order_seq_cst);
  header_->write_seq.store(frame_ + 1, std::memory_order_seq_cst);
  acquired_ = false;
  ++frame_;
  next_frame_.store(frame_, std::memory_order_relaxed);
  if (testing::commit_published_hook != nullptr) testing::commit_published_hook();
  region_->notify();
  return Status::ok();
}

// ---- readers ------------------------------------------------------------------

namespace {

// A write_seq past the last frame number (§10.4): taken at its word, a
// lossless cursor of 2^63 - 1 would expect seq 2^64 = 0 and read a slot that
// was never written as committed.
Status write_seq_damaged(uint64_t written) {
  return Status::error(ZINC_EBADMSG, "channel: write_seq " + std::to_string(written) +
                                         " is beyond 2^63 - 1, where frame numbers end");
}

// What the committed frame in latest_slot means to a latest reader at
// `cursor`, given write_seq: try_read_latest acts on it, and ready() calls a
// reader ready for anything but kNotNewer. The writer stores the slot's seq
// before write_seq, so the frame is at most write_seq; a cursor past
// write_seq + 1 was never stored by the reader. Either is damage, and taking
// it at its word would silence the reader for good.
enum class LatestFrame { kNew, kNotNewer, kWriteSeqDamaged, kPastWriteSeq, kCursorPastWriteSeq };

LatestFrame judge_latest_frame(uint64_t frame, uint64_t written, uint64_t cursor) {
  if (written > kMaxWriteSeq) return LatestFrame::kWriteSeqDamaged;
  if (frame > written) return LatestFrame::kPastWriteSeq;
  if (cursor > written + 1) return LatestFrame::kCursorPastWriteSeq;
  return frame < cursor ? LatestFrame::kNotNewer : LatestFrame::kNew;
}

}  // namespace

Status Channel::try_read_lossless(bool* got, ZincChannelFrame* out) {
  ReaderEntry& e = entry(entry_index_);
  const uint64_t frame = e.cursor.load(std::memory_order_relaxed);
  const uint64_t written = header_->write_seq.load(std::memory_order_acquire);
  if (written > kMaxWriteSeq) return write_seq_damaged(written);
  if (frame >= written) return Status::ok();
  // The writer mapped the frame before committing it, and maps another
  // frame to this entry only after every reader released this one; a
  // stale or damaged entry names a slot whose seq says so below.
  const uint32_t slot = map_entry(frame).load(std::memory_order_relaxed);
  if (slot >= slot_count_) {
    return Status::error(ZINC_EBADMSG, "channel: the slot map names slot " + std::to_string(slot) +
                                           " of only " + std::to_string(slot_count_) +
                                           " for frame " + std::to_string(frame));
  }
  SlotHeader* h = slot_header(slot);
  const uint64_t seq = h->seq.load(std::memory_order_acquire);
  if (seq != 2 * frame + 2) {
    return Status::error(ZINC_EBADMSG, "channel: slot " + std::to_string(slot) + " has sequence " +
                                           std::to_string(seq) + " where committed frame " +
                                           std::to_string(frame) + " should be");
  }
  const uint64_t length = h->length.load(std::memory_order_relaxed);
  if (length > slot_size_) {
    return Status::error(ZINC_EBADMSG, "channel: slot " + std::to_string(slot) + " holds " +
                                           std::to_string(length) + " bytes, more than its size " +
                                           std::to_string(slot_size_));
  }
  *out = {payload(slot), length, frame};
  held_frame_ = frame;
  *got = true;
  return Status::ok();
}

Status Channel::try_read_latest(bool* got, ZincChannelFrame* out) {
  ReaderEntry& e = entry(entry_index_);
  for (int attempt = 0; attempt < kLatestRetries; ++attempt) {
    const uint32_t slot = header_->latest_slot.load(std::memory_order_seq_cst);
    if (slot == kNoSlot) return Status::ok();
    if (slot >= slot_count_) {
      return Status::error(ZINC_EBADMSG, "channel: latest_slot " + std::to_string(slot) +
                                             " of only " + std::to_string(slot_count_));
    }
    // Pin, then check the slot still holds a committed frame: a writer that
    // took the slot before the pin is visible in seq; one that looks after
    // sees the pin and leaves the slot alone.
    e.held.store(slot + 1, std::memory_order_seq_cst);
    SlotHeader* h = slot_header(slot);
    const uint64_t seq = h->seq.load(std::memory_order_seq_cst);
    if (seq == 0 || seq % 2 == 1) {
      e.held.store(0, std::memory_order_release);
      continue;  // the writer moved on; latest_slot is about to change
    }
    const uint64_t frame = seq / 2 - 1;
    const uint64_t written = header_->write_seq.load(std::memory_order_seq_cst);
    const uint64_t cursor = e.cursor.load(std::memory_order_relaxed);
    const LatestFrame judged = judge_latest_frame(frame, written, cursor);
    if (judged != LatestFrame::kNew) e.held.store(0, std::memory_order_release);
    switch (judged) {
      case LatestFrame::kNew: break;
      case LatestFrame::kNotNewer: return Status::ok();  // nothing newer than what it had
      case LatestFrame::kWriteSeqDamaged: return write_seq_damaged(written);
      case LatestFrame::kPastWriteSeq:
        return Status::error(ZINC_EBADMSG, "channel: slot " + std::to_string(slot) +
                                               " claims frame " + std::to_string(frame) +
                                               " but only " + std::to_string(written) +
                                               " frames were committed");
      case LatestFrame::kCursorPastWriteSeq:
        return Status::error(ZINC_EBADMSG, "channel: this reader's cursor " +
                                               std::to_string(cursor) + " is past write_seq " +
                                               std::to_string(written));
    }
    const uint64_t length = h->length.load(std::memory_order_relaxed);
    if (length > slot_size_) {
      e.held.store(0, std::memory_order_release);
      return Status::error(ZINC_EBADMSG, "channel: slot " + std::to_string(slot) + " holds " +
                                             std::to_string(length) +
                                             " bytes, more than its size " +
                                             std::to_string(slot_size_));
    }
    e.cursor.store(frame + 1, std::memory_order_relaxed);
    *out = {payload(slot), length, frame};
    held_frame_ = frame;
    *got = true;
    return Status::ok();
  }
  return Status::ok();  // the writer keeps taking the slot: wait for the next frame
}

Status Channel::read(uint32_t timeout_ms, ZincChannelFrame* out) {
  if (Status s = check_call(Role::kReader, "read"); !s.is_ok()) return s;
  if (holding_) {
    return Status::error(ZINC_EINVAL, "channel: release frame " + std::to_string(held_frame_) +
                                          " before reading another");
  }
  const int64_t deadline = deadline_after(timeout_ms);
  for (bool ended = false;;) {
    bool got = false;
    Status s =
        mode_ == ZINC_CHANNEL_LOSSLESS ? try_read_lossless(&got, out) : try_read_latest(&got, out);
    if (!s.is_ok()) return s;
    if (got) {
      holding_ = true;
      return Status::ok();
    }
    // Nothing was left when the end was seen (the writer's last commit
    // comes before it leaves the role, so the read above would have seen it).
    if (ended) {
      return Status::error(ZINC_EPIPE,
                           "channel: the writer is gone and the channel was closed or "
                           "replaced; every frame has been read");
    }
    if (cancelled_.load(std::memory_order_acquire)) {
      return Status::error(ZINC_ECANCELED, "channel: the handle was closed while reading");
    }
    const int64_t now = futex::monotonic_ns();
    const bool expired = timeout_ms == 0 || now >= deadline;
    if (stream_ended(expired)) {
      ended = true;
      continue;  // one more look, then EPIPE
    }
    if (timeout_ms == 0) return Status::error(ZINC_EAGAIN, "channel: no new frame");
    if (expired) return Status::error(ZINC_ETIMEDOUT, "channel: no new frame in time");
    // A handle taken over while it slept writes nothing more.
    if (Status c = check_call(Role::kReader, "read"); !c.is_ok()) return c;
    // The writer notifies after every commit; the region handle's cursor
    // keeps a notify that lands between the check above and this wait.
    const int64_t left_ms = (deadline - now + 999'999) / 1'000'000;
    const int32_t rc = region_->wait(static_cast<uint32_t>(std::min<int64_t>(left_ms, UINT32_MAX)));
    if (rc == ZINC_ECANCELED) {
      return Status::error(ZINC_ECANCELED, "channel: the handle was closed while reading");
    }
    if (rc != ZINC_OK && rc != ZINC_ETIMEDOUT) {
      return Status::error(rc, "channel: wait failed: " + std::string(std::strerror(-rc)));
    }
  }
}

Status Channel::release() {
  if (Status s = check_call(Role::kReader, "release"); !s.is_ok()) return s;
  if (!holding_) return Status::error(ZINC_EINVAL, "channel: no frame is held");
  holding_ = false;
  ReaderEntry& e = entry(entry_index_);
  if (mode_ == ZINC_CHANNEL_LATEST) {
    // Release ordering: the reads of the payload happen before the writer
    // that sees the pin gone writes the slot.
    e.held.store(0, std::memory_order_release);
    if (testing::release_published_hook != nullptr) testing::release_published_hook();
    return Status::ok();
  }
  e.cursor.store(held_frame_ + 1, std::memory_order_seq_cst);
  if (testing::release_published_hook != nullptr) testing::release_published_hook();
  wake_writer();
  return Status::ok();
}

bool Channel::stream_ended(bool full) const {
  const uint64_t word = header_->writer.load(std::memory_order_seq_cst);
  if (!owner_free(word)) {
    // A killed writer leaves its word; asking who holds it costs a system
    // call, so only when the caller is about to give up anyway.
    if (!full || !holder_is_dead(word, header_->writer_joined_at.load(std::memory_order_relaxed),
                                 locks::writer_byte(posix::page_size()))) {
      return false;
    }
  }
  // No writer. While the name still refers to this channel a new writer
  // may take over (zinc_channel_open_writer) and readers follow it.
  return !region_->name_is_ours();
}

// ---- the rest -------------------------------------------------------------------

ZincChannelInfo Channel::info() const {
  uint8_t snapshot[ZINC_CHANNEL_HEADER_SIZE];
  snapshot_header(header_, snapshot);
  ZincChannelInfo info = decode_channel_header(snapshot);
  for (uint32_t i = 0; i < max_readers_; ++i) {
    if (owner_active(entry(i).owner.load(std::memory_order_acquire))) ++info.readers;
  }
  return info;
}

// ---- wait sets -------------------------------------------------------------------

std::atomic<uint32_t>* Channel::wake_word() const {
  return role_ == Role::kWriter ? &header_->release_seq : region_->notify_word();
}

void Channel::add_sleeper() {
  if (role_ == Role::kWriter) {
    add_writer_sleeper();
  } else {
    region_->add_sleeper();
  }
}

void Channel::remove_sleeper() {
  if (role_ == Role::kWriter) {
    remove_writer_sleeper();
  } else {
    region_->remove_sleeper();
  }
}

bool Channel::ready(bool judge_peers) const {
  // Calls that fail at once are ready: the caller learns why from them.
  if (cancelled_.load(std::memory_order_acquire)) return true;
  if (!joined_ || posix::process_id() != region_->owner_pid()) return true;
  if (role_word().load(std::memory_order_seq_cst) != my_word_) return true;  // ESTALE
  if (role_ == Role::kWriter) {
    if (mode_ != ZINC_CHANNEL_LOSSLESS) return true;  // a latest writer never waits
    // The next frame is the writer's own count, as acquire has it (an
    // acquired slot is that frame's too).
    const uint64_t next = next_frame_.load(std::memory_order_relaxed);
    int32_t blocker = 0;
    uint64_t oldest = 0;
    if (ring_has_room(next, &blocker, &oldest)) return true;
    return judge_peers && held_back_only_by_dead(next);
  }
  const uint64_t written = header_->write_seq.load(std::memory_order_seq_cst);
  if (holding_.load(std::memory_order_relaxed)) return false;
  // Damage the read reports at once (EBADMSG) makes the reader ready too:
  // the read's own checks (try_read_lossless, judge_latest_frame), without
  // their effects.
  const ReaderEntry& e = entry(entry_index_);
  const uint64_t cursor = e.cursor.load(std::memory_order_relaxed);
  if (mode_ == ZINC_CHANNEL_LOSSLESS) {
    if (written > kMaxWriteSeq || cursor < written) return true;
  } else {
    const uint32_t slot = header_->latest_slot.load(std::memory_order_seq_cst);
    if (slot != kNoSlot) {
      if (slot >= slot_count_) return true;
      const uint64_t seq = slot_header(slot)->seq.load(std::memory_order_seq_cst);
      // An odd seq is a slot the writer is taking: latest_slot moves next.
      if (seq != 0 && seq % 2 == 0 &&
          judge_latest_frame(seq / 2 - 1, written, cursor) != LatestFrame::kNotNewer) {
        return true;
      }
    }
  }
  return stream_ended(judge_peers);
}

void Channel::cancel() {
  cancelled_.store(true, std::memory_order_seq_cst);
  region_->cancel_waits();
  futex::wake_all(&header_->release_seq);
}

}  // namespace zinc::core
