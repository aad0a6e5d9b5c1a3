// A channel: one writer and many readers passing fixed-size frames through
// the slots of a region's data area, without copying (docs/spec.md §10).
// The channel is a client of Region: it uses only the data area and
// notify/wait, plus a futex word of its own on which a lossless writer
// waits for readers to release.
//
// One Channel object is one participant (the writer or one reader). Its
// calls are meant for one thread at a time; cancel() may come from another
// thread and makes a blocked acquire or read return ZINC_ECANCELED.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "channel_layout.hpp"
#include "posix.hpp"
#include "region.hpp"
#include "status.hpp"
#include "zinc.h"

namespace zinc::core {

namespace testing {
// Test seam for a race that timing cannot force: when set, a joining
// reader calls it after its first read of write_seq and before it publishes
// its entry (tests/channel_test.cpp). Null in every real use.
inline void (*reader_join_hook)() = nullptr;
// Test seams for memory-ordering races (tests/channel_threads_test.cpp):
// when set, a writer's commit calls `commit_published_hook` after the
// stores that publish the frame and before its notify, and a reader's
// release calls `release_published_hook` after the store that gives the
// frame back (the lossless cursor, the latest pin) and before it wakes the
// writer. Another thread may then act in the one gap that no wake-up
// orders, so ThreadSanitizer (in a shared-mapping build) reports a
// publication made without release ordering. Null in every real use.
inline void (*commit_published_hook)() = nullptr;
inline void (*release_published_hook)() = nullptr;
}  // namespace testing

class Channel {
 public:
  enum class Role { kWriter, kReader };

  // Creates the region, lays the channel out and joins it: as the writer,
  // or as a reader with ZINC_CHANNEL_CREATE_READER in `flags` (the other
  // bits are ZINC_CREATE_* flags for the region).
  // `type` (may be NULL: untyped) is recorded in the header; the caller
  // has checked it against `slot_size` with validate_frame_type.
  static Status create(std::string_view name, uint32_t mode, uint32_t slot_count,
                       uint64_t slot_size, uint32_t max_readers, uint32_t flags,
                       const ZincChannelFrameType* type, std::unique_ptr<Channel>* out);
  static Status open(std::string_view name, Role role, std::unique_ptr<Channel>* out);

  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  // Leaves the role (a reader also releases what it holds), then closes
  // the region handle.
  ~Channel();

  Role role() const { return role_; }
  // The region's data area, where the channel header is.
  uint8_t* data() const { return region_->data(); }

  // Writer: the slot of the next frame (see zinc_channel_acquire).
  Status acquire(uint32_t timeout_ms, ZincChannelFrame* out);
  // Writer: publishes the acquired slot as a frame of `length` bytes.
  Status commit(uint64_t length);
  // Reader: the next (lossless) or newest unread (latest) committed frame.
  Status read(uint32_t timeout_ms, ZincChannelFrame* out);
  // Reader: gives the held frame back.
  Status release();

  // The header now (atomic loads), with the active readers counted.
  ZincChannelInfo info() const;
  // Makes current and future blocking calls return ZINC_ECANCELED.
  void cancel();

  // ---- For a wait set (docs/spec.md §11), from any thread ----
  // The futex word a waiter on this participant sleeps on: the region's
  // notify_seq for a reader (the writer notifies after each commit),
  // release_seq for the writer (readers bump it as they release).
  std::atomic<uint32_t>* wake_word() const;
  // Registers a sleeper on wake_word() the way this role's own blocking
  // call does (the region's sleepers count for a reader, writer_sleeping
  // for the writer), from before the waiter's last look until it is awake.
  void add_sleeper();
  void remove_sleeper();
  // Whether this participant's next read (reader) or acquire (writer)
  // would return without waiting: a frame is ready, a lossless writer has
  // room, or the call would fail at once (ZINC_EPIPE, ZINC_ESTALE,
  // ZINC_ECANCELED, ZINC_EBADMSG). A reader that holds a frame is not ready.
  // `judge_peers` also asks the kernel whether a writer (for a reader) or
  // the readers holding a lossless writer back (for the writer) are dead,
  // which costs system calls: a wait set does it now and then.
  bool ready(bool judge_peers) const;

  // Reclaims the entries of readers whose process is dead; returns how many.
  // Runs by itself while a lossless writer is held back and when a reader
  // finds the table full; public for tests.
  uint32_t reclaim_dead_readers();

 private:
  Channel(std::unique_ptr<Region> region, const ZincChannelInfo& layout, Role role);
  Status join_writer();
  Status join_reader();
  // Where the writer continues: write_seq, or (latest mode) after the frame
  // in latest_slot when a writer was killed between its commit stores; and
  // which slots are warm, rebuilt from the slot map (lossless) or the
  // slots' seq (latest), so a restarted writer needs no state of its own.
  void resume_writing();
  // Whether the holder named by owner word `word` is dead: by the role's
  // lock (`lock_byte`) where the region uses locks, else by the pid rule.
  bool holder_is_dead(uint64_t word, uint64_t joined_at, uint64_t lock_byte) const;
  // Takes an entry this process may claim: with locks, one whose lock we
  // could take; else a free word. Sets entry_index_; false if none.
  bool claim_reader_entry(int32_t pid, uint64_t* previous);

  // The owner word of this handle's role.
  std::atomic<uint64_t>& role_word() const;
  // Every frame call first: EINVAL in a fork() child, EINVAL for the wrong
  // role, ESTALE once the role was taken over (the handle then writes
  // nothing shared).
  Status check_call(Role expected, const char* call) const;
  // A reader with nothing to read: is the stream over for good? True when
  // no writer holds the role and the name no longer refers to this
  // channel (closed or replaced). `full` also asks the kernel about a
  // writer whose word is still set (a killed writer).
  bool stream_ended(bool full) const;
  uint64_t lock_byte_of_reader(uint32_t index) const;

  SlotHeader* slot_header(uint32_t slot) const;
  std::atomic<uint32_t>& map_entry(uint64_t frame) const { return map_[frame % slot_count_]; }
  uint8_t* payload(uint32_t slot) const;
  ReaderEntry& entry(uint32_t index) const { return entries_[index]; }

  // Writer internals.
  // Whether frame `frame` fits: every active reader is fewer than N frames
  // behind it. `oldest` receives the slowest active cursor (`frame` if none).
  bool ring_has_room(uint64_t frame, int32_t* blocker, uint64_t* oldest) const;
  // Lossless: gives the slots of the frames below `oldest` back to the
  // free stack, oldest frame first, so the last one released is on top.
  void return_released_slots(uint64_t oldest);
  // Whether every live-looking reader that holds frame `frame` back is dead.
  bool held_back_only_by_dead(uint64_t frame) const;
  void add_writer_sleeper();
  void remove_writer_sleeper();
  bool slot_is_pinned(uint32_t slot) const;
  Status acquire_lossless(uint32_t timeout_ms);
  Status acquire_latest();
  // Reader internals: 1 = got a frame, 0 = none yet, else an error status.
  Status try_read_lossless(bool* got, ZincChannelFrame* out);
  Status try_read_latest(bool* got, ZincChannelFrame* out);
  void wake_writer();

  std::unique_ptr<Region> region_;
  ChannelHeader* header_;
  ReaderEntry* entries_;
  std::atomic<uint32_t>* map_;
  uint8_t* slots_;
  // Geometry copied from the validated header at open: never re-read from
  // shared memory, so later damage there cannot send an index astray.
  uint32_t mode_;
  uint32_t slot_count_;
  uint32_t max_readers_;
  uint64_t slot_size_;
  uint64_t slot_stride_;
  Role role_;
  posix::ObjectId region_id_;
  bool region_id_known_ = false;
  bool locks_;            // the region's participants hold liveness locks (§4.5)
  uint64_t my_word_ = 0;  // the owner word this handle's role holds while it is ours
  std::atomic<bool> cancelled_{false};

  // Writer state.
  bool joined_ = false;
  bool acquired_ = false;
  uint64_t frame_ = 0;  // the next frame's number
  // frame_ as the writer last set it, for a wait set's look from another
  // thread (ready()): a lossless writer's room is counted from its own frame
  // number, as acquire counts it, not from write_seq, which anyone can forge.
  std::atomic<uint64_t> next_frame_{0};
  uint32_t slot_ = 0;   // the acquired slot
  int64_t last_reclaim_ns_ = 0;
  // The writer's sleepers in this process (its own acquire and wait sets):
  // writer_sleeping is 1 while there is any. The mutex orders the stores.
  std::mutex writer_sleep_mutex_;
  uint32_t writer_sleepers_ = 0;
  // Lossless: the writer's own copy of the slot map (never re-read: damage
  // to the shared one cannot make it hand out a slot twice), the free slots
  // as a stack whose top is the one released last (the warmest), and the
  // first frame whose slot is not on that stack yet.
  std::vector<uint32_t> slot_of_frame_;
  std::vector<uint32_t> free_slots_;
  uint64_t released_below_ = 0;
  // Latest: every slot, the one committed last first (the warmest).
  std::vector<uint32_t> slots_by_use_;

  // Reader state.
  uint32_t entry_index_ = 0;
  // Atomic only for wait sets, which look at it from their own thread.
  std::atomic<bool> holding_{false};
  uint64_t held_frame_ = 0;
};

}  // namespace zinc::core
