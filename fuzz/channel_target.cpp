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

#include "channel_rules.hpp"
#include "fuzz_support.hpp"
#include "zinc.h"

namespace {

using zinc::fuzz::Bytes;
using zinc::fuzz::code_text;
using zinc::fuzz::field;
using zinc::fuzz::kActive;
using zinc::fuzz::kMaxWriteSeq;
using zinc::fuzz::Layout;
using zinc::fuzz::put;
using zinc::fuzz::spec_header;
using zinc::fuzz::spec_tables;

const uint64_t kPage = zinc_page_size();

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
  // committed, and a length beyond the slot, or a frame past write_seq, is
  // corruption.
  int32_t want = ZINC_EAGAIN;
  uint64_t want_seq = 0, want_length = 0;
  if (l.mode == ZINC_CHANNEL_LATEST && l.latest_slot != UINT32_MAX) {
    const uint64_t seq = field<uint64_t>(area, l.slot(l.latest_slot));
    if (seq != 0 && seq % 2 == 0) {
      want_seq = seq / 2 - 1;
      want_length = field<uint64_t>(area, l.slot(l.latest_slot) + 8);
      // A frame past write_seq is damage (§10.6): the writer stores a slot's
      // seq before write_seq.
      want = want_seq > field<uint64_t>(area, 32) || want_length > l.slot_size ? ZINC_EBADMSG
                                                                               : ZINC_OK;
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
  if (frame >= kMaxWriteSeq) return ZINC_EBADMSG;  // frame numbers end at 2^63 - 2 (§10.4)
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
    // Only the one frame a writer killed between its commit stores leaves
    // past write_seq (docs/spec.md §10.3); anything further is damage.
    if (seq != 0 && seq % 2 == 0 && seq / 2 == frame + 1) frame = seq / 2;
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
