// The region format (docs/spec.md §3) as the conformance kit knows it.
//
// The kit is a client of the public ABI only, so it keeps its own encoder and
// decoder of the 64-byte header instead of borrowing src/header.cpp: a check
// that reads raw bytes must not trust the implementation it judges.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace zinc::conformance {

inline constexpr uint64_t kMagic = 0x5A494E435F524547ULL;
inline constexpr uint16_t kFormatVersion = 2;
// Header flag bit 0 (§3.1): the region's handles hold liveness locks (§4.5).
inline constexpr uint16_t kFlagLivenessLocks = 1;
inline constexpr size_t kHeaderSize = 64;
inline constexpr uint32_t kAbiVersion = 0x00020001u;
inline constexpr size_t kMaxNameLen = 250;

// Byte offsets of the header fields.
namespace offset {
inline constexpr size_t kMagic = 0;
inline constexpr size_t kVersion = 8;
inline constexpr size_t kFlags = 10;
inline constexpr size_t kNotifySeq = 12;
inline constexpr size_t kCapacity = 16;
inline constexpr size_t kRefCount = 24;
inline constexpr size_t kOwnerPid = 28;
inline constexpr size_t kCreatedAt = 32;
inline constexpr size_t kNameHash = 40;
inline constexpr size_t kRingHead = 48;
inline constexpr size_t kRingTail = 56;
}  // namespace offset

// The reference's waiter-count block (docs/spec.md §9.1): bytes [64, 128) of
// a region it creates; zero in a plain v2 region. Bytes [128, page) are
// padding, zero in every region.
inline constexpr uint64_t kWaiterCountMagic = 0x5A494E435F574354ULL;  // "ZINC_WCT"
inline constexpr size_t kWaiterCountEnd = 128;
namespace offset {
inline constexpr size_t kWaiterTag = 64;
inline constexpr size_t kCountedHandles = 72;  // low half of the 64-bit word at 72
inline constexpr size_t kCountedChanges = 76;  // its high half
inline constexpr size_t kSleepers = 80;
inline constexpr size_t kWaiterReserved = 84;
}  // namespace offset

struct HeaderFields {
  uint64_t magic = 0;
  uint16_t version = 0;
  uint16_t flags = 0;
  uint32_t notify_seq = 0;
  uint64_t capacity = 0;
  uint32_t ref_count = 0;
  int32_t owner_pid = 0;
  uint64_t created_at = 0;
  uint64_t name_hash = 0;
  uint64_t ring_head = 0;
  uint64_t ring_tail = 0;
};

// Little-endian encoding into / decoding from the first 64 bytes.
std::vector<uint8_t> encode_header(const HeaderFields& fields);
HeaderFields decode_header(const uint8_t* bytes);

struct WaiterCountFields {
  uint64_t tag = 0;
  uint32_t counted_handles = 0;
  uint32_t counted_changes = 0;
  uint32_t sleepers = 0;
};
// Decodes bytes [64, 84) of a header page (at least kWaiterCountEnd bytes).
WaiterCountFields decode_waiter_count(const uint8_t* page);

// The header a fresh region `name` with `capacity` bytes would carry.
HeaderFields fresh_header(std::string_view name, uint64_t capacity, int32_t owner_pid,
                          uint64_t created_at);

// FNV-1a 64 of the name bytes (the name_hash field).
uint64_t fnv1a64(std::string_view bytes);

// Little-endian helpers on byte buffers.
uint64_t load_le(const uint8_t* bytes, size_t size);
void store_le(uint8_t* bytes, size_t size, uint64_t value);

size_t system_page_size();

// "-74 (ZINC_EBADMSG)", "0 (ZINC_OK)", "-12 (-errno ENOMEM)".
std::string describe_code(int32_t code);
std::string hex(uint64_t value);
std::string hex_bytes(const uint8_t* bytes, size_t size);

}  // namespace zinc::conformance
