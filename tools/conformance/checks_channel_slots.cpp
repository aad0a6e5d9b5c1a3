// channel.* (slots): where frames live. A lossless reader finds frame f in
// the slot that map entry f mod N names, never by assuming slot f mod N
// (§10.5, required); a writer puts each frame in the warmest free slot, the
// one whose frame was released last (§10.5, §10.6: a SHOULD the reference
// keeps, so an extension check).
#include <unistd.h>

#include <vector>

#include "channel_format.hpp"
#include "channel_support.hpp"
#include "format.hpp"
#include "peer.hpp"
#include "raw_object.hpp"

namespace zinc::conformance {
namespace {

constexpr uint32_t kSlots = 4;
constexpr uint64_t kSize = 64;

// Writes frame `frame` into slot `slot` by hand, as a writer would: payload
// and length, seq 2f + 2, the map entry, and last write_seq = f + 1.
void forge_frame(const std::string& name, const ChannelLayout& l, uint64_t frame, uint32_t slot,
                 uint32_t map_says, uint64_t length, uint32_t seed) {
  const uint64_t base = system_page_size();
  std::vector<uint8_t> payload(length);
  fill_pattern(payload.data(), length, seed);
  patch_object(name, base + l.slot(slot) + kSlotHeaderSize, payload);
  std::vector<uint8_t> word(8);
  store_le(word.data(), 8, length);
  patch_object(name, base + l.slot(slot) + channel_offset::kSlotLength, word);
  store_le(word.data(), 8, 2 * frame + 2);
  patch_object(name, base + l.slot(slot) + channel_offset::kSlotSeq, word);
  std::vector<uint8_t> entry(4);
  store_le(entry.data(), 4, map_says);
  patch_object(name, base + l.map_entry(frame), entry);
  store_le(word.data(), 8, frame + 1);
  patch_object(name, base + channel_offset::kWriteSeq, word);
}

std::string describe_read(const ReadFrame& r) {
  return r.rc == 0
             ? "frame " + std::to_string(r.sequence) + " of " + std::to_string(r.length) + " bytes"
             : describe_code(r.rc);
}

void reader_follows_the_slot_map(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  // The creator is the only reader (cursor 0); no writer: the kit writes
  // the frames itself, into slots other than f mod N.
  ChannelHandle reader =
      create_channel(ctx, g.name(), kLossless, kSlots, kSize, 1, ZINC_CHANNEL_CREATE_READER);
  const ChannelLayout l = channel_layout(kSlots, kSize, 1);

  forge_frame(g.name(), l, 0, 2, 2, 24, 7);
  expect_frame(ctx, "frame 0, committed in slot 2 and mapped there (map entry 0 = 2)", reader.get(),
               0, 24, 7, 0);

  // Frame 1 committed in slot 3, but map entry 1 still names slot 2 (which
  // holds frame 0): damage, never frame 0's bytes shown as frame 1.
  forge_frame(g.name(), l, 1, 3, 2, 40, 8);
  const ReadFrame stale = read_frame(ctx.zinc, reader.get(), 0);
  ctx.expect(stale.rc == ZINC_EBADMSG,
             "zinc_channel_read of frame 1 whose map entry names slot 2 (seq of frame 0)",
             describe_code(ZINC_EBADMSG), describe_read(stale));

  // The entry corrected: the same read now finds frame 1 in slot 3.
  forge_frame(g.name(), l, 1, 3, 3, 40, 8);
  expect_frame(ctx, "frame 1 once map entry 1 names slot 3", reader.get(), 1, 40, 8, 0);

  // An entry naming no slot at all.
  forge_frame(g.name(), l, 2, 0, kSlots, 16, 9);
  const ReadFrame wild = read_frame(ctx.zinc, reader.get(), 0);
  ctx.expect(wild.rc == ZINC_EBADMSG,
             "zinc_channel_read of frame 2 whose map entry names slot 4 of 4",
             describe_code(ZINC_EBADMSG), describe_read(wild));
}

// The slot the map names for `frame` (lossless) or latest_slot (latest),
// read from the object right after the frame's commit.
uint32_t slot_of(const std::string& name, const ChannelLayout& l, uint16_t mode, uint64_t frame) {
  const std::vector<uint8_t> area = read_data_area(name, l.slots_offset);
  if (mode == kLatest) return decode_channel_header(area.data()).latest_slot;
  return static_cast<uint32_t>(load_le(&area[l.map_entry(frame)], 4));
}

void writer_reuses_the_warmest_free_slot(CheckContext& ctx) {
  const ChannelLayout l = channel_layout(kSlots, kSize, 1);
  {
    ObjectGuard g(ctx.unique_name());
    ChannelHandle writer = create_channel(ctx, g.name(), kLossless, kSlots, kSize, 1);
    ChannelHandle reader = open_reader(ctx, g.name());
    std::vector<uint32_t> slot;
    auto write = [&](uint32_t f) {
      if (!expect_write(ctx, writer.get(), kSize, f)) throw CheckStopped{};
      slot.push_back(slot_of(g.name(), l, kLossless, f));
    };
    write(0);
    expect_frame(ctx, "lossless: frame 0", reader.get(), 0, kSize, 0, 0);
    write(1);
    ctx.expect_eq("lossless: slot of frame 1 when frame 0 was released (frame 0's, the warmest)",
                  slot[0], slot[1]);
    // The reader holds frame 1: frames 2 and 3 need other slots (a MUST).
    ZincChannelFrame held{};
    ctx.require_code("lossless: zinc_channel_read of frame 1 (held)", 0,
                     ctx.zinc.channel_read(reader.get(), 0, &held));
    write(2);
    write(3);
    ctx.expect(slot[2] != slot[1] && slot[3] != slot[1] && slot[3] != slot[2],
               "lossless: slots of frames 2 and 3 while frame 1 is held",
               "neither frame 1's slot " + std::to_string(slot[1]) + " nor each other's",
               std::to_string(slot[2]) + " and " + std::to_string(slot[3]));
    ctx.require_code("lossless: release of frame 1", 0, ctx.zinc.channel_release(reader.get()));
    expect_frame(ctx, "lossless: frame 2", reader.get(), 2, kSize, 2, 0);
    // Free now: frame 1's slot and frame 2's (released last), frame 3 is unread.
    write(4);
    ctx.expect_eq("lossless: slot of frame 4 (frame 2's: released last, the warmest free one)",
                  slot[2], slot[4]);
    expect_frame(ctx, "lossless: frame 3", reader.get(), 3, kSize, 3, 0);
    expect_frame(ctx, "lossless: frame 4", reader.get(), 4, kSize, 4, 0);
  }
  {
    ObjectGuard g(ctx.unique_name());
    ChannelHandle writer = create_channel(ctx, g.name(), kLatest, kSlots, kSize, 1);
    ChannelHandle reader = open_reader(ctx, g.name());
    std::vector<uint32_t> slot;
    auto write = [&](uint32_t f) {
      if (!expect_write(ctx, writer.get(), kSize, f)) throw CheckStopped{};
      slot.push_back(slot_of(g.name(), l, kLatest, f));
    };
    write(0);
    write(1);
    write(2);
    ctx.expect_eq("latest: slot of frame 2 (frame 0's: the warmest that is not the newest)",
                  slot[0], slot[2]);
    ZincChannelFrame held{};
    ctx.require_code("latest: zinc_channel_read of frame 2 (held)", 0,
                     ctx.zinc.channel_read(reader.get(), 0, &held));
    write(3);
    ctx.expect_eq("latest: slot of frame 3 (frame 1's)", slot[1], slot[3]);
    write(4);
    ctx.expect(slot[4] != slot[2] && slot[4] != slot[3],
               "latest: slot of frame 4 (frame 2's is pinned, frame 3's the newest)",
               "neither " + std::to_string(slot[2]) + " nor " + std::to_string(slot[3]),
               std::to_string(slot[4]));
    ctx.require_code("latest: release of frame 2", 0, ctx.zinc.channel_release(reader.get()));
    write(5);
    ctx.expect_eq("latest: slot of frame 5 (frame 3's: the warmest unpinned, not the newest)",
                  slot[3], slot[5]);
  }
}

const std::vector<std::string>& channel_calls() {
  return channel_functions();
}

RegisterChecks registered({
    {.name = "channel.reader_follows_the_slot_map",
     .summary = "a lossless reader finds frame f in the slot map entry f mod N names (frames "
                "forged into other slots read whole); an entry naming a slot of another frame "
                "or no slot reads as -74",
     .section = "§10.5",
     .needs = channel_calls(),
     .run = reader_follows_the_slot_map},
    {.name = "channel.writer_reuses_the_warmest_free_slot",
     .requirement = Requirement::kExtension,
     .summary = "lossless: a frame goes into the slot released last and never into a held "
                "one; latest: into the slot written last that is neither the newest nor pinned",
     .section = "§10.5",
     .needs = channel_calls(),
     .run = writer_reuses_the_warmest_free_slot},
});

}  // namespace
}  // namespace zinc::conformance
