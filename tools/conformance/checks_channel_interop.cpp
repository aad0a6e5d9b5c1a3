// interop.channel_*: the candidate and the reference (in a peer process) on
// one channel (docs/spec.md §10), in both modes: frames written by one are
// read whole by the other, each honours the other's reader entries, and one
// writer fans out to readers of both implementations. Required when the
// port exports the channel calls; skipped when the reference lacks them.
#include <memory>

#include "channel_format.hpp"
#include "channel_support.hpp"
#include "check_support.hpp"
#include "format.hpp"
#include "peer.hpp"
#include "raw_object.hpp"

namespace zinc::conformance {
namespace {

constexpr uint64_t kSlot = 300;

uint64_t length_of(uint64_t frame) {
  return 1 + frame * 71 % kSlot;
}

// Sends a channel command the reference must know; skips the check if the
// reference is a build without channels.
std::string channel_call(CheckContext& ctx, Peer& reference, const std::string& command) {
  const std::string answer = reference.call(command);
  if (answer == "rc none") ctx.skip("the reference lacks the channel calls");
  return answer;
}

std::string frame_line(uint64_t sequence, uint64_t length, uint32_t seed) {
  return "frame " + std::to_string(sequence) + " " + std::to_string(length) + " " +
         hex(frame_hash(length, seed));
}

void expect_reference_reads(CheckContext& ctx, Peer& reference, uint64_t sequence, uint32_t seed) {
  expect_answer(ctx, reference, "channel_read 2000",
                frame_line(sequence, length_of(sequence), seed));
}

bool reference_writes(CheckContext& ctx, Peer& reference, uint64_t sequence, uint32_t seed) {
  return expect_answer(
      ctx, reference,
      "channel_write 2000 " + std::to_string(length_of(sequence)) + " " + std::to_string(seed),
      "rc 0 seq " + std::to_string(sequence));
}

void candidate_writes_reference_reads(CheckContext& ctx) {
  for (const uint32_t mode : {kLossless, kLatest}) {
    ObjectGuard g(ctx.unique_name());
    const std::string m = mode_name(mode) + ": ";
    ChannelHandle writer = create_channel(ctx, g.name(), mode, 4, kSlot, 2);
    auto reference = ctx.reference_peer();
    ctx.require(channel_call(ctx, *reference, "channel_open_reader " + g.name()) == rc_line(0),
                m + "reference: channel_open_reader", rc_line(0), "another answer");
    for (uint64_t f = 0; f < 8; ++f) {
      if (!ctx.expect_code(
              m + "candidate writes frame " + std::to_string(f), 0,
              write_frame(ctx.zinc, writer.get(), 0, length_of(f), static_cast<uint32_t>(f + 1)))) {
        return;
      }
      // Lossless: the reference reads each frame in turn, after the ring
      // filled once; latest: it reads the newest after every other frame.
      if (mode == kLossless && f == 3) {
        ZincChannelFrame frame{};
        ctx.expect_code(m + "candidate acquire(0) with the reference reader 4 frames behind",
                        ZINC_EAGAIN, ctx.zinc.channel_acquire(writer.get(), 0, &frame));
        for (uint64_t r = 0; r <= 3; ++r) {
          expect_reference_reads(ctx, *reference, r, static_cast<uint32_t>(r + 1));
        }
      } else if (mode == kLossless && f > 3) {
        expect_reference_reads(ctx, *reference, f, static_cast<uint32_t>(f + 1));
      } else if (mode == kLatest && f % 2 == 1) {
        expect_reference_reads(ctx, *reference, f, static_cast<uint32_t>(f + 1));
      }
    }
    expect_answer(ctx, *reference, "channel_read 0", rc_line(ZINC_EAGAIN));
  }
}

void reference_writes_candidate_reads(CheckContext& ctx) {
  for (const uint32_t mode : {kLossless, kLatest}) {
    ObjectGuard g(ctx.unique_name());
    const std::string m = mode_name(mode) + ": ";
    auto reference = ctx.reference_peer();
    const std::string created =
        channel_call(ctx, *reference,
                     "channel_create " + g.name() + " " + std::to_string(mode) + " 4 " +
                         std::to_string(kSlot) + " 2 0");
    ctx.require(created == rc_line(0), m + "reference: channel_create", rc_line(0), created);
    ChannelHandle reader = open_reader(ctx, g.name());
    for (uint64_t f = 0; f < 4; ++f) {
      if (!reference_writes(ctx, *reference, f, static_cast<uint32_t>(f + 20))) return;
    }
    if (mode == kLossless) {
      // The reference writer must see the candidate's entry and cursor.
      expect_answer(ctx, *reference, "channel_write 0 1 1", "rc -11 seq 0");
      for (uint64_t f = 0; f < 4; ++f) {
        expect_frame(ctx, m + "candidate reads frame " + std::to_string(f), reader.get(), f,
                     length_of(f), static_cast<uint32_t>(f + 20));
      }
    } else {
      expect_frame(ctx, m + "candidate reads the newest frame", reader.get(), 3, length_of(3), 23);
    }
    if (!reference_writes(ctx, *reference, 4, 24)) return;
    expect_frame(ctx, m + "candidate reads frame 4", reader.get(), 4, length_of(4), 24);
    ctx.expect_code(m + "candidate zinc_channel_read(0) after it", ZINC_EAGAIN,
                    read_frame(ctx.zinc, reader.get(), 0).rc);
  }
}

void candidate_writer_fans_out(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  ChannelHandle writer = create_channel(ctx, g.name(), kLossless, 4, kSlot, 3);
  ChannelHandle reader = open_reader(ctx, g.name());
  auto reference = ctx.reference_peer();
  ctx.require(channel_call(ctx, *reference, "channel_open_reader " + g.name()) == rc_line(0),
              "reference: channel_open_reader", rc_line(0), "another answer");
  for (uint64_t f = 0; f < 6; ++f) {
    if (!ctx.expect_code("candidate writes frame " + std::to_string(f), 0,
                         write_frame(ctx.zinc, writer.get(), 2000, length_of(f),
                                     static_cast<uint32_t>(f + 40)))) {
      return;
    }
    expect_frame(ctx, "candidate reader: frame " + std::to_string(f), reader.get(), f, length_of(f),
                 static_cast<uint32_t>(f + 40));
    expect_reference_reads(ctx, *reference, f, static_cast<uint32_t>(f + 40));
  }
}

void reference_writer_fans_out(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  auto writer = ctx.reference_peer();
  const std::string created = channel_call(
      ctx, *writer, "channel_create " + g.name() + " 2 5 " + std::to_string(kSlot) + " 3 0");
  ctx.require(created == rc_line(0), "reference: channel_create (latest)", rc_line(0), created);
  ChannelHandle reader = open_reader(ctx, g.name());
  auto other = ctx.reference_peer();
  require_answer(ctx, *other, "channel_open_reader " + g.name(), rc_line(0));
  for (uint64_t f = 0; f < 6; ++f) {
    if (!reference_writes(ctx, *writer, f, static_cast<uint32_t>(f + 60))) return;
    if (f % 2 == 0) continue;
    expect_frame(ctx, "candidate reader: the newest, frame " + std::to_string(f), reader.get(), f,
                 length_of(f), static_cast<uint32_t>(f + 60));
    expect_reference_reads(ctx, *other, f, static_cast<uint32_t>(f + 60));
  }
}

const RegisterChecks registered({
    {.name = "interop.channel_candidate_writes_reference_reads",
     .summary = "frames a candidate writer commits are read whole and in order by a reference "
                "reader (lossless, held back by it) and as the newest (latest)",
     .needs = channel_functions(),
     .needs_reference = true,
     .run = candidate_writes_reference_reads},
    {.name = "interop.channel_reference_writes_candidate_reads",
     .summary = "a candidate reader reads a reference writer's frames in both modes; the "
                "reference writer is held back by the candidate's cursor",
     .needs = channel_functions(),
     .needs_reference = true,
     .run = reference_writes_candidate_reads},
    {.name = "interop.channel_candidate_writer_fans_out",
     .summary = "one candidate lossless writer, a candidate and a reference reader: each reads "
                "every frame",
     .needs = channel_functions(),
     .needs_reference = true,
     .run = candidate_writer_fans_out},
    {.name = "interop.channel_reference_writer_fans_out",
     .summary = "one reference latest writer, a candidate and a reference reader: each reads "
                "the newest frame",
     .needs = channel_functions(),
     .needs_reference = true,
     .run = reference_writer_fans_out},
});

}  // namespace
}  // namespace zinc::conformance
