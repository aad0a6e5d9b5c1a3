#include "format.hpp"

#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace zinc::conformance {

uint64_t load_le(const uint8_t* bytes, size_t size) {
  uint64_t value = 0;
  for (size_t i = 0; i < size; ++i) value |= uint64_t{bytes[i]} << (8 * i);
  return value;
}

void store_le(uint8_t* bytes, size_t size, uint64_t value) {
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<uint8_t>(value >> (8 * i));
}

std::vector<uint8_t> encode_header(const HeaderFields& f) {
  std::vector<uint8_t> bytes(kHeaderSize, 0);
  store_le(&bytes[offset::kMagic], 8, f.magic);
  store_le(&bytes[offset::kVersion], 2, f.version);
  store_le(&bytes[offset::kFlags], 2, f.flags);
  store_le(&bytes[offset::kNotifySeq], 4, f.notify_seq);
  store_le(&bytes[offset::kCapacity], 8, f.capacity);
  store_le(&bytes[offset::kRefCount], 4, f.ref_count);
  store_le(&bytes[offset::kOwnerPid], 4, static_cast<uint32_t>(f.owner_pid));
  store_le(&bytes[offset::kCreatedAt], 8, f.created_at);
  store_le(&bytes[offset::kNameHash], 8, f.name_hash);
  store_le(&bytes[offset::kRingHead], 8, f.ring_head);
  store_le(&bytes[offset::kRingTail], 8, f.ring_tail);
  return bytes;
}

HeaderFields decode_header(const uint8_t* b) {
  HeaderFields f;
  f.magic = load_le(b + offset::kMagic, 8);
  f.version = static_cast<uint16_t>(load_le(b + offset::kVersion, 2));
  f.flags = static_cast<uint16_t>(load_le(b + offset::kFlags, 2));
  f.notify_seq = static_cast<uint32_t>(load_le(b + offset::kNotifySeq, 4));
  f.capacity = load_le(b + offset::kCapacity, 8);
  f.ref_count = static_cast<uint32_t>(load_le(b + offset::kRefCount, 4));
  f.owner_pid = static_cast<int32_t>(static_cast<uint32_t>(load_le(b + offset::kOwnerPid, 4)));
  f.created_at = load_le(b + offset::kCreatedAt, 8);
  f.name_hash = load_le(b + offset::kNameHash, 8);
  f.ring_head = load_le(b + offset::kRingHead, 8);
  f.ring_tail = load_le(b + offset::kRingTail, 8);
  return f;
}

WaiterCountFields decode_waiter_count(const uint8_t* page) {
  WaiterCountFields w;
  w.tag = load_le(page + offset::kWaiterTag, 8);
  w.counted_handles = static_cast<uint32_t>(load_le(page + offset::kCountedHandles, 4));
  w.counted_changes = static_cast<uint32_t>(load_le(page + offset::kCountedChanges, 4));
  w.sleepers = static_cast<uint32_t>(load_le(page + offset::kSleepers, 4));
  return w;
}

HeaderFields fresh_header(std::string_view name, uint64_t capacity, int32_t owner_pid,
                          uint64_t created_at) {
  HeaderFields f;
  f.magic = kMagic;
  f.version = kFormatVersion;
  f.capacity = capacity;
  f.ref_count = 1;
  f.owner_pid = owner_pid;
  f.created_at = created_at;
  f.name_hash = fnv1a64(name);
  return f;
}

uint64_t fnv1a64(std::string_view bytes) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

size_t system_page_size() {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

std::string describe_code(int32_t code) {
  const char* name = nullptr;
  switch (code) {
    case 0: name = "ZINC_OK"; break;
    case -1: name = "ZINC_EPERM"; break;
    case -2: name = "ZINC_ENOENT"; break;
    case -11: name = "ZINC_EAGAIN"; break;
    case -17: name = "ZINC_EEXIST"; break;
    case -22: name = "ZINC_EINVAL"; break;
    case -16: name = "ZINC_EBUSY"; break;
    case -28: name = "ZINC_ENOSPC"; break;
    case -32: name = "ZINC_EPIPE"; break;
    case -42: name = "ZINC_ENOMSG"; break;
    case -74: name = "ZINC_EBADMSG"; break;
    case -110: name = "ZINC_ETIMEDOUT"; break;
    case -116: name = "ZINC_ESTALE"; break;
    case -125: name = "ZINC_ECANCELED"; break;
    default: break;
  }
  if (name != nullptr) return std::to_string(code) + " (" + name + ")";
  if (code < 0 && code > -4096) {
    return std::to_string(code) + " (-errno: " + std::strerror(-code) + ")";
  }
  return std::to_string(code);
}

std::string hex(uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%" PRIx64, value);
  return text;
}

std::string hex_bytes(const uint8_t* bytes, size_t size) {
  std::string text;
  char byte[4];
  for (size_t i = 0; i < size; ++i) {
    std::snprintf(byte, sizeof byte, i == 0 ? "%02x" : " %02x", bytes[i]);
    text += byte;
  }
  return text;
}

}  // namespace zinc::conformance
