#include "channel.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "futex.hpp"
#include "liveness.hpp"
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
      slots_(region_->data() + layout.slots_offset),
      mode_(layout.mode),
      slot_count_(layout.slot_count),
      max_readers_(layout.max_readers),
      slot_size_(layout.slot_size),
      slot_stride_(layout.slot_stride),
      role_(role) {
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
  std::unique_ptr<Region> region;
  const uint64_t capacity = round_up(geometry.required_bytes, posix::page_size());
  if (Status s = Region::create(name, capacity, flags & kRegionFlags, &region); !s.is_ok()) {
    return s;
  }
  // The data area is zero-filled: entries are free, slots never written.
  // Plain fields first, then the magic with a release store, as the region
  // header is published.
  auto* h = reinterpret_cast<ChannelHeader*>(region->data());
  h->version = ZINC_CHANNEL_VERSION;
  h->mode = static_cast<uint16_t>(mode);
  h->flags = 0;
  h->slot_count = slot_count;
  h->max_readers = max_readers;
  h->slot_size = slot_size;
  if (type != nullptr) h->frame_type = *type;
  h->latest_slot.store(kNoSlot, std::memory_order_relaxed);
  h->magic.store(ZINC_CHANNEL_MAGIC, std::memory_order_release);

  uint8_t snapshot[ZINC_CHANNEL_HEADER_SIZE];
  snapshot_header(h, snapshot);
  const Role role = (flags & ZINC_CHANNEL_CREATE_READER) != 0 ? Role::kReader : Role::kWriter;
  std::unique_ptr<Channel> channel(
      new Channel(std::move(region), decode_channel_header(snapshot), role));
  Status joined = role == Role::kWriter ? channel->join_writer() : channel->join_reader();
  if (!joined.is_ok()) return with_name(joined, name);
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

Status Channel::refuse_if_inherited() const {
  const int32_t joined_by = region_->owner_pid();
  if (posix::process_id() == joined_by) return Status::ok();
  return Status::error(ZINC_EINVAL,
                       "channel: this handle was inherited through fork(); the role is the "
                       "parent's (pid " +
                           std::to_string(joined_by) + "): open the channel again in the child");
}

Channel::~Channel() {
  // Not joined, or a fork() child's copy (the role and any held frame are
  // the parent's): the region closes by itself.
  const int32_t pid = region_->owner_pid();
  if (!joined_ || posix::process_id() != pid) return;
  if (role_ == Role::kWriter) {
    // An acquired, uncommitted slot stays odd: no reader ever shows it, and
    // the next writer writes that frame anew.
    uint64_t word = owner_word(pid, true);
    header_->writer.compare_exchange_strong(word, 0, std::memory_order_seq_cst);
    return;
  }
  ReaderEntry& e = entry(entry_index_);
  e.held.store(0, std::memory_order_release);
  uint64_t word = owner_word(pid, true);
  // Only if the entry is still ours (nobody reclaims a live reader's).
  e.owner.compare_exchange_strong(word, 0, std::memory_order_seq_cst);
  if (mode_ == ZINC_CHANNEL_LOSSLESS) wake_writer();
}

// ---- liveness -------------------------------------------------------------

bool Channel::owner_is_dead(uint64_t word, uint64_t joined_at) const {
  const int32_t pid = owner_pid(word);
  const posix::ProcessInfo process = posix::probe_process(pid);
  if (!owner_active(word)) {
    // Still claiming: joined_at may be a previous occupant's, so only a
    // process that is gone counts as dead.
    return pid > 0 && (!process.exists || process.zombie);
  }
  // The same rule as a stale region's creator (spec §4.4): a recycled pid
  // is not taken for the participant.
  const Creator verdict = judge_creator(pid, joined_at, process, [&] {
    bool maps = false;
    return region_id_known_ && posix::process_maps(pid, region_id_, &maps).is_ok() && maps;
  });
  return verdict == Creator::kDead || verdict == Creator::kPidReused;
}

uint32_t Channel::reclaim_dead_readers() {
  const uint64_t mine = owner_word(posix::process_id(), false);
  uint32_t reclaimed = 0;
  for (uint32_t i = 0; i < max_readers_; ++i) {
    ReaderEntry& e = entry(i);
    uint64_t word = e.owner.load(std::memory_order_seq_cst);
    if (word == 0 || owner_pid(word) == posix::process_id()) continue;
    if (!owner_is_dead(word, e.joined_at.load(std::memory_order_relaxed))) continue;
    // Reclaiming is claiming: take the entry, clear what the dead reader
    // left, free it. A new reader cannot slip in between and lose its pin.
    if (!e.owner.compare_exchange_strong(word, mine, std::memory_order_seq_cst)) continue;
    e.held.store(0, std::memory_order_relaxed);
    e.owner.store(0, std::memory_order_seq_cst);
    ++reclaimed;
  }
  if (reclaimed > 0 && mode_ == ZINC_CHANNEL_LOSSLESS) wake_writer();
  return reclaimed;
}

// ---- joining ---------------------------------------------------------------

Status Channel::join_writer() {
  const int32_t pid = posix::process_id();
  for (;;) {
    uint64_t word = header_->writer.load(std::memory_order_seq_cst);
    if (word == 0) {
      if (!header_->writer.compare_exchange_strong(word, owner_word(pid, false),
                                                   std::memory_order_seq_cst)) {
        continue;
      }
      header_->writer_joined_at.store(posix::realtime_ns(), std::memory_order_relaxed);
      header_->writer.store(owner_word(pid, true), std::memory_order_seq_cst);
      break;
    }
    if (owner_pid(word) == pid ||
        !owner_is_dead(word, header_->writer_joined_at.load(std::memory_order_relaxed))) {
      return Status::error(ZINC_EBUSY, "channel: it already has a writer (pid " +
                                           std::to_string(owner_pid(word)) +
                                           "); a channel has one writer at a time");
    }
    // A dead writer's role: take it over (the CAS fails if another process
    // took it first; then look again).
    header_->writer.compare_exchange_strong(word, 0, std::memory_order_seq_cst);
  }
  joined_ = true;
  frame_ = header_->write_seq.load(std::memory_order_acquire);
  if (mode_ == ZINC_CHANNEL_LATEST) {
    // A writer killed between publishing latest_slot and write_seq left a
    // newer frame than write_seq says: continue after it.
    const uint32_t latest = header_->latest_slot.load(std::memory_order_acquire);
    if (latest < slot_count_) {
      const uint64_t seq = slot_header(latest)->seq.load(std::memory_order_acquire);
      if (seq != 0 && seq % 2 == 0) frame_ = std::max(frame_, seq / 2);
      next_candidate_ = latest + 1;
    }
  }
  return Status::ok();
}

Status Channel::join_reader() {
  const int32_t pid = posix::process_id();
  uint32_t index = max_readers_;
  for (int round = 0; index == max_readers_; ++round) {
    for (uint32_t i = 0; i < max_readers_ && index == max_readers_; ++i) {
      uint64_t word = 0;
      if (entry(i).owner.compare_exchange_strong(word, owner_word(pid, false),
                                                 std::memory_order_seq_cst)) {
        index = i;
      }
    }
    if (index == max_readers_ && (round > 0 || reclaim_dead_readers() == 0)) {
      return Status::error(ZINC_EBUSY, "channel: all " + std::to_string(max_readers_) +
                                           " reader entries are held by live readers");
    }
  }
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
  e.owner.store(owner_word(pid, true), std::memory_order_seq_cst);
  if (lossless) {
    e.cursor.store(header_->write_seq.load(std::memory_order_seq_cst), std::memory_order_seq_cst);
  }
  entry_index_ = index;
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

bool Channel::ring_has_room(uint64_t frame, int32_t* blocker) const {
  // Frame f reuses the slot of frame f - N: every active reader must have
  // released that one (cursor > f - N).
  for (uint32_t i = 0; i < max_readers_; ++i) {
    const uint64_t word = entry(i).owner.load(std::memory_order_seq_cst);
    if (!owner_active(word)) continue;
    const uint64_t cursor = entry(i).cursor.load(std::memory_order_seq_cst);
    // (A cursor past `frame` can only be damage; it holds nothing back.)
    if (cursor <= frame && frame - cursor >= slot_count_) {
      *blocker = owner_pid(word);
      return false;
    }
  }
  return true;
}

bool Channel::slot_is_pinned(uint32_t slot) const {
  for (uint32_t i = 0; i < max_readers_; ++i) {
    if (entry(i).held.load(std::memory_order_seq_cst) == slot + 1) return true;
  }
  return false;
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
  while (!ring_has_room(frame_, &blocker)) {
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
    header_->writer_sleeping.store(1, std::memory_order_seq_cst);
    if (!ring_has_room(frame_, &blocker) && !cancelled_.load(std::memory_order_acquire)) {
      const int err = futex::wait_until(&header_->release_seq, seen,
                                        std::min(deadline, now + kReclaimIntervalNs));
      if (err != 0) {
        header_->writer_sleeping.store(0, std::memory_order_relaxed);
        return Status::error(err,
                             "channel: futex wait failed: " + std::string(std::strerror(-err)));
      }
    }
    header_->writer_sleeping.store(0, std::memory_order_relaxed);
  }
  slot_ = static_cast<uint32_t>(frame_ % slot_count_);
  slot_header(slot_)->seq.store(2 * frame_ + 1, std::memory_order_relaxed);
  return Status::ok();
}

Status Channel::acquire_latest() {
  const uint32_t latest = header_->latest_slot.load(std::memory_order_relaxed);
  // With slot_count >= max_readers + 2 some slot is neither the newest nor
  // pinned; pins that come and go can still make a pass miss it, so allow
  // a few passes before reporting.
  for (uint32_t tries = 0; tries < 4 * slot_count_; ++tries) {
    const uint32_t slot = next_candidate_ % slot_count_;
    next_candidate_ = slot + 1;
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
    slot_ = slot;
    return Status::ok();
  }
  return Status::error(ZINC_EAGAIN, "channel: every slot is the newest or pinned by a reader");
}

Status Channel::acquire(uint32_t timeout_ms, ZincChannelFrame* out) {
  if (Status s = refuse_if_inherited(); !s.is_ok()) return s;
  if (role_ != Role::kWriter) return Status::error(ZINC_EINVAL, "channel: acquire on a reader");
  if (!acquired_) {
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
  if (Status s = refuse_if_inherited(); !s.is_ok()) return s;
  if (role_ != Role::kWriter) return Status::error(ZINC_EINVAL, "channel: commit on a reader");
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
  region_->notify();
  return Status::ok();
}

// ---- readers ------------------------------------------------------------------

Status Channel::try_read_lossless(bool* got, ZincChannelFrame* out) {
  ReaderEntry& e = entry(entry_index_);
  const uint64_t frame = e.cursor.load(std::memory_order_relaxed);
  if (frame >= header_->write_seq.load(std::memory_order_acquire)) return Status::ok();
  const uint32_t slot = static_cast<uint32_t>(frame % slot_count_);
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
    if (frame < e.cursor.load(std::memory_order_relaxed)) {
      e.held.store(0, std::memory_order_release);
      return Status::ok();  // nothing newer than what this reader had
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
  if (Status s = refuse_if_inherited(); !s.is_ok()) return s;
  if (role_ != Role::kReader) return Status::error(ZINC_EINVAL, "channel: read on the writer");
  if (holding_) {
    return Status::error(ZINC_EINVAL, "channel: release frame " + std::to_string(held_frame_) +
                                          " before reading another");
  }
  const int64_t deadline = deadline_after(timeout_ms);
  for (;;) {
    bool got = false;
    Status s =
        mode_ == ZINC_CHANNEL_LOSSLESS ? try_read_lossless(&got, out) : try_read_latest(&got, out);
    if (!s.is_ok()) return s;
    if (got) {
      holding_ = true;
      return Status::ok();
    }
    if (cancelled_.load(std::memory_order_acquire)) {
      return Status::error(ZINC_ECANCELED, "channel: the handle was closed while reading");
    }
    if (timeout_ms == 0) return Status::error(ZINC_EAGAIN, "channel: no new frame");
    const int64_t now = futex::monotonic_ns();
    if (now >= deadline) return Status::error(ZINC_ETIMEDOUT, "channel: no new frame in time");
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
  if (Status s = refuse_if_inherited(); !s.is_ok()) return s;
  if (role_ != Role::kReader) return Status::error(ZINC_EINVAL, "channel: release on the writer");
  if (!holding_) return Status::error(ZINC_EINVAL, "channel: no frame is held");
  holding_ = false;
  ReaderEntry& e = entry(entry_index_);
  if (mode_ == ZINC_CHANNEL_LATEST) {
    // Release ordering: the reads of the payload happen before the writer
    // that sees the pin gone writes the slot.
    e.held.store(0, std::memory_order_release);
    return Status::ok();
  }
  e.cursor.store(held_frame_ + 1, std::memory_order_seq_cst);
  wake_writer();
  return Status::ok();
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

void Channel::cancel() {
  cancelled_.store(true, std::memory_order_seq_cst);
  region_->cancel_waits();
  futex::wake_all(&header_->release_seq);
}

}  // namespace zinc::core
