// The channel rules of docs/spec.md §10.1-10.5 as the fuzz targets check
// them, written independently of src/channel_layout.cpp: the header and the
// table and slot rules in order, each returning the code an open (or
// zinc_check_channel_header) must return. Shared by the channel and
// channel_frames targets.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "zinc.h"

namespace zinc::fuzz {

inline constexpr uint64_t kActive = uint64_t{1} << 32;
// The largest write_seq (docs/spec.md §10.4): a committed frame f has seq
// 2f + 2, so frames end at 2^63 - 2.
inline constexpr uint64_t kMaxWriteSeq = (uint64_t{1} << 63) - 1;

inline std::string code_text(int32_t code) {
  return std::to_string(code) + " (" + zinc_strerror(code) + ")";
}

template <typename T>
T field(const std::vector<uint8_t>& bytes, uint64_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}
template <typename T>
void put(std::vector<uint8_t>& bytes, uint64_t offset, T value) {
  std::memcpy(bytes.data() + offset, &value, sizeof value);
}

// The channel as the spec describes it.
struct Layout {
  uint16_t mode = 0;
  uint32_t slot_count = 0, max_readers = 0, latest_slot = 0;
  uint64_t slot_size = 0, write_seq = 0, stride = 0, map_offset = 0, slots_offset = 0;
  uint64_t required = 0;
  uint64_t entry(uint32_t i) const { return 128 + uint64_t{i} * 64; }
  // Map entry f mod N names the slot of lossless frame f (§10.5).
  uint64_t map_entry(uint64_t frame) const { return map_offset + 4 * (frame % slot_count); }
  uint64_t slot(uint32_t s) const { return slots_offset + uint64_t{s} * stride; }
};

// Free (pid 0 without the active bit, any generation in bits 33-63) or a
// positive pid (docs/spec.md §10.3).
inline bool owner_word_ok(uint64_t word) {
  const auto pid = static_cast<int32_t>(static_cast<uint32_t>(word));
  return (pid == 0 && (word & kActive) == 0) || pid > 0;
}

// docs/spec.md §10.2.1, written as the list of every allowed type string
// rather than as the core's parser: all zero (untyped), or one of these,
// NUL-padded to 8 bytes, with a shape whose bytes fit in a slot.
inline bool frame_type_ok(const std::vector<uint8_t>& area, uint64_t slot_size) {
  const uint8_t* type = area.data() + 72;
  if (std::all_of(type, type + 56, [](uint8_t b) { return b == 0; })) return true;
  std::vector<std::pair<std::string, uint64_t>> allowed = {{"|b1", 1}, {"|i1", 1}, {"|u1", 1}};
  for (const char order : {'<', '>'}) {
    for (const std::string kind_size :
         {"i2", "i4", "i8", "u2", "u4", "u8", "f2", "f4", "f8", "f16", "c8", "c16", "c32"}) {
      allowed.emplace_back(order + kind_size, std::stoull(kind_size.substr(1)));
    }
  }
  uint64_t itemsize = 0;
  for (const auto& [text, size] : allowed) {
    char padded[8] = {};
    std::memcpy(padded, text.data(), text.size());
    if (std::memcmp(padded, type, 8) == 0) itemsize = size;
  }
  const uint32_t ndim = field<uint32_t>(area, 80);
  if (itemsize == 0 || ndim > 5 || field<uint32_t>(area, 84) != 0) return false;
  // In doubles: exact below 2^53, far above any slot size, never wrapping.
  double bytes = static_cast<double>(itemsize);
  for (uint32_t d = 0; d < 5; ++d) {
    const uint64_t extent = field<uint64_t>(area, 88 + 8 * d);
    if ((d < ndim) != (extent != 0)) return false;
    if (d < ndim) bytes *= static_cast<double>(extent);
  }
  return bytes <= static_cast<double>(slot_size);
}

// docs/spec.md §10.2: the header rules, in order.
inline int32_t spec_header(const std::vector<uint8_t>& area, Layout* out) {
  Layout& l = *out;
  const uint64_t magic = field<uint64_t>(area, 0);
  if (magic == 0) return ZINC_ENOMSG;  // no channel (creators lay it out first, §10.1)
  if (magic != ZINC_CHANNEL_MAGIC || field<uint16_t>(area, 8) != 2 ||
      field<uint32_t>(area, 12) != 0) {
    return ZINC_EBADMSG;
  }
  l.mode = field<uint16_t>(area, 10);
  l.slot_count = field<uint32_t>(area, 16);
  l.max_readers = field<uint32_t>(area, 20);
  l.slot_size = field<uint64_t>(area, 24);
  l.write_seq = field<uint64_t>(area, 32);
  l.latest_slot = field<uint32_t>(area, 40);
  if (l.mode != 1 && l.mode != 2) return ZINC_EBADMSG;
  if (l.max_readers < 1 || l.max_readers > 64) return ZINC_EBADMSG;
  if (l.slot_count < 1 || l.slot_count > 65536) return ZINC_EBADMSG;
  if (l.mode == 2 && l.slot_count < l.max_readers + 2) return ZINC_EBADMSG;
  if (l.slot_size < 1 || l.slot_size > (uint64_t{1} << 40)) return ZINC_EBADMSG;
  l.stride = 64 + (l.slot_size + 63) / 64 * 64;
  l.map_offset = 128 + 64 * uint64_t{l.max_readers};
  l.slots_offset = l.map_offset + (4 * uint64_t{l.slot_count} + 63) / 64 * 64;
  l.required = l.slots_offset + l.slot_count * l.stride;
  if (l.required > area.size()) return ZINC_EBADMSG;
  if (l.latest_slot != UINT32_MAX && l.latest_slot >= l.slot_count) return ZINC_EBADMSG;
  if (l.write_seq > kMaxWriteSeq) return ZINC_EBADMSG;
  if (!owner_word_ok(field<uint64_t>(area, 56))) return ZINC_EBADMSG;
  if (!frame_type_ok(area, l.slot_size)) return ZINC_EBADMSG;
  return ZINC_OK;
}

// The table and slot rules, checked when the whole layout is given.
inline int32_t spec_tables(const std::vector<uint8_t>& area, const Layout& l) {
  for (uint32_t i = 0; i < l.max_readers; ++i) {
    const uint64_t word = field<uint64_t>(area, l.entry(i));
    if (!owner_word_ok(word)) return ZINC_EBADMSG;
    if ((word & kActive) != 0 && field<uint32_t>(area, l.entry(i) + 24) > l.slot_count) {
      return ZINC_EBADMSG;
    }
  }
  for (uint32_t i = 0; i < l.slot_count; ++i) {
    if (field<uint32_t>(area, l.map_entry(i)) >= l.slot_count) return ZINC_EBADMSG;
  }
  for (uint32_t s = 0; s < l.slot_count; ++s) {
    const uint64_t seq = field<uint64_t>(area, l.slot(s));
    if (seq != 0 && seq % 2 == 0 && field<uint64_t>(area, l.slot(s) + 8) > l.slot_size) {
      return ZINC_EBADMSG;
    }
  }
  return ZINC_OK;
}

}  // namespace zinc::fuzz
