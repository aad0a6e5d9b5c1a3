// Fuzz target "channel": channel headers, reader tables and slot metadata.
//
// A channel lives in a region's data area, which anyone who can write the
// object controls, so the channel parser sees untrusted bytes just as the
// region header parser does. Input:
//   byte 0      control bits; bit 0: the writer role is taken by a live
//               process (this one); bit 1: also join as the writer,
//               acquire without waiting and commit a whole frame
//   byte 1      data-area size in pages, folded to 1..16
//   the rest    the data area's first bytes (cut or zero-extended)
// Owner words in the input keep their active bit but get this process's pid,
// so that whether an owner is alive does not depend on which pids happen to
// exist. The object is a valid v2 region under a fresh name, always removed
// again. zinc_check_channel_header must return exactly what the rules of
// docs/spec.md §10 predict (written out here, independently of
// src/channel_layout.cpp), zinc_channel_open_reader/open_writer what the
// header rules and the roles predict, a read what the slot metadata says,
// and an acquire what the back-pressure and pin rules say. Frames are read
// and written byte by byte, so ASan sees any view past its slot. Anything
// else aborts.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "zinc.h"

namespace {

using zinc::fuzz::Bytes;

const uint64_t kPage = zinc_page_size();
constexpr uint64_t kActive = uint64_t{1} << 32;

std::string code_text(int32_t code) {
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
  uint64_t slot_size = 0, write_seq = 0, stride = 0, slots_offset = 0, required = 0;
  uint64_t entry(uint32_t i) const { return 128 + uint64_t{i} * 64; }
  uint64_t slot(uint32_t s) const { return slots_offset + uint64_t{s} * stride; }
};

// Free (pid 0 without the active bit, any generation in bits 33-63) or a
// positive pid (docs/spec.md §10.3).
bool owner_word_ok(uint64_t word) {
  const auto pid = static_cast<int32_t>(static_cast<uint32_t>(word));
  return (pid == 0 && (word & kActive) == 0) || pid > 0;
}

// docs/spec.md §10.2.1, written as the list of every allowed type string
// rather than as the core's parser: all zero (untyped), or one of these,
// NUL-padded to 8 bytes, with a shape whose bytes fit in a slot.
bool frame_type_ok(const std::vector<uint8_t>& area, uint64_t slot_size) {
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
int32_t spec_header(const std::vector<uint8_t>& area, Layout* out) {
  Layout& l = *out;
  const uint64_t magic = field<uint64_t>(area, 0);
  if (magic == 0) return ZINC_EAGAIN;
  if (magic != ZINC_CHANNEL_MAGIC || field<uint16_t>(area, 8) != 1 ||
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
  l.slots_offset = 128 + 64 * uint64_t{l.max_readers};
  l.required = l.slots_offset + l.slot_count * l.stride;
  if (l.required > area.size()) return ZINC_EBADMSG;
  if (l.latest_slot != UINT32_MAX && l.latest_slot >= l.slot_count) return ZINC_EBADMSG;
  if (!owner_word_ok(field<uint64_t>(area, 56))) return ZINC_EBADMSG;
  if (!frame_type_ok(area, l.slot_size)) return ZINC_EBADMSG;
  return ZINC_OK;
}

// The table and slot rules, checked when the whole layout is given.
int32_t spec_tables(const std::vector<uint8_t>& area, const Layout& l) {
  for (uint32_t i = 0; i < l.max_readers; ++i) {
    const uint64_t word = field<uint64_t>(area, l.entry(i));
    if (!owner_word_ok(word)) return ZINC_EBADMSG;
    if ((word & kActive) != 0 && field<uint32_t>(area, l.entry(i) + 24) > l.slot_count) {
      return ZINC_EBADMSG;
    }
  }
  for (uint32_t s = 0; s < l.slot_count; ++s) {
    const uint64_t seq = field<uint64_t>(area, l.slot(s));
    if (seq != 0 && seq % 2 == 0 && field<uint64_t>(area, l.slot(s) + 8) > l.slot_size) {
      return ZINC_EBADMSG;
    }
  }
  return ZINC_OK;
}

// A valid region header page for `name` with `capacity` data bytes.
std::vector<uint8_t> region_page(const std::string& name, uint64_t capacity) {
  std::vector<uint8_t> page(kPage, 0);
  put<uint64_t>(page, 0, ZINC_MAGIC);
  put<uint16_t>(page, 8, ZINC_FORMAT_VERSION);
  put<uint64_t>(page, 16, capacity);
  put<uint32_t>(page, 24, 1);
  put<int32_t>(page, 28, getpid());
  put<uint64_t>(page, 32, uint64_t{1700000000} * 1000000000);
  put<uint64_t>(page, 40, zinc_name_hash(name.c_str()));
  return page;
}

void check_read(ZincChannel reader, const std::vector<uint8_t>& area, const Layout& l) {
  // What the first read must return: lossless starts at write_seq, so there
  // is nothing yet; latest returns the frame in latest_slot if it is
  // committed, and a length beyond the slot is corruption.
  int32_t want = ZINC_EAGAIN;
  uint64_t want_seq = 0, want_length = 0;
  if (l.mode == ZINC_CHANNEL_LATEST && l.latest_slot != UINT32_MAX) {
    const uint64_t seq = field<uint64_t>(area, l.slot(l.latest_slot));
    if (seq != 0 && seq % 2 == 0) {
      want_seq = seq / 2 - 1;
      want_length = field<uint64_t>(area, l.slot(l.latest_slot) + 8);
      want = want_length > l.slot_size ? ZINC_EBADMSG : ZINC_OK;
    }
  }
  ZincChannelFrame frame{};
  const int32_t rc = zinc_channel_read(reader, 0, &frame);
  FUZZ_CHECK(rc == want, "read returned " + code_text(rc) + ", the slot metadata says " +
                             code_text(want) + " (" + zinc_last_error_message() + ")");
  if (rc != ZINC_OK) return;
  FUZZ_CHECK(frame.sequence == want_seq && frame.length == want_length,
             "read returned frame " + std::to_string(frame.sequence) + " of " +
                 std::to_string(frame.length) + " bytes");
  const uint64_t payload = l.slot(l.latest_slot) + 64;
  for (uint64_t i = 0; i < frame.length; ++i) {
    FUZZ_CHECK(frame.data[i] == area[payload + i], "frame byte " + std::to_string(i) + " differs");
  }
  FUZZ_CHECK(zinc_channel_release(reader) == ZINC_OK, "release of a held frame failed");
}

// What an acquire without waiting must return for the area as it is now
// (the test's own reader has left again).
int32_t expected_acquire(const std::vector<uint8_t>& area, const Layout& l, uint64_t frame) {
  if (l.mode == ZINC_CHANNEL_LOSSLESS) {
    for (uint32_t i = 0; i < l.max_readers; ++i) {
      if ((field<uint64_t>(area, l.entry(i)) & kActive) == 0) continue;
      const uint64_t cursor = field<uint64_t>(area, l.entry(i) + 16);
      if (cursor <= frame && frame - cursor >= l.slot_count) return ZINC_EAGAIN;
    }
    return ZINC_OK;
  }
  // Latest: any slot that is not the newest and that no entry pins.
  for (uint32_t s = 0; s < l.slot_count; ++s) {
    if (s == l.latest_slot) continue;
    bool pinned = false;
    for (uint32_t i = 0; i < l.max_readers; ++i) {
      pinned = pinned || field<uint32_t>(area, l.entry(i) + 24) == s + 1;
    }
    if (!pinned) return ZINC_OK;
  }
  return ZINC_EAGAIN;
}

// Until its commit an acquired frame is not announced: write_seq and
// latest_slot are what they were before the acquire.
void check_not_published_yet(const std::string& name, const std::vector<uint8_t>& before) {
  uint8_t now[12];
  FUZZ_CHECK(zinc::fuzz::read_object(name, kPage + 32, sizeof now, now), "read back");
  FUZZ_CHECK(std::equal(now, now + sizeof now, before.begin() + 32),
             "write_seq or latest_slot changed between acquire and commit");
}

// A latest writer never writes a slot that an active reader pins: every
// pinned slot (header and payload) is as it was before the acquire.
void check_pinned_slots_untouched(const std::string& name, const Layout& l,
                                  const std::vector<uint8_t>& before) {
  if (l.mode != ZINC_CHANNEL_LATEST) return;
  std::vector<uint8_t> after(l.required);
  FUZZ_CHECK(zinc::fuzz::read_object(name, kPage, after.size(), after.data()), "read back");
  for (uint32_t i = 0; i < l.max_readers; ++i) {
    if ((field<uint64_t>(before, l.entry(i)) & kActive) == 0) continue;
    const uint32_t held = field<uint32_t>(before, l.entry(i) + 24);
    if (held == 0 || held > l.slot_count) continue;
    const uint64_t at = l.slot(held - 1);
    FUZZ_CHECK(std::equal(before.begin() + static_cast<int64_t>(at),
                          before.begin() + static_cast<int64_t>(at + l.stride),
                          after.begin() + static_cast<int64_t>(at)),
               "the writer wrote slot " + std::to_string(held - 1) + ", which reader entry " +
                   std::to_string(i) + " pins");
  }
}

void check_writer(const std::string& name, const Layout& l, bool writer_taken) {
  ZincChannel writer = nullptr;
  const int32_t rc = zinc_channel_open_writer(name.c_str(), &writer);
  const int32_t want = writer_taken ? ZINC_EBUSY : ZINC_OK;
  FUZZ_CHECK(rc == want, "open_writer returned " + code_text(rc) + ", expected " + code_text(want) +
                             " (" + zinc_last_error_message() + ")");
  if (rc != ZINC_OK) return;
  std::vector<uint8_t> area(l.required);
  FUZZ_CHECK(zinc::fuzz::read_object(name, kPage, area.size(), area.data()), "read back");
  uint64_t frame = field<uint64_t>(area, 32);
  if (l.mode == ZINC_CHANNEL_LATEST && l.latest_slot != UINT32_MAX) {
    const uint64_t seq = field<uint64_t>(area, l.slot(l.latest_slot));
    if (seq != 0 && seq % 2 == 0) frame = std::max(frame, seq / 2);
  }
  const int32_t want_acquire = expected_acquire(area, l, frame);
  ZincChannelFrame slot{};
  const int32_t acquired = zinc_channel_acquire(writer, 0, &slot);
  FUZZ_CHECK(acquired == want_acquire, "acquire returned " + code_text(acquired) +
                                           ", the rules say " + code_text(want_acquire) + " (" +
                                           zinc_last_error_message() + ")");
  if (acquired == ZINC_OK) {
    FUZZ_CHECK(slot.sequence == frame && slot.length == l.slot_size,
               "acquired frame " + std::to_string(slot.sequence) + " of " +
                   std::to_string(slot.length) + " bytes");
    for (uint64_t i = 0; i < slot.length; ++i) slot.data[i] = static_cast<uint8_t>(i);
    check_not_published_yet(name, area);
    FUZZ_CHECK(zinc_channel_commit(writer, slot.length) == ZINC_OK, "commit failed");
    ZincChannelInfo info{};
    FUZZ_CHECK(zinc_channel_info(writer, &info) == ZINC_OK && info.write_seq == frame + 1,
               "write_seq after the commit");
    check_pinned_slots_untouched(name, l, area);
  }
  zinc_channel_close(writer);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* input, size_t length) {
  Bytes bytes(input, length);
  const uint8_t control = bytes.u8();
  const uint64_t capacity = (bytes.u8() % 16 + 1) * kPage;
  const std::string_view content = bytes.rest();
  std::vector<uint8_t> area(capacity, 0);
  std::copy_n(content.begin(), std::min<size_t>(capacity, content.size()), area.begin());

  // Owners are this (live) process; the writer role as the control says.
  const uint32_t pid = static_cast<uint32_t>(getpid());
  put<uint64_t>(area, 56, (control & 1) != 0 ? kActive | pid : 0);
  Layout l;
  const int32_t header_rule = spec_header(area, &l);
  const uint32_t readers = header_rule == ZINC_OK ? l.max_readers : 0;
  for (uint32_t i = 0; i < readers; ++i) {
    const uint64_t word = field<uint64_t>(area, l.entry(i));
    if (word != 0) put<uint64_t>(area, l.entry(i), (word & kActive) | pid);
  }

  // The pure check: the header alone, then with the tables.
  const int32_t alone = zinc_check_channel_header(area.data(), 128, capacity, nullptr);
  FUZZ_CHECK(alone == header_rule, "zinc_check_channel_header(header) returned " +
                                       code_text(alone) + ", the spec says " +
                                       code_text(header_rule));
  const int32_t full_rule = header_rule == ZINC_OK ? spec_tables(area, l) : header_rule;
  ZincChannelInfo info{};
  const int32_t full = zinc_check_channel_header(area.data(), area.size(), capacity, &info);
  FUZZ_CHECK(full == full_rule, "zinc_check_channel_header(all) returned " + code_text(full) +
                                    ", the spec says " + code_text(full_rule) + " (" +
                                    zinc_last_error_message() + ")");

  const std::string name = zinc::fuzz::unique_name("c");
  const zinc::fuzz::ObjectGuard guard(name);
  std::vector<uint8_t> object = region_page(name, capacity);
  object.insert(object.end(), area.begin(), area.end());
  if (!zinc::fuzz::write_object(
          name, std::string_view(reinterpret_cast<const char*>(object.data()), object.size()),
          object.size())) {
    return 0;  // /dev/shm full: skip
  }

  // A reader joins if a table entry is free (every owner here is alive).
  bool table_full = header_rule == ZINC_OK;
  for (uint32_t i = 0; table_full && i < l.max_readers; ++i) {
    table_full = field<uint64_t>(area, l.entry(i)) != 0;
  }
  const int32_t want_open = header_rule != ZINC_OK ? header_rule
                            : table_full           ? ZINC_EBUSY
                                                   : ZINC_OK;
  ZincChannel reader = reinterpret_cast<ZincChannel>(0x1);
  const int32_t opened = zinc_channel_open_reader(name.c_str(), &reader);
  FUZZ_CHECK(opened == want_open, "open_reader returned " + code_text(opened) + ", the rules say " +
                                      code_text(want_open) + " (" + zinc_last_error_message() +
                                      ")");
  if (opened != ZINC_OK) {
    FUZZ_CHECK(reader == nullptr, "failed open left *out set");
    FUZZ_CHECK(zinc_last_error_message()[0] != '\0', "failed open without a message");
  } else {
    check_read(reader, area, l);
    zinc_channel_close(reader);
    if ((control & 2) != 0) check_writer(name, l, (control & 1) != 0);
  }
  zinc::fuzz::unlink_object(name);
  FUZZ_CHECK(!zinc::fuzz::object_exists(name), "object left behind");
  return 0;
}
