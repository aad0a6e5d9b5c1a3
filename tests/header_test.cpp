// validate_header / zinc_check_header: the open-time rules as a pure function.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "header.hpp"
#include "test_support.hpp"
#include "zinc.h"

namespace {

constexpr uint64_t kPage = 4096;

std::vector<uint8_t> page_for(uint64_t capacity) {
  std::vector<uint8_t> page(kPage, 0);
  const uint64_t magic = ZINC_MAGIC;
  const uint16_t version = 2;
  const uint32_t refs = 1;
  std::memcpy(&page[0], &magic, 8);
  std::memcpy(&page[8], &version, 2);
  std::memcpy(&page[16], &capacity, 8);
  std::memcpy(&page[24], &refs, 4);
  return page;
}

int32_t check(const std::vector<uint8_t>& page, uint64_t size) {
  return zinc_check_header(page.data(), page.size(), size, kPage, nullptr);
}

TEST(Header, ValidHeaderPasses) { EXPECT_EQ(check(page_for(kPage), 2 * kPage), ZINC_OK); }

TEST(Header, DecodesEveryField) {
  std::vector<uint8_t> page(64);
  for (size_t i = 0; i < page.size(); ++i) page[i] = static_cast<uint8_t>(i + 1);
  ZincHeaderInfo info{};
  zinc_check_header(page.data(), page.size(), 2 * kPage, kPage, &info);
  EXPECT_EQ(info.magic, 0x0807060504030201ULL);
  EXPECT_EQ(info.version, 0x0a09);
  EXPECT_EQ(info.flags, 0x0c0b);
  EXPECT_EQ(info.notify_seq, 0x100f0e0du);
  EXPECT_EQ(info.capacity, 0x1817161514131211ULL);
  EXPECT_EQ(info.ref_count, 0x1c1b1a19u);
  EXPECT_EQ(info.owner_pid, 0x201f1e1d);
  EXPECT_EQ(info.created_at, 0x2827262524232221ULL);
  EXPECT_EQ(info.name_hash, 0x302f2e2d2c2b2a29ULL);
  EXPECT_EQ(info.ring_head, 0x3837363534333231ULL);
  EXPECT_EQ(info.ring_tail, 0x403f3e3d3c3b3a39ULL);
}

TEST(Header, ZeroMagicMeansNotPublishedYet) {
  auto page = page_for(kPage);
  std::memset(&page[0], 0, 8);
  EXPECT_EQ(check(page, 2 * kPage), ZINC_EAGAIN);
}

TEST(Header, EmptyObjectMeansNotSizedYet) { EXPECT_EQ(check(page_for(kPage), 0), ZINC_EAGAIN); }

TEST(Header, WrongMagicIsCorrupt) {
  auto page = page_for(kPage);
  page[7] ^= 0xff;
  EXPECT_EQ(check(page, 2 * kPage), ZINC_EBADMSG);
  EXPECT_NE(std::strstr(zinc_last_error_message(), "bad magic"), nullptr);
}

TEST(Header, ByteSwappedMagicIsCorrupt) {
  auto page = page_for(kPage);
  const uint64_t swapped = __builtin_bswap64(ZINC_MAGIC);
  std::memcpy(&page[0], &swapped, 8);
  EXPECT_EQ(check(page, 2 * kPage), ZINC_EBADMSG);
}

TEST(Header, OtherVersionsAreCorrupt) {
  for (uint16_t version : {0, 1, 3, 0xffff}) {
    auto page = page_for(kPage);
    std::memcpy(&page[8], &version, 2);
    EXPECT_EQ(check(page, 2 * kPage), ZINC_EBADMSG) << version;
  }
}

TEST(Header, UnknownFlagsAreCorrupt) {
  for (const uint16_t flags : {0x0002, 0x0004, 0x8000, 0x8001, 0xFFFF}) {
    auto page = page_for(kPage);
    std::memcpy(&page[10], &flags, 2);
    EXPECT_EQ(check(page, 2 * kPage), ZINC_EBADMSG) << flags;
  }
}

TEST(Header, LivenessLocksFlagIsValid) {
  auto page = page_for(kPage);
  const uint16_t flags = ZINC_HEADER_FLAG_LOCKS;
  std::memcpy(&page[10], &flags, 2);
  EXPECT_EQ(check(page, 2 * kPage), ZINC_OK);
}

TEST(Header, CapacityMustMatchObjectSize) {
  EXPECT_EQ(check(page_for(kPage), 3 * kPage), ZINC_EBADMSG);
  EXPECT_EQ(check(page_for(2 * kPage), 2 * kPage), ZINC_EBADMSG);
  EXPECT_EQ(check(page_for(kPage - 1), 2 * kPage), ZINC_EBADMSG);
  EXPECT_EQ(check(page_for(2 * kPage), 3 * kPage), ZINC_OK);
}

TEST(Header, ImpossibleRefCountsAreCorrupt) {
  for (uint32_t refs : {0u, UINT32_MAX}) {
    auto page = page_for(kPage);
    std::memcpy(&page[24], &refs, 4);
    EXPECT_EQ(check(page, 2 * kPage), ZINC_EBADMSG) << refs;
  }
}

TEST(Header, ObjectSizesOtherThanWholePagesAreCorrupt) {
  for (uint64_t size : {uint64_t{64}, kPage, 2 * kPage - 1, 2 * kPage + 1, kPage + 64}) {
    EXPECT_EQ(check(page_for(size > kPage ? size - kPage : 0), size), ZINC_EBADMSG) << size;
  }
  EXPECT_EQ(check(page_for(0), uint64_t{1} << 63), ZINC_EBADMSG);
}

TEST(Header, IgnoresDiagnosticFields) {
  auto page = page_for(kPage);
  std::memset(&page[28], 0xab, 64 - 28);  // owner_pid, created_at, name_hash, ring
  std::memset(&page[12], 0xff, 4);        // notify_seq
  EXPECT_EQ(check(page, 2 * kPage), ZINC_OK);
}

TEST(Header, RejectsBadArguments) {
  auto page = page_for(kPage);
  EXPECT_EQ(zinc_check_header(nullptr, 64, 2 * kPage, kPage, nullptr), ZINC_EINVAL);
  EXPECT_EQ(zinc_check_header(page.data(), 63, 2 * kPage, kPage, nullptr), ZINC_EINVAL);
  EXPECT_EQ(zinc_check_header(page.data(), 64, 2 * kPage, 1000, nullptr), ZINC_EINVAL);
}

TEST(Header, OtherPageSizesFollowTheSameRules) {
  // A 16 KiB-page system (Apple silicon) puts the data at 16384.
  auto page = page_for(16384);
  EXPECT_EQ(zinc_check_header(page.data(), 64, 32768, 16384, nullptr), ZINC_OK);
  EXPECT_EQ(zinc_check_header(page.data(), 64, 32768, 4096, nullptr), ZINC_EBADMSG);
}

}  // namespace
