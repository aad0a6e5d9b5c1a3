#include "channel_format.hpp"

#include <algorithm>

#include "format.hpp"

namespace zinc::conformance {

ChannelFields decode_channel_header(const uint8_t* b) {
  namespace o = channel_offset;
  ChannelFields f;
  f.magic = load_le(b + o::kMagic, 8);
  f.version = static_cast<uint16_t>(load_le(b + o::kVersion, 2));
  f.mode = static_cast<uint16_t>(load_le(b + o::kMode, 2));
  f.flags = static_cast<uint32_t>(load_le(b + o::kFlags, 4));
  f.slot_count = static_cast<uint32_t>(load_le(b + o::kSlotCount, 4));
  f.max_readers = static_cast<uint32_t>(load_le(b + o::kMaxReaders, 4));
  f.slot_size = load_le(b + o::kSlotSize, 8);
  f.write_seq = load_le(b + o::kWriteSeq, 8);
  f.latest_slot = static_cast<uint32_t>(load_le(b + o::kLatestSlot, 4));
  f.reserved = static_cast<uint32_t>(load_le(b + o::kReserved, 4));
  f.writer = load_le(b + o::kWriter, 8);
  f.writer_joined_at = load_le(b + o::kWriterJoinedAt, 8);
  std::copy(b + o::kFrameType, b + o::kFrameType + o::kFrameTypeSize, f.frame_type.begin());
  return f;
}

ChannelLayout channel_layout(uint32_t slot_count, uint64_t slot_size, uint32_t max_readers) {
  ChannelLayout l;
  l.slot_stride = kSlotHeaderSize + (slot_size + 63) / 64 * 64;
  l.map_offset = kChannelHeaderSize + uint64_t{max_readers} * kChannelEntrySize;
  l.slots_offset = l.map_offset + (uint64_t{slot_count} * 4 + 63) / 64 * 64;
  l.slot_count = slot_count;
  l.required_bytes = l.slots_offset + uint64_t{slot_count} * l.slot_stride;
  return l;
}

std::string mode_name(uint32_t mode) {
  if (mode == kLossless) return "lossless";
  if (mode == kLatest) return "latest";
  return "mode " + std::to_string(mode);
}

}  // namespace zinc::conformance
