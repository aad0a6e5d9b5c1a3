// Small pieces the liveness tests share: a filled frame, the
// answers peers send back, and raw views of a channel's shared words (what
// a mistaken judge or a damaged object would write).
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>

#include "test_support.hpp"
#include "zinc.h"

namespace zinc::test {

// Creates channel `name` with 4 slots of `slot_size` bytes and one reader
// entry as `writer`, and joins it as `reader`: ZINC_OK, or the first failure.
inline int32_t create_with_reader(const ObjectGuard& name, uint32_t mode, ChannelGuard& writer,
                                  ChannelGuard& reader, uint32_t slot_size = 64) {
  const int32_t rc = zinc_channel_create(name.c_str(), mode, 4, slot_size, 1, 0, writer.out());
  return rc != ZINC_OK ? rc : zinc_channel_open_reader(name.c_str(), reader.out());
}

// "<word> <rc>": how peers report a call's result.
inline std::string said(const std::string& word, int64_t value) {
  return word + " " + std::to_string(value);
}

// Acquires the next slot, fills it with `byte` and commits all of it.
inline int32_t commit_filled(ZincChannel writer, uint8_t byte, uint32_t timeout_ms = 1000) {
  ZincChannelFrame frame{};
  const int32_t rc = zinc_channel_acquire(writer, timeout_ms, &frame);
  if (rc != ZINC_OK) return rc;
  std::memset(frame.data, byte, frame.length);
  return zinc_channel_commit(writer, frame.length);
}

// Whether every byte of the frame is `byte`.
inline bool filled_with(const ZincChannelFrame& frame, uint8_t byte) {
  for (uint64_t i = 0; i < frame.length; ++i) {
    if (frame.data[i] != byte) return false;
  }
  return frame.length > 0;
}

// The shared words of a channel, through any handle's mapping of it
// (docs/spec.md §10.2: header, then 64-byte reader entries, then slots).
inline std::atomic<uint64_t>& writer_word(ZincChannel channel) {
  return *reinterpret_cast<std::atomic<uint64_t>*>(zinc_channel_ptr(channel) + 56);
}
inline std::atomic<uint64_t>& write_seq_word(ZincChannel channel) {
  return *reinterpret_cast<std::atomic<uint64_t>*>(zinc_channel_ptr(channel) + 32);
}
inline uint8_t* reader_entry(ZincChannel channel, uint32_t index) {
  return zinc_channel_ptr(channel) + ZINC_CHANNEL_HEADER_SIZE + 64 * uint64_t{index};
}
inline std::atomic<uint64_t>& entry_owner(ZincChannel channel, uint32_t index) {
  return *reinterpret_cast<std::atomic<uint64_t>*>(reader_entry(channel, index));
}
inline std::atomic<uint64_t>& entry_cursor(ZincChannel channel, uint32_t index) {
  return *reinterpret_cast<std::atomic<uint64_t>*>(reader_entry(channel, index) + 16);
}
inline std::atomic<uint32_t>& entry_held(ZincChannel channel, uint32_t index) {
  return *reinterpret_cast<std::atomic<uint32_t>*>(reader_entry(channel, index) + 24);
}
inline std::atomic<uint64_t>& slot_seq(ZincChannel channel, uint32_t slot) {
  ZincChannelInfo info{};
  zinc_channel_info(channel, &info);
  return *reinterpret_cast<std::atomic<uint64_t>*>(zinc_channel_ptr(channel) + info.slots_offset +
                                                   info.slot_stride * slot);
}

// The inode of "/dev/shm/zinc_<name>", 0 if there is none: tells a region
// from one re-created under the same name.
inline ino_t object_inode(const std::string& name) {
  struct stat st {};
  if (stat(("/dev/shm/zinc_" + name).c_str(), &st) != 0) return 0;
  return st.st_ino;
}

}  // namespace zinc::test
