// The bytes a create writes, read back raw from /dev/shm and checked field by
// field against docs/spec.md.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "test_support.hpp"
#include "zinc.h"

namespace {

template <typename T>
T field(const std::vector<uint8_t>& bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

TEST(Layout, CreateWritesEveryHeaderFieldAsSpecified) {
  zinc::test::ObjectGuard g(zinc::test::unique_name("layout"));
  const uintptr_t page = zinc_page_size();
  const uint64_t before = zinc::test::realtime_ns();
  ZincHandle h = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), 3 * page, &h), ZINC_OK);
  const uint64_t after = zinc::test::realtime_ns();
  zinc_ptr(h)[0] = 0x5a;
  zinc_ptr(h)[3 * page - 1] = 0xa5;

  struct stat st{};
  ASSERT_EQ(stat(zinc::test::object_path(g.name()).c_str(), &st), 0);
  EXPECT_EQ(uint64_t(st.st_size), 4 * page);
  EXPECT_EQ(st.st_mode & 0777, 0600u & ~[] { mode_t m = umask(0); umask(m); return m; }());

  const auto raw = zinc::test::read_raw_object(g.name());
  ASSERT_EQ(raw.size(), 4 * page);
  // magic: little-endian bytes of 0x5A494E435F524547, i.e. "GER_CNIZ".
  EXPECT_EQ(std::memcmp(raw.data(), "GER_CNIZ", 8), 0);
  EXPECT_EQ(field<uint16_t>(raw, 8), 2);                 // version
  EXPECT_EQ(field<uint16_t>(raw, 10), ZINC_HEADER_FLAG_LOCKS);  // flags: holds liveness locks
  EXPECT_EQ(field<uint32_t>(raw, 12), 0u);               // notify_seq
  EXPECT_EQ(field<uint64_t>(raw, 16), 3 * page);         // capacity
  EXPECT_EQ(field<uint32_t>(raw, 24), 1u);               // ref_count
  EXPECT_EQ(field<int32_t>(raw, 28), getpid());          // owner_pid
  EXPECT_GE(field<uint64_t>(raw, 32), before);           // created_at
  EXPECT_LE(field<uint64_t>(raw, 32), after);
  EXPECT_EQ(field<uint64_t>(raw, 40), zinc_name_hash(g.c_str()));  // name_hash
  EXPECT_EQ(field<uint64_t>(raw, 48), 0u);               // ring_head
  EXPECT_EQ(field<uint64_t>(raw, 56), 0u);               // ring_tail
  // Extension "waiter count" at 64..127: tag, counted handles (the owner,
  // change counter 0), sleepers; the rest of the first page stays zero.
  EXPECT_EQ(field<uint64_t>(raw, 64), 0x5A494E435F574354ULL ^ field<uint64_t>(raw, 32));
  EXPECT_EQ(field<uint64_t>(raw, 72), 1u);
  EXPECT_EQ(field<uint32_t>(raw, 80), 0u);
  for (size_t i = 84; i < page; ++i) ASSERT_EQ(raw[i], 0) << "padding byte " << i;
  EXPECT_EQ(raw[page], 0x5a);                            // data starts at page_size
  EXPECT_EQ(raw[4 * page - 1], 0xa5);

  zinc_notify(h);
  zinc_notify(h);
  EXPECT_EQ(field<uint32_t>(zinc::test::read_raw_object(g.name()), 12), 2u);
  zinc_close(h);
}

TEST(Layout, OpenAcceptsAHeaderWrittenByAnotherImplementation) {
  // Exactly the bytes the spec describes, written without the library.
  zinc::test::ObjectGuard g(zinc::test::unique_name("foreign"));
  const uintptr_t page = zinc_page_size();
  zinc::test::write_raw_object(g.name(), zinc::test::valid_header_page(g.name(), page), 2 * page);
  ZincHandle h = nullptr;
  ASSERT_EQ(zinc_open(g.c_str(), &h), ZINC_OK) << zinc_last_error_message();
  EXPECT_EQ(zinc_capacity(h), page);
  EXPECT_EQ(field<uint32_t>(zinc::test::read_raw_object(g.name()), 24), 2u);
  zinc_close(h);
  EXPECT_EQ(field<uint32_t>(zinc::test::read_raw_object(g.name()), 24), 1u);
}

}  // namespace
