// The extern "C" surface of channels: argument checks, the channel handle
// table and error codes. Everything else is in Channel.
//
// A ZincChannel is an opaque number, not a pointer (src/handle_table.hpp): a
// double close, a call on a closed handle, or a value that never was a
// channel (a region handle included) is detected.
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "channel.hpp"
#include "channel_layout.hpp"
#include "handle_table.hpp"
#include "inspect.hpp"
#include "liveness.hpp"
#include "locks.hpp"
#include "last_error.hpp"
#include "zinc.h"

namespace {

using zinc::core::Channel;
using zinc::core::Status;

int32_t fail(int32_t code, const std::string& message) {
  return zinc::core::record_failure(Status::error(code, message));
}
int32_t fail(const Status& status) {
  return zinc::core::record_failure(status);
}

// Every call holds a pin on its handle for its duration (src/handle_table.hpp):
// a close from another thread cancels a blocked acquire or read until it
// has returned, then destroys the channel.
using ChannelPin = zinc::core::HandleTable<Channel>::Pin;
zinc::core::HandleTable<Channel>& channels() {
  return zinc::core::channel_handles();
}

constexpr const char* kBadChannel = "channel handle is NULL or already closed";

template <typename Make>
int32_t make_channel(ZincChannel* out, const char* name, Make make) {
  if (out == nullptr) return fail(ZINC_EINVAL, "out pointer is NULL");
  *out = nullptr;
  if (name == nullptr) return fail(ZINC_EINVAL, "name is NULL");
  std::unique_ptr<Channel> channel;
  if (Status s = make(std::string_view(name), &channel); !s.is_ok()) return fail(s);
  ZincChannel handle = channels().insert(std::move(channel));
  if (handle == nullptr) return fail(-12, "too many open zinc channel handles in this process");
  *out = handle;
  return ZINC_OK;
}

// Runs a frame call and maps its status; timeouts and "nothing now" are
// ordinary results, but they still leave their message.
int32_t result(const Status& s) {
  return s.is_ok() ? ZINC_OK : fail(s);
}

}  // namespace

extern "C" {

int32_t zinc_channel_create(const char* name, uint32_t mode, uint32_t slot_count,
                            uint64_t slot_size, uint32_t max_readers, uint32_t flags,
                            ZincChannel* out) {
  return make_channel(out, name, [&](std::string_view n, std::unique_ptr<Channel>* c) {
    return Channel::create(n, mode, slot_count, slot_size, max_readers, flags, nullptr, c);
  });
}

int32_t zinc_channel_create_typed(const char* name, uint32_t mode, uint32_t slot_count,
                                  const ZincChannelFrameType* type, uint32_t max_readers,
                                  uint32_t flags, ZincChannel* out) {
  if (type == nullptr) {
    if (out != nullptr) *out = nullptr;
    return fail(ZINC_EINVAL, "frame type is NULL");
  }
  static constexpr ZincChannelFrameType kUntyped{};
  uint64_t frame_bytes = 0;
  Status s = std::memcmp(type, &kUntyped, sizeof *type) == 0
                 ? Status::error(ZINC_EINVAL,
                                 "frame type: dtype is empty (untyped frames are "
                                 "zinc_channel_create's)")
                 : zinc::core::validate_frame_type(*type, zinc::core::kMaxSlotSize, &frame_bytes);
  if (!s.is_ok()) {
    if (out != nullptr) *out = nullptr;
    return fail(s);
  }
  return make_channel(out, name, [&](std::string_view n, std::unique_ptr<Channel>* c) {
    return Channel::create(n, mode, slot_count, frame_bytes, max_readers, flags, type, c);
  });
}

int32_t zinc_channel_open_writer(const char* name, ZincChannel* out) {
  return make_channel(out, name, [](std::string_view n, std::unique_ptr<Channel>* c) {
    return Channel::open(n, Channel::Role::kWriter, c);
  });
}

int32_t zinc_channel_open_reader(const char* name, ZincChannel* out) {
  return make_channel(out, name, [](std::string_view n, std::unique_ptr<Channel>* c) {
    return Channel::open(n, Channel::Role::kReader, c);
  });
}

int32_t zinc_channel_acquire(ZincChannel channel, uint32_t timeout_ms, ZincChannelFrame* out) {
  if (out == nullptr) return fail(ZINC_EINVAL, "out pointer is NULL");
  ChannelPin c(channels(), channel);
  if (c.get() == nullptr) return fail(ZINC_EINVAL, kBadChannel);
  return result(c->acquire(timeout_ms, out));
}

int32_t zinc_channel_commit(ZincChannel channel, uint64_t length) {
  ChannelPin c(channels(), channel);
  if (c.get() == nullptr) return fail(ZINC_EINVAL, kBadChannel);
  return result(c->commit(length));
}

int32_t zinc_channel_read(ZincChannel channel, uint32_t timeout_ms, ZincChannelFrame* out) {
  if (out == nullptr) return fail(ZINC_EINVAL, "out pointer is NULL");
  ChannelPin c(channels(), channel);
  if (c.get() == nullptr) return fail(ZINC_EINVAL, kBadChannel);
  return result(c->read(timeout_ms, out));
}

int32_t zinc_channel_release(ZincChannel channel) {
  ChannelPin c(channels(), channel);
  if (c.get() == nullptr) return fail(ZINC_EINVAL, kBadChannel);
  return result(c->release());
}

void zinc_channel_close(ZincChannel channel) {
  if (channel == nullptr) return;
  // A blocked acquire/read returns ZINC_ECANCELED before the channel goes.
  if (!channels().close(channel)) fail(ZINC_EINVAL, kBadChannel);
}

int32_t zinc_channel_info(ZincChannel channel, ZincChannelInfo* out) {
  if (out == nullptr) return fail(ZINC_EINVAL, "out pointer is NULL");
  ChannelPin c(channels(), channel);
  if (c.get() == nullptr) return fail(ZINC_EINVAL, kBadChannel);
  *out = c->info();
  return ZINC_OK;
}

uint8_t* zinc_channel_ptr(ZincChannel channel) {
  ChannelPin c(channels(), channel);
  if (c.get() == nullptr) {
    fail(ZINC_EINVAL, kBadChannel);
    return nullptr;
  }
  return c->data();
}

int32_t zinc_channel_role_state(const char* name, int32_t role) {
  using namespace zinc::core;
  if (name == nullptr) return fail(ZINC_EINVAL, "name is NULL");
  Inspection region;
  if (Status s = inspect_object(name, &region); !s.is_ok()) return fail(s);
  const size_t page = posix::page_size();
  uint8_t header[ZINC_CHANNEL_HEADER_SIZE];
  size_t got = 0;
  if (Status s = posix::read_at(region.fd.get(), page, header, sizeof header, &got); !s.is_ok()) {
    return fail(s);
  }
  if (got < sizeof header) return fail(ZINC_EBADMSG, "the object is too short for a channel");
  const uint64_t capacity = region.header.capacity;
  if (Status s = validate_channel(header, sizeof header, capacity); !s.is_ok()) {
    return fail(with_name(s, name));
  }
  const ZincChannelInfo info = decode_channel_header(header);
  if (role < -1 || role >= static_cast<int32_t>(info.max_readers)) {
    return fail(ZINC_EINVAL, "role " + std::to_string(role) + " is neither -1 (the writer) nor a "
                                 "reader entry below " + std::to_string(info.max_readers));
  }
  uint64_t word = 0;
  uint64_t joined_at = 0;
  uint64_t byte = locks::writer_byte(page);
  if (role == -1) {
    std::memcpy(&word, header + 56, sizeof word);
    joined_at = info.writer_joined_at;
  } else {
    byte = locks::reader_byte(page, static_cast<uint32_t>(role));
    uint64_t entry[2];
    if (Status s = posix::read_at(region.fd.get(), byte, entry, sizeof entry, &got);
        !s.is_ok() || got < sizeof entry) {
      return fail(ZINC_EBADMSG, "the object is too short for reader entry " + std::to_string(role));
    }
    word = entry[0];
    joined_at = entry[1];
  }
  bool free = false;
  const Creator state = role_state(region, word, joined_at, byte, &free);
  return free ? ZINC_ROLE_FREE : static_cast<int32_t>(state);
}

int32_t zinc_check_channel_header(const uint8_t* bytes, uintptr_t len, uint64_t capacity,
                                  ZincChannelInfo* out) {
  if (bytes == nullptr) return fail(ZINC_EINVAL, "bytes is NULL");
  if (len < ZINC_CHANNEL_HEADER_SIZE) {
    return fail(ZINC_EINVAL, "fewer than " + std::to_string(ZINC_CHANNEL_HEADER_SIZE) +
                                 " channel header bytes given");
  }
  if (len > capacity) return fail(ZINC_EINVAL, "more bytes given than the data area holds");
  if (out != nullptr) *out = zinc::core::decode_channel_header(bytes);
  const Status s = zinc::core::validate_channel(bytes, len, capacity);
  if (out != nullptr && s.is_ok() && len >= out->required_bytes) {
    out->readers = 0;
    for (uint32_t i = 0; i < out->max_readers; ++i) {
      uint64_t word;
      std::memcpy(&word, bytes + ZINC_CHANNEL_HEADER_SIZE + uint64_t{i} * ZINC_CHANNEL_ENTRY_SIZE,
                  sizeof word);
      if (zinc::core::owner_active(word)) ++out->readers;
    }
  }
  return result(s);
}

}  // extern "C"
