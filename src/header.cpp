#include "header.hpp"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>

namespace zinc::core {
namespace {

template <typename T>
T load_field(const uint8_t* bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes + offset, sizeof value);
  return value;
}

template <typename T>
void store_field(uint8_t* bytes, size_t offset, T value) {
  std::memcpy(bytes + offset, &value, sizeof value);
}

std::string hex64(uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%016" PRIx64, value);
  return text;
}

}  // namespace

void snapshot_region_header(const Header* h, uint8_t* out) {
  store_field(out, 0, h->magic.load(std::memory_order_acquire));
  store_field(out, 8, h->version);  // written once, before the magic
  store_field(out, 10, h->flags);
  store_field(out, 12, h->notify_seq.load(std::memory_order_relaxed));
  store_field(out, 16, h->capacity);
  store_field(out, 24, h->ref_count.load(std::memory_order_relaxed));
  store_field(out, 28, h->owner_pid.load(std::memory_order_relaxed));
  store_field(out, 32, h->created_at);
  store_field(out, 40, h->name_hash);
  store_field(out, 48, h->ring_head.load(std::memory_order_relaxed));
  store_field(out, 56, h->ring_tail.load(std::memory_order_relaxed));
}

ZincHeaderInfo decode_header(const uint8_t* bytes) {
  ZincHeaderInfo info{};
  info.magic = load_field<uint64_t>(bytes, offsetof(Header, magic));
  info.version = load_field<uint16_t>(bytes, offsetof(Header, version));
  info.flags = load_field<uint16_t>(bytes, offsetof(Header, flags));
  info.notify_seq = load_field<uint32_t>(bytes, offsetof(Header, notify_seq));
  info.capacity = load_field<uint64_t>(bytes, offsetof(Header, capacity));
  info.ref_count = load_field<uint32_t>(bytes, offsetof(Header, ref_count));
  info.owner_pid = load_field<int32_t>(bytes, offsetof(Header, owner_pid));
  info.created_at = load_field<uint64_t>(bytes, offsetof(Header, created_at));
  info.name_hash = load_field<uint64_t>(bytes, offsetof(Header, name_hash));
  info.ring_head = load_field<uint64_t>(bytes, offsetof(Header, ring_head));
  info.ring_tail = load_field<uint64_t>(bytes, offsetof(Header, ring_tail));
  return info;
}

Status validate_object_size(uint64_t object_size, size_t page_size) {
  if (object_size == 0) {
    return Status::error(ZINC_EAGAIN,
                         "object is empty: its creator has not sized it yet (or died before it did)");
  }
  if (object_size < 2 * uint64_t{page_size}) {
    return Status::error(ZINC_EBADMSG, "object is " + std::to_string(object_size) +
                                           " bytes; a region needs at least two pages (" +
                                           std::to_string(2 * page_size) + " bytes)");
  }
  if (object_size % page_size != 0) {
    return Status::error(ZINC_EBADMSG, "object size " + std::to_string(object_size) +
                                           " is not a multiple of the page size " +
                                           std::to_string(page_size));
  }
  if (object_size > uint64_t{std::numeric_limits<std::ptrdiff_t>::max()}) {
    return Status::error(ZINC_EBADMSG,
                         "object size " + std::to_string(object_size) + " is not addressable");
  }
  return Status::ok();
}

Status validate_header(const uint8_t* bytes, uint64_t object_size, size_t page_size) {
  if (Status size = validate_object_size(object_size, page_size); !size.is_ok()) return size;
  const ZincHeaderInfo h = decode_header(bytes);
  if (h.magic == 0) {
    return Status::error(ZINC_EAGAIN,
                         "header not published: magic is 0, so its creator is still initialising "
                         "it (or died before it finished)");
  }
  if (h.magic != ZINC_MAGIC) {
    return Status::error(ZINC_EBADMSG,
                         "bad magic " + hex64(h.magic) + " (expected " + hex64(ZINC_MAGIC) + ")");
  }
  if (h.version != ZINC_FORMAT_VERSION) {
    return Status::error(ZINC_EBADMSG, "format version " + std::to_string(h.version) +
                                           ", but this library reads version " +
                                           std::to_string(ZINC_FORMAT_VERSION));
  }
  if ((h.flags & ~kKnownFlags) != 0) {
    return Status::error(ZINC_EBADMSG, "unknown header flags " + hex64(h.flags) + " (this library knows bit 0 only)");
  }
  if (h.capacity != object_size - page_size) {
    return Status::error(ZINC_EBADMSG, "capacity field " + std::to_string(h.capacity) +
                                           " does not match the object size " +
                                           std::to_string(object_size) + " minus one page (" +
                                           std::to_string(object_size - page_size) + ")");
  }
  if (h.ref_count == 0 || h.ref_count == UINT32_MAX) {
    return Status::error(ZINC_EBADMSG,
                         "ref_count " + std::to_string(h.ref_count) + " is impossible for a live region");
  }
  return Status::ok();
}

}  // namespace zinc::core
