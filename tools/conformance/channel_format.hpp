// The channel layout (docs/spec.md §10) as the conformance kit knows it: its
// own decoder of the channel header, reader entries and slot headers, so a
// check that reads the bytes a candidate wrote does not trust the candidate.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace zinc::conformance {

inline constexpr uint64_t kChannelMagic = 0x5A494E435F43484EULL;  // "ZINC_CHN"
inline constexpr uint16_t kChannelVersion = 2;
inline constexpr uint64_t kChannelHeaderSize = 128;
inline constexpr uint64_t kChannelEntrySize = 64;
inline constexpr uint64_t kSlotHeaderSize = 64;
inline constexpr uint32_t kNoSlot = 0xFFFFFFFFu;  // latest_slot before the first frame
inline constexpr uint64_t kOwnerActive = uint64_t{1} << 32;
inline constexpr uint16_t kLossless = 1;
inline constexpr uint16_t kLatest = 2;

// Byte offsets from the start of the data area (§10.2), of an entry (§10.3)
// and of a slot (§10.4).
namespace channel_offset {
inline constexpr size_t kMagic = 0;
inline constexpr size_t kVersion = 8;
inline constexpr size_t kMode = 10;
inline constexpr size_t kFlags = 12;
inline constexpr size_t kSlotCount = 16;
inline constexpr size_t kMaxReaders = 20;
inline constexpr size_t kSlotSize = 24;
inline constexpr size_t kWriteSeq = 32;
inline constexpr size_t kLatestSlot = 40;
inline constexpr size_t kReleaseSeq = 44;
inline constexpr size_t kWriterSleeping = 48;
inline constexpr size_t kReserved = 52;
inline constexpr size_t kWriter = 56;
inline constexpr size_t kWriterJoinedAt = 64;
inline constexpr size_t kFrameType = 72;
inline constexpr size_t kFrameTypeSize = 56;
inline constexpr size_t kEntryOwner = 0;
inline constexpr size_t kEntryJoinedAt = 8;
inline constexpr size_t kEntryCursor = 16;
inline constexpr size_t kEntryHeld = 24;
inline constexpr size_t kSlotSeq = 0;
inline constexpr size_t kSlotLength = 8;
}  // namespace channel_offset

struct ChannelFields {
  uint64_t magic = 0;
  uint16_t version = 0;
  uint16_t mode = 0;
  uint32_t flags = 0;
  uint32_t slot_count = 0;
  uint32_t max_readers = 0;
  uint64_t slot_size = 0;
  uint64_t write_seq = 0;
  uint32_t latest_slot = 0;
  uint32_t reserved = 0;
  uint64_t writer = 0;
  uint64_t writer_joined_at = 0;
  std::array<uint8_t, channel_offset::kFrameTypeSize> frame_type{};
};

// Decodes the first kChannelHeaderSize bytes of a data area.
ChannelFields decode_channel_header(const uint8_t* bytes);

// Where everything is (§10.1), from the geometry.
struct ChannelLayout {
  uint64_t slot_stride = 0;
  uint64_t map_offset = 0;  // the slot map: slot_count u32 entries
  uint64_t slots_offset = 0;
  uint64_t required_bytes = 0;
  uint32_t slot_count = 0;
  uint64_t entry(uint32_t index) const { return kChannelHeaderSize + index * kChannelEntrySize; }
  // The map entry of frame `frame` (§10.5): it names the slot holding it.
  uint64_t map_entry(uint64_t frame) const { return map_offset + 4 * (frame % slot_count); }
  uint64_t slot(uint32_t index) const { return slots_offset + index * slot_stride; }
};
ChannelLayout channel_layout(uint32_t slot_count, uint64_t slot_size, uint32_t max_readers);

// An owner word (§10.3): the pid in the low 32 bits, bit 32 active, the
// role's generation in bits 33-63 (any value: it counts occupancies).
inline uint64_t active_owner(int32_t pid) {
  return static_cast<uint32_t>(pid) | kOwnerActive;
}
// The pid and active bit of an owner word, without its generation.
inline uint64_t owner_holder(uint64_t word) {
  return word & (kOwnerActive | 0xFFFFFFFFull);
}

// "lossless" / "latest" / "mode N".
std::string mode_name(uint32_t mode);

}  // namespace zinc::conformance
