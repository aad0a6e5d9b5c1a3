// Fuzz target "header": zinc_open on an arbitrary object in /dev/shm.
//
// The region header is the one parser of untrusted bytes in zinc: anyone who
// can write an object can hand zinc_open any content and any size. Input:
//   byte 0      control bits; bit 0: overwrite name_hash (offset 40) with the
//               hash of the fresh name, so inputs can get past that check;
//               bit 1: also check zinc_check_header alone against the rules
//               for another geometry: page size 2^(byte 0 >> 2) (exponent 0:
//               this system's; 1-5: an invalid page size) and the object size
//               in header bytes 56..63 (ring_tail, which validation ignores)
//   bytes 1..4  object size, u32 little-endian, folded to at most
//               1 MiB + one page so one run stays fast
//   the rest    the object's first bytes (cut or zero-extended to the size)
// The object gets a fresh name and is always removed again. zinc_open,
// zinc_inspect and zinc_check_header must all return exactly what the spec's
// rules predict (written out here, independently of src/header.cpp), and a
// failed open must leave the object unchanged. On success every data byte is
// read and written, and notify, try_wait and wait(0) behave as the cursor
// rules say. Anything else aborts.
#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "zinc.h"

namespace {

using zinc::fuzz::Bytes;

const uint64_t kPage = zinc_page_size();
const uint64_t kMaxObject = (uint64_t{1} << 20) + kPage;

std::string code_text(int32_t code) {
  return std::to_string(code) + " (" + zinc_strerror(code) + ")";
}

// The object exactly as it will be in /dev/shm.
std::vector<uint8_t> object_image(std::string_view content, uint64_t size) {
  std::vector<uint8_t> image(size, 0);
  std::copy_n(content.begin(), std::min<uint64_t>(size, content.size()), image.begin());
  return image;
}

template <typename T>
T field(const uint8_t* header, size_t offset) {
  T value;
  std::memcpy(&value, header + offset, sizeof value);
  return value;
}

// docs/spec.md §4.2 steps 3 and 5 for any geometry, written independently of
// src/header.cpp (exact arithmetic: no overflow for huge pages or sizes).
int32_t spec_check(const uint8_t* header, uint64_t size, uint64_t page) {
  if (page == 0) page = kPage;
  if (page < 64 || (page & (page - 1)) != 0) return ZINC_EINVAL;
  if (size == 0) return ZINC_EAGAIN;
  if (size / 2 < page || size % page != 0 || size > uint64_t{INT64_MAX}) return ZINC_EBADMSG;
  const uint64_t magic = field<uint64_t>(header, 0);
  if (magic == 0) return ZINC_EAGAIN;
  const uint32_t ref_count = field<uint32_t>(header, 24);
  if (magic != ZINC_MAGIC || field<uint16_t>(header, 8) != 2 ||
      (field<uint16_t>(header, 10) & ~ZINC_HEADER_FLAG_LOCKS) != 0 ||
      field<uint64_t>(header, 16) != size - page || ref_count == 0 || ref_count == UINT32_MAX) {
    return ZINC_EBADMSG;
  }
  return ZINC_OK;
}

// What zinc_open must return for this image under `name`, by the spec (not
// by zinc's own header code, which a bug could share with zinc_open). The
// pure zinc_check_header must agree. *info gets the fields used later.
int32_t expected_open(const std::vector<uint8_t>& image, const std::string& name,
                      ZincHeaderInfo* info) {
  uint8_t header[ZINC_HEADER_SIZE] = {};
  std::copy_n(image.begin(), std::min<size_t>(image.size(), sizeof header), header);
  const int32_t want = spec_check(header, image.size(), 0);
  const int32_t checked = zinc_check_header(header, sizeof header, image.size(), 0, nullptr);
  FUZZ_CHECK(checked == want, "zinc_check_header returned " + code_text(checked) +
                                  ", the spec says " + code_text(want));
  info->notify_seq = field<uint32_t>(header, 12);
  info->ref_count = field<uint32_t>(header, 24);
  if (want == ZINC_OK && field<uint64_t>(header, 40) != zinc_name_hash(name.c_str())) {
    return ZINC_EBADMSG;
  }
  return want;
}

// Reads and writes every data byte, and checks the writes reach the object.
void exercise_data(ZincHandle h, const std::string& name, const std::vector<uint8_t>& image) {
  uint8_t* data = zinc_ptr(h);
  const size_t capacity = zinc_capacity(h);
  FUZZ_CHECK(data != nullptr, "zinc_ptr is NULL after a successful open");
  FUZZ_CHECK(reinterpret_cast<uintptr_t>(data) % kPage == 0, "data area not page aligned");
  FUZZ_CHECK(capacity == image.size() - kPage, "capacity " + std::to_string(capacity) +
                                                   " for an object of " +
                                                   std::to_string(image.size()) + " bytes");
  for (size_t i = 0; i < capacity; ++i) {
    FUZZ_CHECK(data[i] == image[kPage + i], "data byte " + std::to_string(i) + " differs");
    data[i] = static_cast<uint8_t>(~data[i]);
  }
  std::vector<uint8_t> back(capacity);
  FUZZ_CHECK(zinc::fuzz::read_object(name, kPage, capacity, back.data()),
             "could not read the object back");
  for (size_t i = 0; i < capacity; ++i) {
    FUZZ_CHECK(back[i] == static_cast<uint8_t>(~image[kPage + i]),
               "write to data byte " + std::to_string(i) + " did not reach the object");
  }
}

// The handle's cursor starts at 0; the header's notify_seq is whatever the
// input said.
void exercise_notify(ZincHandle h, uint32_t seq) {
  FUZZ_CHECK(zinc_try_wait(h) == (seq != 0 ? ZINC_OK : ZINC_EAGAIN),
             "try_wait on a fresh handle with notify_seq " + std::to_string(seq));
  // Now the cursor equals seq either way, so our own notify is pending.
  zinc_notify(h);
  FUZZ_CHECK(zinc_wait(h, 0) == ZINC_OK, "own notification not visible to wait(0)");
  FUZZ_CHECK(zinc_try_wait(h) == ZINC_EAGAIN, "notification reported twice");
  FUZZ_CHECK(zinc_wait(h, 0) == ZINC_ETIMEDOUT, "wait(0) with nothing pending");
}

void check_inspect(const std::string& name, uint32_t ref_count, uint32_t seq) {
  ZincHeaderInfo now{};
  const int32_t rc = zinc_inspect(name.c_str(), &now);
  // A count of 2^32-1 reads as corruption (spec §4.2 step 6), even when an
  // open produced it from 2^32-2.
  const int32_t want = ref_count == UINT32_MAX ? ZINC_EBADMSG : ZINC_OK;
  FUZZ_CHECK(rc == want, "zinc_inspect returned " + code_text(rc));
  FUZZ_CHECK(now.ref_count == ref_count, "ref_count " + std::to_string(now.ref_count) +
                                             ", expected " + std::to_string(ref_count));
  FUZZ_CHECK(now.notify_seq == seq,
             "notify_seq " + std::to_string(now.notify_seq) + ", expected " + std::to_string(seq));
}

void check_other_geometry(uint8_t control, const std::string& content) {
  uint8_t header[ZINC_HEADER_SIZE] = {};
  std::copy_n(content.begin(), std::min<size_t>(content.size(), sizeof header), header);
  const unsigned exponent = control >> 2;
  const uint64_t page = exponent == 0  ? 0
                        : exponent < 6 ? (uint64_t{1} << exponent) + 1
                                       : uint64_t{1} << exponent;
  const uint64_t size = field<uint64_t>(header, 56);
  ZincHeaderInfo info{};
  const int32_t rc = zinc_check_header(header, sizeof header, size, page, &info);
  const int32_t want = spec_check(header, size, page);
  FUZZ_CHECK(rc == want, "zinc_check_header(size " + std::to_string(size) + ", page " +
                             std::to_string(page) + ") returned " + code_text(rc) +
                             ", the spec says " + code_text(want));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* input, size_t length) {
  Bytes bytes(input, length);
  const uint8_t control = bytes.u8();
  uint64_t size = bytes.u32();
  if (size > kMaxObject) size %= kMaxObject + 1;
  std::string content(bytes.rest());
  const std::string name = zinc::fuzz::unique_name("h");
  const zinc::fuzz::ObjectGuard guard(name);
  if (control & 1) {
    if (content.size() < 48) content.resize(48, '\0');
    const uint64_t hash = zinc_name_hash(name.c_str());
    std::memcpy(content.data() + 40, &hash, sizeof hash);
  }
  const std::vector<uint8_t> image = object_image(content, size);
  if (control & 2) check_other_geometry(control, content);
  if (!zinc::fuzz::write_object(name, content, size)) return 0;  // /dev/shm full: skip

  ZincHeaderInfo info{};
  const int32_t want = expected_open(image, name, &info);
  ZincHandle h = reinterpret_cast<ZincHandle>(0x1);
  const int32_t rc = zinc_open(name.c_str(), &h);
  FUZZ_CHECK(rc == want, "zinc_open returned " + code_text(rc) + ", the header rules say " +
                             code_text(want) + " (" + zinc_last_error_message() + ")");
  if (rc != ZINC_OK) {
    FUZZ_CHECK(h == nullptr, "failed open left *out set");
    FUZZ_CHECK(zinc_last_error_message()[0] != '\0', "failed open without a message");
    // Bad input loses nothing: the object is as it was.
    std::vector<uint8_t> after(image.size());
    FUZZ_CHECK(zinc::fuzz::read_object(name, 0, after.size(), after.data()) && after == image,
               "a failed open changed the object");
    // The read-only path (pread, no mapping) reaches the same verdict.
    const int32_t inspected = zinc_inspect(name.c_str(), nullptr);
    FUZZ_CHECK(inspected == want, "zinc_inspect returned " + code_text(inspected) +
                                      " where zinc_open returned " + code_text(rc));
  } else {
    check_inspect(name, info.ref_count + 1, info.notify_seq);
    exercise_data(h, name, image);
    exercise_notify(h, info.notify_seq);
    check_inspect(name, info.ref_count + 1, info.notify_seq + 1);
    zinc_close(h);
    FUZZ_CHECK(zinc::fuzz::object_exists(name), "a reader's close removed the object");
    check_inspect(name, info.ref_count, info.notify_seq + 1);
    FUZZ_CHECK(zinc_ptr(h) == nullptr && zinc_capacity(h) == 0, "closed handle still answers");
    FUZZ_CHECK(zinc_try_wait(h) == ZINC_EINVAL, "try_wait on a closed handle");
  }
  zinc::fuzz::unlink_object(name);
  FUZZ_CHECK(!zinc::fuzz::object_exists(name), "object left behind");
  return 0;
}
