// channel.*: frame numbers (docs/spec.md §10.4). Frames, write_seq and
// cursors are exact 64-bit numbers, and they end at 2^63 - 2: a committed
// frame f has seq 2f + 2, which must not wrap to 0 ("never written"). No
// test reaches frame 2^32 by writing, so the kit plants channels (flags 0,
// as a plain v2 peer leaves them) whose write_seq is already there and lets
// the candidate's writer resume from it (§10.3). Required when the port
// exports the channel calls.
#include <string>
#include <vector>

#include "channel_format.hpp"
#include "channel_support.hpp"
#include "format.hpp"
#include "raw_object.hpp"

namespace zinc::conformance {
namespace {

constexpr uint64_t k2Pow32 = uint64_t{1} << 32;
constexpr uint64_t kMaxWriteSeq = (uint64_t{1} << 63) - 1;
constexpr uint32_t kSlots = 4;
constexpr uint64_t kFrameBytes = 64;

// A planted channel of `mode` (4 slots of 64 bytes, one reader entry) whose
// write_seq is `write_seq`.
void plant(const std::string& name, uint16_t mode, uint64_t write_seq) {
  const PlainChannel channel = plain_channel(name, mode, kSlots, kFrameBytes, 1, write_seq);
  plant_object(name, channel.object, channel.object.size());
}

uint64_t write_seq_of(const std::string& name) {
  return load_le(read_data_area(name, kChannelHeaderSize).data() + channel_offset::kWriteSeq, 8);
}

void frames_cross_2_pow_32(CheckContext& ctx) {
  for (uint16_t mode : {kLossless, kLatest}) {
    ObjectGuard g(ctx.unique_name());
    const uint64_t first = k2Pow32 - 2;
    plant(g.name(), mode, first);
    ChannelHandle writer = open_writer(ctx, g.name());
    ChannelHandle reader = open_reader(ctx, g.name());
    for (uint32_t i = 0; i < 4; ++i) {
      const uint64_t want = first + i;
      const std::string frame = mode_name(mode) + " frame " + std::to_string(want);
      uint64_t sequence = 0;
      const int32_t rc = write_frame(ctx.zinc, writer.get(), 2000, kFrameBytes, i, &sequence);
      ctx.expect_code("acquire + commit of " + frame + " (a writer resumed at 2^32 - 2)", 0, rc);
      if (rc != 0) break;
      ctx.expect_eq("the sequence zinc_channel_acquire gave " + frame, want, sequence);
      if (!expect_frame(ctx, "the read of " + frame, reader.get(), want, kFrameBytes, i)) break;
    }
    ctx.expect_eq(mode_name(mode) + " write_seq after frames 2^32 - 2 .. 2^32 + 1", first + 4,
                  write_seq_of(g.name()));
  }
}

void frame_numbers_end_at_2_pow_63_minus_2(CheckContext& ctx) {
  for (uint16_t mode : {kLossless, kLatest}) {
    const std::string label = mode_name(mode) + " channel";
    ObjectGuard g(ctx.unique_name());
    const uint64_t last = kMaxWriteSeq - 1;
    plant(g.name(), mode, last);
    ChannelHandle writer = open_writer(ctx, g.name());
    ChannelHandle reader = open_reader(ctx, g.name());
    uint64_t sequence = 0;
    ctx.require_code("acquire + commit of frame 2^63 - 2, the last one, in a " + label, 0,
                     write_frame(ctx.zinc, writer.get(), 2000, kFrameBytes, 7, &sequence));
    ctx.expect_eq("its sequence", last, sequence);
    expect_frame(ctx, "the read of frame 2^63 - 2", reader.get(), last, kFrameBytes, 7);

    // Frame 2^63 - 1 would commit as seq 2^64 = 0: refused, nothing stored.
    const std::vector<uint8_t> before = read_data_area(g.name(), 1 << 12);
    ZincChannelFrame frame{};
    ctx.expect_code("zinc_channel_acquire of frame 2^63 - 1 (write_seq 2^63 - 1) in a " + label,
                    ZINC_EBADMSG, ctx.zinc.channel_acquire(writer.get(), 0, &frame));
    ctx.expect(read_data_area(g.name(), 1 << 12) == before,
               "the " + label + "'s bytes after the refused acquire", "unchanged", "changed");
    ctx.expect_eq("write_seq after the refused acquire", kMaxWriteSeq, write_seq_of(g.name()));
    ctx.expect_code("a read after the last frame, timeout 0", ZINC_EAGAIN,
                    ctx.zinc.channel_read(reader.get(), 0, &frame));

    // Damage: write_seq beyond 2^63 - 1. A lossless cursor of 2^63 - 1 would
    // expect seq 2^64 = 0, which every never-written slot holds.
    patch_object(g.name(), ctx.page() + channel_offset::kWriteSeq, {0, 0, 0, 0, 0, 0, 0, 0x80});
    const int32_t rc = ctx.zinc.channel_read(reader.get(), 0, &frame);
    ctx.expect_code("a read with write_seq 2^63 (beyond the last frame) in a " + label,
                    ZINC_EBADMSG, rc);
    if (rc == 0) ctx.zinc.channel_release(reader.get());
  }
  ObjectGuard beyond(ctx.unique_name());
  plant(beyond.name(), kLossless, kMaxWriteSeq + 1);
  ChannelHandle reader(ctx.zinc);
  ctx.expect_code("zinc_channel_open_reader of a channel whose write_seq is 2^63", ZINC_EBADMSG,
                  ctx.zinc.channel_open_reader(beyond.c_str(), reader.out()));
  ChannelHandle writer(ctx.zinc);
  ctx.expect_code("zinc_channel_open_writer of a channel whose write_seq is 2^63", ZINC_EBADMSG,
                  ctx.zinc.channel_open_writer(beyond.c_str(), writer.out()));
}

const RegisterChecks registered({
    {.name = "channel.frames_cross_2_pow_32",
     .summary = "a writer resumed at write_seq 2^32 - 2 writes frames 2^32 - 2 .. 2^32 + 1 and a "
                "reader reads each with its 64-bit sequence, in both modes",
     .section = "§10.4",
     .needs = channel_functions(),
     .run = frames_cross_2_pow_32},
    {.name = "channel.frame_numbers_end_at_2_pow_63_minus_2",
     .summary = "frame 2^63 - 2 is written and read; acquiring 2^63 - 1 is -74 and stores "
                "nothing; a write_seq of 2^63 is -74 at read and at open, in both modes",
     .section = "§10.4",
     .needs = channel_functions(),
     .run = frame_numbers_end_at_2_pow_63_minus_2},
});

}  // namespace
}  // namespace zinc::conformance
