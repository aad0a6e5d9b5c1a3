// channel.*: a port's channels in one process (docs/spec.md §10): frames in
// order and whole, back-pressure, the newest frame, the one writer, the
// reader table, calls in the wrong role, and a close that cancels. Required
// when the port exports the channel calls (skipped when it does not); the
// reference's own API promises are extension checks.
#include <unistd.h>

#include <atomic>
#include <memory>
#include <thread>

#include "channel_format.hpp"
#include "channel_support.hpp"
#include "format.hpp"
#include "peer.hpp"
#include "raw_object.hpp"

namespace zinc::conformance {
namespace {

void lossless_delivers_every_frame_in_order(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  constexpr uint64_t kSlot = 512;
  ChannelHandle writer = create_channel(ctx, g.name(), kLossless, 4, kSlot, 2);
  ChannelHandle reader = open_reader(ctx, g.name());
  // Batches of 3, 4 (a full ring) and 3: slots are reused, lengths vary
  // from 1 byte to the whole slot.
  uint64_t next = 0;
  for (const int batch : {3, 4, 3}) {
    const uint64_t first = next;
    for (int i = 0; i < batch; ++i, ++next) {
      const uint64_t length = next == 5 ? kSlot : 1 + next * 53 % kSlot;
      if (!expect_write(ctx, writer.get(), length, static_cast<uint32_t>(100 + next))) return;
    }
    for (uint64_t f = first; f < next; ++f) {
      const uint64_t length = f == 5 ? kSlot : 1 + f * 53 % kSlot;
      expect_frame(ctx, "frame " + std::to_string(f), reader.get(), f, length,
                   static_cast<uint32_t>(100 + f));
    }
  }
  ctx.expect_code("zinc_channel_read(0) after the last frame", ZINC_EAGAIN,
                  read_frame(ctx.zinc, reader.get(), 0).rc);
  // The shared state where §10 puts it: write_seq at 32, the reader's entry
  // (the only active one) with the next frame as its cursor.
  const ChannelLayout l = channel_layout(4, kSlot, 2);
  const std::vector<uint8_t> area = read_data_area(g.name(), l.required_bytes);
  ctx.expect_eq("write_seq (data-area bytes 32..39) after 10 frames", 10,
                decode_channel_header(area.data()).write_seq);
  int active = 0;
  for (uint32_t i = 0; i < 2; ++i) {
    const uint64_t owner = load_le(&area[l.entry(i) + channel_offset::kEntryOwner], 8);
    if (owner_holder(owner) != active_owner(getpid())) continue;
    ++active;
    ctx.expect_eq("cursor of the reader's entry (the next frame to read)", 10,
                  load_le(&area[l.entry(i) + channel_offset::kEntryCursor], 8));
  }
  ctx.expect_eq("reader entries holding this pid with the active bit", 1,
                static_cast<uint64_t>(active));
}

void lossless_late_reader_starts_at_the_next_frame(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  ChannelHandle writer = create_channel(ctx, g.name(), kLossless, 2, 64, 2);
  // No reader: nothing holds the writer back, however many frames.
  for (uint32_t f = 0; f < 5; ++f) {
    if (!ctx.expect_code("write frame " + std::to_string(f) + " with no reader (timeout 0)", 0,
                         write_frame(ctx.zinc, writer.get(), 0, 64, f))) {
      return;
    }
  }
  ChannelHandle reader = open_reader(ctx, g.name());
  const ReadFrame early = read_frame(ctx.zinc, reader.get(), 0);
  ctx.expect(early.rc == ZINC_EAGAIN, "zinc_channel_read(0) of a reader that joined after 5 frames",
             describe_code(ZINC_EAGAIN) + " (frames before the join are not shown)",
             early.rc == 0 ? "frame " + std::to_string(early.sequence) : describe_code(early.rc));
  if (!expect_write(ctx, writer.get(), 40, 7)) return;
  expect_frame(ctx, "the first frame committed after the join", reader.get(), 5, 40, 7);
}

void lossless_writer_waits_for_the_slowest_reader(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  ChannelHandle writer = create_channel(ctx, g.name(), kLossless, 4, 64, 3);
  ChannelHandle fast = open_reader(ctx, g.name());
  ChannelHandle slow = open_reader(ctx, g.name());
  for (uint32_t f = 0; f < 4; ++f) {
    if (!expect_write(ctx, writer.get(), 64, 10 + f)) return;
    expect_frame(ctx, "fast reader: frame " + std::to_string(f), fast.get(), f, 64, 10 + f);
  }
  // The slow reader has read nothing: the ring is full for it.
  ZincChannelFrame frame{};
  ctx.expect_code("zinc_channel_acquire(0) with the slowest reader 4 frames behind (4 slots)",
                  ZINC_EAGAIN, ctx.zinc.channel_acquire(writer.get(), 0, &frame));
  const int64_t start = monotonic_ms();
  const int32_t timed = ctx.zinc.channel_acquire(writer.get(), 100, &frame);
  const int64_t elapsed = monotonic_ms() - start;
  ctx.expect_code("zinc_channel_acquire(100) with the ring still full", ZINC_ETIMEDOUT, timed);
  ctx.expect(elapsed < 5000, "time zinc_channel_acquire(100) took", "under 5 s",
             std::to_string(elapsed) + " ms");
  expect_frame(ctx, "slow reader: frame 0", slow.get(), 0, 64, 10);
  // One slot free now, and only one.
  ctx.expect_code("write frame 4 after the slow reader released frame 0", 0,
                  write_frame(ctx.zinc, writer.get(), 0, 64, 14));
  ctx.expect_code("zinc_channel_acquire(0) for frame 5 (slow reader 4 behind again)", ZINC_EAGAIN,
                  ctx.zinc.channel_acquire(writer.get(), 0, &frame));
  for (uint32_t f = 1; f < 5; ++f) {
    expect_frame(ctx, "slow reader: frame " + std::to_string(f) + " (not overwritten)", slow.get(),
                 f, 64, 10 + f);
  }
}

void frame_is_visible_only_after_commit(CheckContext& ctx) {
  for (const uint32_t mode : {kLossless, kLatest}) {
    ObjectGuard g(ctx.unique_name());
    const std::string m = mode_name(mode) + ": ";
    ChannelHandle writer = create_channel(ctx, g.name(), mode, 4, 128, 1);
    ChannelHandle reader = open_reader(ctx, g.name());
    ZincChannelFrame frame{};
    ctx.require_code(m + "zinc_channel_acquire", 0,
                     ctx.zinc.channel_acquire(writer.get(), 0, &frame));
    fill_pattern(frame.data, 128, 5);
    const ReadFrame early = read_frame(ctx.zinc, reader.get(), 0);
    ctx.expect(early.rc == ZINC_EAGAIN, m + "zinc_channel_read(0) while the frame is acquired",
               describe_code(ZINC_EAGAIN),
               early.rc == 0 ? "frame " + std::to_string(early.sequence) : describe_code(early.rc));
    ctx.require_code(m + "zinc_channel_commit(128)", 0, ctx.zinc.channel_commit(writer.get(), 128));
    expect_frame(ctx, m + "the frame after its commit", reader.get(), 0, 128, 5);
  }
}

void latest_reader_gets_the_newest_frame_once(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  constexpr uint32_t kSlots = 4;
  ChannelHandle writer = create_channel(ctx, g.name(), kLatest, kSlots, 128, 2);
  ChannelHandle early = open_reader(ctx, g.name());
  ctx.expect_code("zinc_channel_read(0) before any frame", ZINC_EAGAIN,
                  read_frame(ctx.zinc, early.get(), 0).rc);
  for (uint32_t f = 0; f < 3; ++f) {
    if (!expect_write(ctx, writer.get(), 20 + f, 30 + f)) return;
  }
  ChannelHandle late = open_reader(ctx, g.name());
  expect_frame(ctx, "a reader that joined after 3 frames: the newest", late.get(), 2, 22, 32);
  expect_frame(ctx, "a reader that joined before them: the newest", early.get(), 2, 22, 32);
  ctx.expect_code("zinc_channel_read(0) again, nothing newer", ZINC_EAGAIN,
                  read_frame(ctx.zinc, late.get(), 0).rc);
  for (uint32_t f = 3; f < 5; ++f) {
    if (!expect_write(ctx, writer.get(), 20 + f, 30 + f)) return;
  }
  expect_frame(ctx, "after two more frames: the newest", late.get(), 4, 24, 34);
  ctx.expect_code("zinc_channel_read(0) once more", ZINC_EAGAIN,
                  read_frame(ctx.zinc, late.get(), 0).rc);
  // latest_slot names the slot that holds frame 4, committed (seq 2f + 2).
  const ChannelLayout l = channel_layout(kSlots, 128, 2);
  const std::vector<uint8_t> area = read_data_area(g.name(), l.required_bytes);
  const ChannelFields h = decode_channel_header(area.data());
  ctx.expect_eq("write_seq after 5 frames", 5, h.write_seq);
  if (ctx.expect(h.latest_slot < kSlots, "latest_slot (bytes 40..43)", "a slot index below 4",
                 hex(h.latest_slot))) {
    ctx.expect_eq("seq of the slot latest_slot names (2 * 4 + 2)", 10,
                  load_le(&area[l.slot(h.latest_slot) + channel_offset::kSlotSeq], 8));
    ctx.expect_eq("length of that slot", 24,
                  load_le(&area[l.slot(h.latest_slot) + channel_offset::kSlotLength], 8));
  }
}

void latest_writer_never_overwrites_a_held_frame(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  // The fewest slots a latest channel with one reader may have: the newest
  // frame's, the reader's pin and one to write.
  ChannelHandle writer = create_channel(ctx, g.name(), kLatest, 3, 256, 1);
  ChannelHandle reader = open_reader(ctx, g.name());
  if (!expect_write(ctx, writer.get(), 256, 1)) return;
  ZincChannelFrame held{};
  ctx.require_code("zinc_channel_read (held, not released)", 0,
                   ctx.zinc.channel_read(reader.get(), 2000, &held));
  for (uint32_t f = 1; f <= 20; ++f) {
    if (!ctx.expect_code("write frame " + std::to_string(f) +
                             " with timeout 0 while a frame is held (the writer never waits)",
                         0, write_frame(ctx.zinc, writer.get(), 0, 256, 1 + f))) {
      break;
    }
  }
  ctx.expect_eq("bytes of the held frame 0 that changed under the reader", 0,
                pattern_mismatches(held.data, 256, 1));
  ctx.expect_code("zinc_channel_release", 0, ctx.zinc.channel_release(reader.get()));
  expect_frame(ctx, "the next read: the newest", reader.get(), 20, 256, 21);
}

void second_writer_is_busy(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  ChannelHandle creator = create_channel(ctx, g.name(), kLossless, 2, 64, 1);
  ZincChannel out = reinterpret_cast<ZincChannel>(junk_handle());
  ctx.expect_code("zinc_channel_open_writer while the creator is the writer", ZINC_EBUSY,
                  ctx.zinc.channel_open_writer(g.c_str(), &out));
  ctx.expect_null("*out after the refused open", out);
  if (out != nullptr) ctx.zinc.channel_close(out);
  creator.close();

  ObjectGuard g2(ctx.unique_name());
  ChannelHandle owner =
      create_channel(ctx, g2.name(), kLatest, 3, 64, 1, ZINC_CHANNEL_CREATE_READER);
  ChannelHandle writer = open_writer(ctx, g2.name());
  ChannelHandle second(ctx.zinc);
  ctx.expect_code("a second zinc_channel_open_writer (the creator is a reader)", ZINC_EBUSY,
                  ctx.zinc.channel_open_writer(g2.c_str(), second.out()));
  writer.close();
  ctx.expect_code("zinc_channel_open_writer after the writer closed", 0,
                  ctx.zinc.channel_open_writer(g2.c_str(), second.out()));
}

void full_reader_table_is_busy(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  ChannelHandle writer = create_channel(ctx, g.name(), kLossless, 4, 64, 2);
  ChannelHandle first = open_reader(ctx, g.name());
  ChannelHandle second = open_reader(ctx, g.name());
  ZincChannel out = reinterpret_cast<ZincChannel>(junk_handle());
  ctx.expect_code("a third zinc_channel_open_reader of max_readers 2", ZINC_EBUSY,
                  ctx.zinc.channel_open_reader(g.c_str(), &out));
  ctx.expect_null("*out after the refused open", out);
  if (out != nullptr) ctx.zinc.channel_close(out);
  first.close();
  ChannelHandle third(ctx.zinc);
  ctx.expect_code("zinc_channel_open_reader after a reader closed", 0,
                  ctx.zinc.channel_open_reader(g.c_str(), third.out()));
}

void reader_refuses_a_frame_longer_than_its_slot(CheckContext& ctx) {
  for (const uint32_t mode : {kLossless, kLatest}) {
    ObjectGuard g(ctx.unique_name());
    const std::string m = mode_name(mode) + ": ";
    ChannelHandle writer = create_channel(ctx, g.name(), mode, 4, 100, 1);
    ChannelHandle reader = open_reader(ctx, g.name());
    ZincChannelFrame frame{};
    ctx.require_code(m + "zinc_channel_acquire", 0,
                     ctx.zinc.channel_acquire(writer.get(), 0, &frame));
    ctx.require_code(m + "zinc_channel_commit(100)", 0, ctx.zinc.channel_commit(writer.get(), 100));
    // Anyone who can write the object can damage a committed slot's length:
    // a reader must not hand out a view past its slot.
    const ChannelLayout l = channel_layout(4, 100, 1);
    const std::vector<uint8_t> area = read_data_area(g.name(), l.slots_offset);
    const uint64_t slot = mode == kLossless ? load_le(&area[l.map_entry(0)], 4)
                                            : decode_channel_header(area.data()).latest_slot;
    ctx.require(slot < 4, m + "the committed frame's slot", "an index below 4", hex(slot));
    std::vector<uint8_t> length(8);
    store_le(length.data(), 8, 101);
    patch_object(g.name(), system_page_size() + l.slot(static_cast<uint32_t>(slot)) + 8, length);
    const ReadFrame r = read_frame(ctx.zinc, reader.get(), 0);
    ctx.expect(
        r.rc == ZINC_EBADMSG,
        m + "zinc_channel_read of a committed frame whose length says 101 (slot size 100)",
        describe_code(ZINC_EBADMSG),
        r.rc == 0 ? "a frame of " + std::to_string(r.length) + " bytes" : describe_code(r.rc));
  }
}

void calls_in_the_wrong_role_are_invalid(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  ChannelHandle writer = create_channel(ctx, g.name(), kLossless, 4, 64, 1);
  ChannelHandle reader = open_reader(ctx, g.name());
  ZincChannelFrame frame{};
  ctx.expect_code("zinc_channel_acquire on a reader", ZINC_EINVAL,
                  ctx.zinc.channel_acquire(reader.get(), 0, &frame));
  ctx.expect_code("zinc_channel_commit on a reader", ZINC_EINVAL,
                  ctx.zinc.channel_commit(reader.get(), 1));
  ctx.expect_code("zinc_channel_read on the writer", ZINC_EINVAL,
                  ctx.zinc.channel_read(writer.get(), 0, &frame));
  ctx.expect_code("zinc_channel_release on the writer", ZINC_EINVAL,
                  ctx.zinc.channel_release(writer.get()));
  ctx.expect_code("zinc_channel_commit with nothing acquired", ZINC_EINVAL,
                  ctx.zinc.channel_commit(writer.get(), 1));
  ctx.expect_code("zinc_channel_release with nothing held", ZINC_EINVAL,
                  ctx.zinc.channel_release(reader.get()));
  ctx.require_code("zinc_channel_acquire", 0, ctx.zinc.channel_acquire(writer.get(), 0, &frame));
  ctx.expect_code("zinc_channel_commit(65) of a 64-byte slot", ZINC_EINVAL,
                  ctx.zinc.channel_commit(writer.get(), 65));
  ctx.require_code("zinc_channel_commit(64)", 0, ctx.zinc.channel_commit(writer.get(), 64));
  ctx.require_code("zinc_channel_acquire", 0, ctx.zinc.channel_acquire(writer.get(), 0, &frame));
  ctx.require_code("zinc_channel_commit(64)", 0, ctx.zinc.channel_commit(writer.get(), 64));
  ctx.require_code("zinc_channel_read", 0, ctx.zinc.channel_read(reader.get(), 0, &frame));
  ctx.expect_code("a second zinc_channel_read before the release", ZINC_EINVAL,
                  ctx.zinc.channel_read(reader.get(), 0, &frame));
  ctx.expect_code("zinc_channel_release", 0, ctx.zinc.channel_release(reader.get()));
  ctx.expect_code("zinc_channel_read of a NULL handle", ZINC_EINVAL,
                  ctx.zinc.channel_read(nullptr, 0, &frame));
}

// A channel call on a thread of its own that the check watches fall asleep.
class BlockedCall {
 public:
  explicit BlockedCall(std::function<int32_t()> call)
      : state_(std::make_shared<State>()), thread_([state = state_, call = std::move(call)] {
          state->tid.store(current_tid());
          state->rc.store(call());
          state->done.store(true);
        }) {}
  ~BlockedCall() {
    if (state_->done.load()) {
      thread_.join();
    } else {
      thread_.detach();  // still blocked: the check process exits soon
    }
  }
  bool asleep_within(int timeout_ms) {
    const int64_t deadline = monotonic_ms() + timeout_ms;
    while (state_->tid.load() == 0 && monotonic_ms() < deadline) usleep(200);
    const int64_t left = deadline - monotonic_ms();
    return state_->tid.load() != 0 &&
           wait_until_asleep(getpid(), state_->tid.load(), static_cast<int>(left > 0 ? left : 0));
  }
  bool returned_within(int limit_ms) {
    const int64_t deadline = monotonic_ms() + limit_ms;
    while (!state_->done.load()) {
      if (monotonic_ms() >= deadline) return false;
      usleep(500);
    }
    return true;
  }
  int32_t rc() const { return state_->rc.load(); }

 private:
  struct State {
    std::atomic<pid_t> tid{0};
    std::atomic<bool> done{false};
    std::atomic<int32_t> rc{0};
  };
  std::shared_ptr<State> state_;
  std::thread thread_;
};

void close_cancels_a_blocked_call(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  ChannelHandle writer = create_channel(ctx, g.name(), kLossless, 1, 64, 1);
  ChannelHandle reader = open_reader(ctx, g.name());
  const Api& api = ctx.zinc;
  {
    const ZincChannel r = reader.get();
    BlockedCall read([&api, r] {
      ZincChannelFrame frame{};
      return api.channel_read(r, 10000, &frame);
    });
    if (!read.asleep_within(2000)) ctx.note("the reading thread was not seen asleep within 2 s");
    reader.close();
    if (ctx.expect(read.returned_within(2000),
                   "zinc_channel_read(10000) after zinc_channel_close on another thread",
                   "returns within 2 s", "still blocked")) {
      ctx.expect_code("zinc_channel_read(10000) whose handle was closed", ZINC_ECANCELED,
                      read.rc());
    }
  }
  // The writer of a full ring, blocked in acquire.
  ChannelHandle lagging = open_reader(ctx, g.name());
  if (!expect_write(ctx, writer.get(), 64, 1)) return;
  const ZincChannel w = writer.get();
  BlockedCall acquire([&api, w] {
    ZincChannelFrame frame{};
    return api.channel_acquire(w, 10000, &frame);
  });
  if (!acquire.asleep_within(2000)) ctx.note("the acquiring thread was not seen asleep within 2 s");
  writer.close();
  if (ctx.expect(acquire.returned_within(2000),
                 "zinc_channel_acquire(10000) on a full ring after zinc_channel_close",
                 "returns within 2 s", "still blocked")) {
    ctx.expect_code("zinc_channel_acquire(10000) whose handle was closed", ZINC_ECANCELED,
                    acquire.rc());
  }
}

const std::vector<std::string>& channel_calls() {
  return channel_functions();
}

const RegisterChecks registered({
    {.name = "channel.lossless_delivers_every_frame_in_order",
     .summary = "10 frames of 1..512 bytes through 4 slots arrive in order, whole, once; "
                "write_seq and the reader's cursor are at their offsets",
     .needs = channel_calls(),
     .run = lossless_delivers_every_frame_in_order},
    {.name = "channel.lossless_late_reader_starts_at_the_next_frame",
     .summary = "with no reader the writer is never held back; a reader that joins after 5 "
                "frames first reads frame 5",
     .needs = channel_calls(),
     .run = lossless_late_reader_starts_at_the_next_frame},
    {.name = "channel.lossless_writer_waits_for_the_slowest_reader",
     .summary = "acquire gives -11 (timeout 0) and -110 (timeout 100) while the slowest of two "
                "readers is 4 frames behind in 4 slots; its unread frames stay whole",
     .needs = channel_calls(),
     .run = lossless_writer_waits_for_the_slowest_reader},
    {.name = "channel.frame_is_visible_only_after_commit",
     .summary = "an acquired frame is not readable (-11) until its commit, in both modes",
     .needs = channel_calls(),
     .run = frame_is_visible_only_after_commit},
    {.name = "channel.latest_reader_gets_the_newest_frame_once",
     .summary = "a latest-mode read returns the newest committed frame, then -11 until a newer "
                "one; latest_slot names its committed slot",
     .needs = channel_calls(),
     .run = latest_reader_gets_the_newest_frame_once},
    {.name = "channel.latest_writer_never_overwrites_a_held_frame",
     .summary = "20 frames written (timeout 0) into 3 slots while a reader holds one: the held "
                "bytes never change",
     .needs = channel_calls(),
     .run = latest_writer_never_overwrites_a_held_frame},
    {.name = "channel.second_writer_is_busy",
     .summary = "open_writer while a writer holds the role gives -16 and NULL; after its close "
                "the role is free",
     .needs = channel_calls(),
     .run = second_writer_is_busy},
    {.name = "channel.full_reader_table_is_busy",
     .summary = "a reader beyond max_readers gets -16 and NULL; a reader's close frees its entry",
     .needs = channel_calls(),
     .run = full_reader_table_is_busy},
    {.name = "channel.reader_refuses_a_frame_longer_than_its_slot",
     .summary = "a committed slot whose length exceeds the slot size reads as -74, in both modes",
     .needs = channel_calls(),
     .run = reader_refuses_a_frame_longer_than_its_slot},
    {.name = "channel.calls_in_the_wrong_role_are_invalid",
     .requirement = Requirement::kExtension,
     .summary = "acquire/commit on a reader, read/release on the writer, commit or release "
                "without a frame, an oversized commit, a second read: -22",
     .needs = channel_calls(),
     .run = calls_in_the_wrong_role_are_invalid},
    {.name = "channel.close_cancels_a_blocked_call",
     .requirement = Requirement::kExtension,
     .summary = "zinc_channel_close on another thread ends a blocked read and a blocked acquire "
                "with -125 within 2 s",
     .needs = channel_calls(),
     .run = close_cancels_a_blocked_call},
});

}  // namespace
}  // namespace zinc::conformance
