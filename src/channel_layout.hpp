// The channel layout (docs/spec.md §10): a channel header, a reader table and
// fixed-size slots, laid out in a region's data area. The region itself stays
// an ordinary format-v2 region; a plain v2 peer sees only data bytes.
//
// validate_channel is a pure function over bytes so that fuzzers, test
// vectors and ports reach the rules an open applies without touching
// /dev/shm, as validate_header does for the region header.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "status.hpp"
#include "zinc.h"

namespace zinc::core {

// At offset 0 of the data area. Fields other processes modify are atomic;
// the rest are written once by the creator before `magic` is published with
// a release store.
struct alignas(64) ChannelHeader {
  std::atomic<uint64_t> magic;  // ZINC_CHANNEL_MAGIC, published last
  uint16_t version;             // ZINC_CHANNEL_VERSION
  uint16_t mode;                // ZINC_CHANNEL_LOSSLESS or ZINC_CHANNEL_LATEST
  uint32_t flags;               // 0
  uint32_t slot_count;
  uint32_t max_readers;
  uint64_t slot_size;                     // payload bytes per slot
  std::atomic<uint64_t> write_seq;        // frames committed (= next frame number)
  std::atomic<uint32_t> latest_slot;      // latest mode: slot of the newest frame
  std::atomic<uint32_t> release_seq;      // futex word the writer sleeps on
  std::atomic<uint32_t> writer_sleeping;  // 1 while the writer is (about to be) asleep
  uint32_t reserved0;
  std::atomic<uint64_t> writer;            // owner word of the writer role
  std::atomic<uint64_t> writer_joined_at;  // CLOCK_REALTIME ns the writer took the role
  ZincChannelFrameType frame_type;         // written once by the creator; all 0: untyped
};

// One entry of the reader table, which follows the header.
struct alignas(64) ReaderEntry {
  std::atomic<uint64_t> owner;      // owner word (below)
  std::atomic<uint64_t> joined_at;  // CLOCK_REALTIME ns the reader joined
  std::atomic<uint64_t> cursor;     // lossless: next frame; latest: last frame read + 1
  std::atomic<uint32_t> held;       // latest mode: slot index + 1 of the pinned slot, 0 none
  uint32_t reserved0;
  uint64_t reserved[4];
};

// The slot map (lossless mode) follows the reader table: slot_count u32
// entries, padded to a multiple of 64 bytes. Entry f mod slot_count names the
// slot that holds frame f; only the writer stores it, before it commits the
// frame (docs/spec.md §10.5). Latest mode leaves it 0.

// The metadata in front of each slot's payload.
struct alignas(64) SlotHeader {
  // 0: never written; 2f+1: frame f is being written; 2f+2: frame f committed.
  std::atomic<uint64_t> seq;
  std::atomic<uint64_t> length;  // payload bytes of the frame in the slot
  uint64_t reserved[6];
};

static_assert(sizeof(ChannelHeader) == ZINC_CHANNEL_HEADER_SIZE);
static_assert(offsetof(ChannelHeader, version) == 8);
static_assert(offsetof(ChannelHeader, mode) == 10);
static_assert(offsetof(ChannelHeader, flags) == 12);
static_assert(offsetof(ChannelHeader, slot_count) == 16);
static_assert(offsetof(ChannelHeader, max_readers) == 20);
static_assert(offsetof(ChannelHeader, slot_size) == 24);
static_assert(offsetof(ChannelHeader, write_seq) == 32);
static_assert(offsetof(ChannelHeader, latest_slot) == 40);
static_assert(offsetof(ChannelHeader, release_seq) == 44);
static_assert(offsetof(ChannelHeader, writer_sleeping) == 48);
static_assert(offsetof(ChannelHeader, writer) == 56);
static_assert(offsetof(ChannelHeader, writer_joined_at) == 64);
static_assert(offsetof(ChannelHeader, frame_type) == 72);
static_assert(sizeof(ZincChannelFrameType) == 56);
static_assert(sizeof(ReaderEntry) == ZINC_CHANNEL_ENTRY_SIZE);
static_assert(offsetof(ReaderEntry, joined_at) == 8);
static_assert(offsetof(ReaderEntry, cursor) == 16);
static_assert(offsetof(ReaderEntry, held) == 24);
static_assert(sizeof(SlotHeader) == ZINC_CHANNEL_SLOT_HEADER_SIZE);
static_assert(offsetof(SlotHeader, length) == 8);

// Owner words (writer role and reader entries): the low 32 bits are the
// holder's pid (diagnostic where the region uses liveness locks), bit 32
// says the role is active, bits 33-63 are the role's generation, which grows
// by one each time the role is taken. Pid 0 without the active bit is free
// (the generation stays, so the next holder's word differs from every
// earlier one); a pid without the active bit is being claimed: the other
// fields are not set yet. A compare-and-swap made on an old judgement
// therefore fails on a newcomer, even one with the same pid.
inline constexpr uint64_t kOwnerActive = uint64_t{1} << 32;
inline constexpr unsigned kGenerationShift = 33;
inline constexpr uint64_t kMaxGeneration = (uint64_t{1} << 31) - 1;
inline uint64_t owner_word(int32_t pid, bool active, uint64_t generation) {
  return static_cast<uint32_t>(pid) | (active ? kOwnerActive : 0) |
         ((generation & kMaxGeneration) << kGenerationShift);
}
inline int32_t owner_pid(uint64_t word) {
  return static_cast<int32_t>(static_cast<uint32_t>(word));
}
inline bool owner_active(uint64_t word) {
  return (word & kOwnerActive) != 0;
}
inline uint64_t owner_generation(uint64_t word) {
  return word >> kGenerationShift;
}
inline bool owner_free(uint64_t word) {
  return owner_pid(word) == 0 && !owner_active(word);
}
// The free word that follows `word`'s occupancy (same generation).
inline uint64_t owner_released(uint64_t word) {
  return owner_word(0, false, owner_generation(word));
}
// The claiming word of the next occupancy after `word`.
inline uint64_t owner_next_claim(uint64_t word, int32_t pid) {
  return owner_word(pid, false, owner_generation(word) + 1);
}

inline constexpr uint32_t kNoSlot = UINT32_MAX;  // latest_slot before the first frame
inline constexpr uint32_t kMaxSlotCount = 65536;
inline constexpr uint64_t kMaxSlotSize = uint64_t{1} << 40;
// The largest write_seq (§10.4): a committed frame f has seq 2f + 2, which
// must fit 64 bits without becoming 0 ("never written"), so frames end at
// 2^63 - 2 and write_seq at 2^63 - 1. Only damage gets there (2^63 frames
// take 292 years at 10^9 frames/s).
inline constexpr uint64_t kMaxWriteSeq = (uint64_t{1} << 63) - 1;

// Where everything is, derived from the header's geometry.
struct ChannelGeometry {
  uint64_t slot_stride = 0;     // slot header + payload rounded up to 64
  uint64_t map_offset = 0;      // the slot map: slot_count u32 entries after the reader table
  uint64_t slots_offset = 0;    // first slot, from the start of the data area
  uint64_t required_bytes = 0;  // bytes of data area the layout needs
};

// The geometry of a valid (mode, slot_count, slot_size, max_readers), or an
// EINVAL status saying which argument is out of range.
Status channel_geometry(uint32_t mode, uint32_t slot_count, uint64_t slot_size,
                        uint32_t max_readers, ChannelGeometry* out);

// The frame type's rules (spec §10.2.1): untyped (all zero), or a canonical
// numpy type string of kind b/i/u/f/c with a shape whose bytes fit in
// `slot_size`. `frame_bytes` (may be NULL) receives the frame's size.
// EINVAL with a message saying which rule is broken.
Status validate_frame_type(const ZincChannelFrameType& type, uint64_t slot_size,
                           uint64_t* frame_bytes);

// Decodes the header (first ZINC_CHANNEL_HEADER_SIZE bytes, native order).
ZincChannelInfo decode_channel_header(const uint8_t* bytes);

// Every rule an open applies to a channel in a data area of `capacity`
// bytes of which the first `length` are in `bytes` (at least the header).
// ZINC_EAGAIN: magic 0 (not published yet); ZINC_EBADMSG: invalid. When
// `length` covers the reader table, the slot map and the slots, their
// metadata is checked too (owner words, held slots, map entries, slot lengths).
Status validate_channel(const uint8_t* bytes, uint64_t length, uint64_t capacity);

}  // namespace zinc::core
