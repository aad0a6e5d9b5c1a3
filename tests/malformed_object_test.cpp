// Objects under /dev/shm that are not valid regions: each field corrupted,
// each size wrong. Open must return a clean code (never SIGBUS, never an
// out-of-bounds read) and must leave the object as it found it.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>

#include "test_support.hpp"
#include "zinc.h"

namespace {

using zinc::test::ObjectGuard;

const uint64_t kPage = zinc_page_size();

struct Case {
  std::string scenario;
  std::function<void(std::vector<uint8_t>&)> corrupt;
  uint64_t size;  // object size; the header claims capacity kPage
  int32_t expected;
};

template <typename T>
void put(std::vector<uint8_t>& page, size_t offset, T value) {
  std::memcpy(page.data() + offset, &value, sizeof value);
}

void expect_open(const Case& c) {
  ObjectGuard g(zinc::test::unique_name(c.scenario));
  auto page = zinc::test::valid_header_page(g.name(), kPage);
  c.corrupt(page);
  if (page.size() > c.size) page.resize(c.size);
  zinc::test::write_raw_object(g.name(), page, c.size);
  const auto before = zinc::test::read_raw_object(g.name());
  ZincHandle h = reinterpret_cast<ZincHandle>(0x1);
  const int32_t rc = zinc_open(g.c_str(), &h);
  EXPECT_EQ(rc, c.expected) << c.scenario << ": " << zinc_last_error_message();
  if (rc != 0) {
    EXPECT_EQ(h, nullptr) << c.scenario;
    EXPECT_GT(std::strlen(zinc_last_error_message()), 10u) << c.scenario;
    EXPECT_EQ(zinc::test::read_raw_object(g.name()), before) << c.scenario << " changed the object";
  } else {
    zinc_close(h);
  }
  // zinc_inspect agrees with zinc_open.
  EXPECT_EQ(zinc_inspect(g.c_str(), nullptr), c.expected) << c.scenario;
}

auto none = [](std::vector<uint8_t>&) {};

TEST(MalformedObject, ValidBaselineOpens) { expect_open({"baseline", none, 2 * kPage, ZINC_OK}); }

TEST(MalformedObject, EmptyObjectIsNotReadyYet) {
  expect_open({"open_empty_object", none, 0, ZINC_EAGAIN});
}

TEST(MalformedObject, UnpublishedMagicIsNotReadyYet) {
  expect_open({"open_unpublished_header", [](auto& p) { put<uint64_t>(p, 0, 0); }, 2 * kPage,
               ZINC_EAGAIN});
}

TEST(MalformedObject, TruncatedObjectsAreCorrupt) {
  for (uint64_t size : {uint64_t{1}, uint64_t{63}, uint64_t{64}, kPage - 1, kPage, kPage + 1,
                        2 * kPage - 1}) {
    expect_open({"open_truncated_object", none, size, ZINC_EBADMSG});
  }
}

TEST(MalformedObject, ObjectNotWholePagesIsCorrupt) {
  expect_open({"open_ragged_object", none, 2 * kPage + 100, ZINC_EBADMSG});
}

TEST(MalformedObject, ObjectLongerThanHeaderSaysIsCorrupt) {
  expect_open({"open_grown_object", none, 3 * kPage, ZINC_EBADMSG});
}

TEST(MalformedObject, EachCorruptedFieldIsReported) {
  const Case cases[] = {
      {"bad_magic", [](auto& p) { p[0] ^= 1; }, 2 * kPage, ZINC_EBADMSG},
      {"magic_all_ones", [](auto& p) { put<uint64_t>(p, 0, ~0ULL); }, 2 * kPage, ZINC_EBADMSG},
      {"version_1", [](auto& p) { put<uint16_t>(p, 8, 1); }, 2 * kPage, ZINC_EBADMSG},
      {"version_3", [](auto& p) { put<uint16_t>(p, 8, 3); }, 2 * kPage, ZINC_EBADMSG},
      {"unknown_flags", [](auto& p) { put<uint16_t>(p, 10, 0x8000); }, 2 * kPage, ZINC_EBADMSG},
      {"capacity_too_big", [](auto& p) { put<uint64_t>(p, 16, 2 * kPage); }, 2 * kPage, ZINC_EBADMSG},
      {"capacity_zero", [](auto& p) { put<uint64_t>(p, 16, 0); }, 2 * kPage, ZINC_EBADMSG},
      {"capacity_huge", [](auto& p) { put<uint64_t>(p, 16, ~0ULL); }, 2 * kPage, ZINC_EBADMSG},
      {"ref_count_zero", [](auto& p) { put<uint32_t>(p, 24, 0); }, 2 * kPage, ZINC_EBADMSG},
      {"ref_count_max", [](auto& p) { put<uint32_t>(p, 24, UINT32_MAX); }, 2 * kPage, ZINC_EBADMSG},
      {"name_hash_other_name", [](auto& p) { put<uint64_t>(p, 40, 0); }, 2 * kPage, ZINC_EBADMSG},
      // Diagnostic fields are never validated.
      {"owner_pid_garbage", [](auto& p) { put<int32_t>(p, 28, -5); }, 2 * kPage, ZINC_OK},
      {"created_at_garbage", [](auto& p) { put<uint64_t>(p, 32, ~0ULL); }, 2 * kPage, ZINC_OK},
      {"ring_garbage", [](auto& p) { put<uint64_t>(p, 48, 7); put<uint64_t>(p, 56, 9); }, 2 * kPage, ZINC_OK},
      {"notify_seq_max", [](auto& p) { put<uint32_t>(p, 12, UINT32_MAX); }, 2 * kPage, ZINC_OK},
  };
  for (const auto& c : cases) expect_open(c);
}

TEST(MalformedObject, CorruptionMessagesSayWhatIsWrong) {
  ObjectGuard g(zinc::test::unique_name("message"));
  auto page = zinc::test::valid_header_page(g.name(), kPage);
  put<uint16_t>(page, 8, 7);
  zinc::test::write_raw_object(g.name(), page, 2 * kPage);
  ZincHandle h = nullptr;
  EXPECT_EQ(zinc_open(g.c_str(), &h), ZINC_EBADMSG);
  EXPECT_EQ(std::string(zinc_last_error_message()),
            "region '" + g.name() + "': format version 7, but this library reads version 2");
}

}  // namespace
