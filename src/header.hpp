// The 64-byte region header (format version 2) and its validation.
//
// validate_header is a pure function over bytes so that fuzzers, test vectors
// and tools reach the exact rules zinc_open applies without touching /dev/shm.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "status.hpp"
#include "zinc.h"

namespace zinc::core {

// The header as it lives at offset 0 of every mapping. Atomic fields are the
// ones other processes modify concurrently; the rest are written once by the
// creator before `magic` is published with a release store.
struct alignas(64) Header {
  std::atomic<uint64_t> magic;
  uint16_t version;
  uint16_t flags;
  std::atomic<uint32_t> notify_seq;
  uint64_t capacity;
  std::atomic<uint32_t> ref_count;
  std::atomic<int32_t> owner_pid;
  uint64_t created_at;
  uint64_t name_hash;
  std::atomic<uint64_t> ring_head;
  std::atomic<uint64_t> ring_tail;
};

static_assert(sizeof(Header) == ZINC_HEADER_SIZE);
static_assert(offsetof(Header, magic) == 0);
static_assert(offsetof(Header, version) == 8);
static_assert(offsetof(Header, flags) == 10);
static_assert(offsetof(Header, notify_seq) == 12);
static_assert(offsetof(Header, capacity) == 16);
static_assert(offsetof(Header, ref_count) == 24);
static_assert(offsetof(Header, owner_pid) == 28);
static_assert(offsetof(Header, created_at) == 32);
static_assert(offsetof(Header, name_hash) == 40);
static_assert(offsetof(Header, ring_head) == 48);
static_assert(offsetof(Header, ring_tail) == 56);
static_assert(std::atomic<uint64_t>::is_always_lock_free);
static_assert(std::atomic<uint32_t>::is_always_lock_free);

// Extension "waiter count" (docs/spec.md): 64 bytes right after the header,
// in the first page's padding, which plain v2 peers never read or write. It
// lets notify skip FUTEX_WAKE when no thread can be asleep on notify_seq.
// The header's flags stay 0: the extension announces itself by `tag`.
struct alignas(64) WaiterCount {
  // kWaiterCountMagic ^ created_at while the extension is in force; any other
  // value (0 in regions made by plain v2 creators) means "always wake".
  std::atomic<uint64_t> tag;
  // Low 32 bits: attached handles that register before sleeping ("counted
  // handles"). High 32 bits: bumped by every change of the low half, so two
  // equal loads prove the count did not move in between.
  std::atomic<uint64_t> counted_handles;
  // Threads of counted handles that are, or are about to be, asleep in the
  // futex on notify_seq.
  std::atomic<uint32_t> sleepers;
  uint32_t reserved0;
  uint64_t reserved[5];
};

inline constexpr size_t kWaiterCountOffset = ZINC_HEADER_SIZE;
inline constexpr uint64_t kWaiterCountMagic = 0x5A494E435F574354ULL;  // "ZINC_WCT"
inline constexpr uint64_t kCountedHandleChange = uint64_t{1} << 32;

// A `sleepers` value no honest count reaches (Linux caps threads at 2^22):
// a waiter that finds one when it registers treats the block as damaged.
inline constexpr uint32_t kImpossibleSleepers = uint32_t{1} << 24;

static_assert(sizeof(WaiterCount) == 64);
static_assert(offsetof(WaiterCount, tag) == 0);
static_assert(offsetof(WaiterCount, counted_handles) == 8);
static_assert(offsetof(WaiterCount, sleepers) == 16);

// The tag a region created at `created_at` carries while the extension holds.
inline uint64_t waiter_count_tag(uint64_t created_at) {
  return kWaiterCountMagic ^ created_at;
}

// Header flag bits this library understands; any other bit is corruption.
inline constexpr uint16_t kKnownFlags = ZINC_HEADER_FLAG_LOCKS;

// Copies the header of a live mapping into `out` (ZINC_HEADER_SIZE bytes),
// every field read the way its writers write it: the atomic ones
// atomically, the magic first and with acquire ordering (the creator
// writes the rest before it). A plain copy would race, in C++ terms, with
// another thread of the process counting itself in (ThreadSanitizer, in a
// build where handles share one mapping, reports exactly that).
void snapshot_region_header(const Header* h, uint8_t* out);

// Decodes the first ZINC_HEADER_SIZE bytes (native byte order).
ZincHeaderInfo decode_header(const uint8_t* bytes);

// Object-size rules checked before a region is mapped: empty means "creator
// not done yet" (ZINC_EAGAIN); otherwise at least two pages, a whole number
// of pages, and addressable (ZINC_EBADMSG).
Status validate_object_size(uint64_t object_size, size_t page_size);

// Every rule zinc_open applies to an unmapped header, in spec order.
// `bytes` must hold at least ZINC_HEADER_SIZE bytes.
Status validate_header(const uint8_t* bytes, uint64_t object_size, size_t page_size);

}  // namespace zinc::core
