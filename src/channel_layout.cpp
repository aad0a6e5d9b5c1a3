#include "channel_layout.hpp"

#include <cstdio>
#include <cstring>
#include <string>

namespace zinc::core {
namespace {

template <typename T>
T field(const uint8_t* bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes + offset, sizeof value);
  return value;
}

Status bad(std::string message) {
  return Status::error(ZINC_EBADMSG, "channel: " + message);
}

uint64_t round_up_64(uint64_t n) {
  return (n + 63) & ~uint64_t{63};
}

}  // namespace

Status channel_geometry(uint32_t mode, uint32_t slot_count, uint64_t slot_size,
                        uint32_t max_readers, ChannelGeometry* out) {
  if (mode != ZINC_CHANNEL_LOSSLESS && mode != ZINC_CHANNEL_LATEST) {
    return Status::error(ZINC_EINVAL, "channel mode " + std::to_string(mode) +
                                          " is neither ZINC_CHANNEL_LOSSLESS (1) nor "
                                          "ZINC_CHANNEL_LATEST (2)");
  }
  if (max_readers == 0 || max_readers > ZINC_CHANNEL_MAX_READERS) {
    return Status::error(ZINC_EINVAL, "max_readers " + std::to_string(max_readers) +
                                          " is not in 1.." +
                                          std::to_string(ZINC_CHANNEL_MAX_READERS));
  }
  if (slot_count == 0 || slot_count > kMaxSlotCount) {
    return Status::error(ZINC_EINVAL, "slot_count " + std::to_string(slot_count) +
                                          " is not in 1.." + std::to_string(kMaxSlotCount));
  }
  // The writer of a latest-value channel never waits: each reader pins at
  // most one slot and the newest frame's slot is never rewritten, so it
  // needs one more slot than that to write into.
  if (mode == ZINC_CHANNEL_LATEST && slot_count < max_readers + 2) {
    return Status::error(
        ZINC_EINVAL, "a latest-value channel needs slot_count >= max_readers + 2 (" +
                         std::to_string(max_readers + 2) + "), not " + std::to_string(slot_count));
  }
  if (slot_size == 0 || slot_size > kMaxSlotSize) {
    return Status::error(ZINC_EINVAL,
                         "slot_size " + std::to_string(slot_size) + " is not in 1..2^40");
  }
  out->slot_stride = ZINC_CHANNEL_SLOT_HEADER_SIZE + round_up_64(slot_size);
  out->map_offset = ZINC_CHANNEL_HEADER_SIZE + uint64_t{max_readers} * ZINC_CHANNEL_ENTRY_SIZE;
  out->slots_offset = out->map_offset + round_up_64(uint64_t{slot_count} * sizeof(uint32_t));
  // At most 2^16 slots of at most 2^40 + 128 bytes: no overflow.
  out->required_bytes = out->slots_offset + uint64_t{slot_count} * out->slot_stride;
  return Status::ok();
}

namespace {

// The element size of a canonical numpy type string, or 0 if it is not one:
// a byte order ('|' exactly for one-byte elements, else '<' or '>'), a kind
// and a size that numpy has for that kind, then NUL padding.
uint64_t element_size(const char (&dtype)[8]) {
  const char order = dtype[0], kind = dtype[1];
  uint64_t size = 0;
  size_t i = 2;
  for (; i < sizeof dtype && dtype[i] >= '0' && dtype[i] <= '9' && size < 100; ++i) {
    size = size * 10 + static_cast<uint64_t>(dtype[i] - '0');
  }
  if (i == 2 || dtype[2] == '0') return 0;
  for (; i < sizeof dtype; ++i) {
    if (dtype[i] != 0) return 0;
  }
  const bool fits =
      (kind == 'b' && size == 1) ||
      ((kind == 'i' || kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8)) ||
      (kind == 'f' && (size == 2 || size == 4 || size == 8 || size == 16)) ||
      (kind == 'c' && (size == 8 || size == 16 || size == 32));
  if (!fits) return 0;
  const bool order_ok = size == 1 ? order == '|' : (order == '<' || order == '>');
  return order_ok ? size : 0;
}

std::string dtype_text(const char (&dtype)[8]) {
  std::string text;
  for (char c : dtype) {
    if (c == 0) break;
    text += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return "\"" + text + "\"";
}

}  // namespace

Status validate_frame_type(const ZincChannelFrameType& type, uint64_t slot_size,
                           uint64_t* frame_bytes) {
  const auto invalid = [](std::string message) {
    return Status::error(ZINC_EINVAL, "frame type: " + message);
  };
  static constexpr ZincChannelFrameType kUntyped{};
  if (std::memcmp(&type, &kUntyped, sizeof type) == 0) {
    if (frame_bytes != nullptr) *frame_bytes = slot_size;
    return Status::ok();
  }
  uint64_t bytes = element_size(type.dtype);
  if (bytes == 0) {
    return invalid("dtype " + dtype_text(type.dtype) +
                   " is not a numpy type string such as \"|u1\", \"<i4\" or \"<f8\"");
  }
  if (type.ndim > ZINC_CHANNEL_MAX_DIMS) {
    return invalid("ndim " + std::to_string(type.ndim) + " is more than " +
                   std::to_string(ZINC_CHANNEL_MAX_DIMS));
  }
  if (type.reserved != 0) return invalid("the reserved word is not 0");
  for (uint32_t d = 0; d < ZINC_CHANNEL_MAX_DIMS; ++d) {
    const uint64_t extent = type.shape[d];
    if (d >= type.ndim) {
      if (extent != 0) return invalid("shape[" + std::to_string(d) + "] is set beyond ndim");
      continue;
    }
    if (extent == 0) return invalid("shape[" + std::to_string(d) + "] is 0");
    if (extent > kMaxSlotSize / bytes) {
      return invalid("a frame of this shape is larger than 2^40 bytes");
    }
    bytes *= extent;  // <= 2^40 by the check above
  }
  if (bytes > slot_size) {
    return invalid("a frame is " + std::to_string(bytes) + " bytes, the slot only " +
                   std::to_string(slot_size));
  }
  if (frame_bytes != nullptr) *frame_bytes = bytes;
  return Status::ok();
}

ZincChannelInfo decode_channel_header(const uint8_t* bytes) {
  ZincChannelInfo info{};
  info.magic = field<uint64_t>(bytes, 0);
  info.version = field<uint16_t>(bytes, 8);
  info.mode = field<uint16_t>(bytes, 10);
  info.flags = field<uint32_t>(bytes, 12);
  info.slot_count = field<uint32_t>(bytes, 16);
  info.max_readers = field<uint32_t>(bytes, 20);
  info.slot_size = field<uint64_t>(bytes, 24);
  info.write_seq = field<uint64_t>(bytes, 32);
  info.latest_slot = field<uint32_t>(bytes, 40);
  info.release_seq = field<uint32_t>(bytes, 44);
  const uint64_t writer = field<uint64_t>(bytes, 56);
  info.writer_pid = owner_pid(writer);
  info.writer_active = owner_active(writer) ? 1 : 0;
  info.writer_joined_at = field<uint64_t>(bytes, 64);
  info.frame_type = field<ZincChannelFrameType>(bytes, 72);
  ChannelGeometry geometry;
  if (channel_geometry(info.mode, info.slot_count, info.slot_size, info.max_readers, &geometry)
          .is_ok()) {
    info.slots_offset = geometry.slots_offset;
    info.slot_stride = geometry.slot_stride;
    info.required_bytes = geometry.required_bytes;
  }
  return info;
}

namespace {

Status validate_owner(uint64_t word, const std::string& what) {
  if (owner_free(word) || owner_pid(word) > 0) return Status::ok();
  char hex[17];
  std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(word));
  return bad(what + " owner word 0x" + hex + " has " +
             (owner_pid(word) == 0 ? "the active bit without a pid" : "a negative pid"));
}

Status validate_tables(const uint8_t* bytes, const ZincChannelInfo& info, uint64_t map_offset) {
  for (uint32_t i = 0; i < info.max_readers; ++i) {
    const uint8_t* entry = bytes + ZINC_CHANNEL_HEADER_SIZE + uint64_t{i} * ZINC_CHANNEL_ENTRY_SIZE;
    const uint64_t owner = field<uint64_t>(entry, 0);
    const std::string name = "reader entry " + std::to_string(i);
    if (Status s = validate_owner(owner, name); !s.is_ok()) return s;
    if (!owner_active(owner)) continue;
    // Cursors are not compared with write_seq: in a snapshot of a live
    // channel a reader may have moved on after write_seq was read.
    const uint32_t held = field<uint32_t>(entry, 24);
    if (held > info.slot_count) {
      return bad(name + " holds slot " + std::to_string(held) + " - 1 of only " +
                 std::to_string(info.slot_count));
    }
  }
  for (uint32_t i = 0; i < info.slot_count; ++i) {
    const uint32_t slot = field<uint32_t>(bytes, map_offset + uint64_t{i} * sizeof(uint32_t));
    if (slot >= info.slot_count) {
      return bad("slot map entry " + std::to_string(i) + " names slot " + std::to_string(slot) +
                 " of only " + std::to_string(info.slot_count));
    }
  }
  for (uint32_t s = 0; s < info.slot_count; ++s) {
    const uint8_t* slot = bytes + info.slots_offset + uint64_t{s} * info.slot_stride;
    const uint64_t seq = field<uint64_t>(slot, 0);
    const uint64_t length = field<uint64_t>(slot, 8);
    if (seq != 0 && seq % 2 == 0 && length > info.slot_size) {
      return bad("slot " + std::to_string(s) + " holds a frame of " + std::to_string(length) +
                 " bytes, more than the slot size " + std::to_string(info.slot_size));
    }
  }
  return Status::ok();
}

}  // namespace

Status validate_channel(const uint8_t* bytes, uint64_t length, uint64_t capacity) {
  const ZincChannelInfo info = decode_channel_header(bytes);
  if (capacity < ZINC_CHANNEL_HEADER_SIZE) {
    return bad("a data area of " + std::to_string(capacity) +
               " bytes cannot hold a channel header");
  }
  if (info.magic == 0) {
    // Creators lay the channel out before the region is published (§10.1),
    // so waiting will not make this a channel.
    return Status::error(ZINC_ENOMSG,
                         "the region holds no channel (its data area starts with magic 0)");
  }
  if (info.magic != ZINC_CHANNEL_MAGIC) return bad("bad magic (not a channel)");
  if (info.version != ZINC_CHANNEL_VERSION) {
    // Version 1 channels have no slot map (readers took frame f from slot
    // f mod N); a reader of one layout must never guess at the other.
    return bad("layout version " + std::to_string(info.version) + ", this library reads only " +
               std::to_string(ZINC_CHANNEL_VERSION) +
               (info.version < ZINC_CHANNEL_VERSION ? " (the channel was made by an older zinc)"
                                                    : " (the channel was made by a newer zinc)"));
  }
  if (info.flags != 0) return bad("unknown flags " + std::to_string(info.flags));
  ChannelGeometry geometry;
  if (Status s =
          channel_geometry(info.mode, info.slot_count, info.slot_size, info.max_readers, &geometry);
      !s.is_ok()) {
    return bad(s.message);
  }
  if (geometry.required_bytes > capacity) {
    return bad("the layout needs " + std::to_string(geometry.required_bytes) +
               " bytes, the data area has " + std::to_string(capacity));
  }
  if (info.latest_slot != kNoSlot && info.latest_slot >= info.slot_count) {
    return bad("latest_slot " + std::to_string(info.latest_slot) + " of only " +
               std::to_string(info.slot_count) + " slots");
  }
  if (info.write_seq > kMaxWriteSeq) {
    return bad("write_seq " + std::to_string(info.write_seq) +
               " is beyond 2^63 - 1, where frame numbers end");
  }
  if (Status s = validate_owner(field<uint64_t>(bytes, 56), "writer"); !s.is_ok()) return s;
  if (Status s = validate_frame_type(info.frame_type, info.slot_size, nullptr); !s.is_ok()) {
    return bad(s.message);
  }
  if (length >= geometry.required_bytes) return validate_tables(bytes, info, geometry.map_offset);
  return Status::ok();
}

}  // namespace zinc::core
