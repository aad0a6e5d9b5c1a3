// zinc::Region, the C++ RAII API.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <system_error>
#include <thread>

#include "test_support.hpp"
#include "zinc/zinc.hpp"

namespace {

using namespace std::chrono_literals;
using zinc::test::ObjectGuard;

TEST(CppApi, CreateOpenShareBytes) {
  ObjectGuard g(zinc::test::unique_name("cpp"));
  zinc::Region owner = zinc::Region::create(g.name(), zinc::page_size());
  zinc::Region reader = zinc::Region::open(g.name());
  EXPECT_EQ(owner.capacity(), zinc::page_size());
  EXPECT_EQ(reader.name(), g.name());
  owner.bytes()[3] = std::byte{42};
  EXPECT_EQ(reader.bytes()[3], std::byte{42});
  EXPECT_FALSE(reader.try_wait());
  owner.notify();
  EXPECT_TRUE(reader.wait(1000ms));
  EXPECT_FALSE(reader.wait(0ms));
}

TEST(CppApi, NameNeedNotBeNulTerminated) {
  ObjectGuard g(zinc::test::unique_name("view"));
  const std::string longer = g.name() + "_suffix";
  const std::string_view prefix(longer.data(), g.name().size());
  zinc::Region region = zinc::Region::create(prefix, zinc::page_size());
  EXPECT_EQ(region.name(), g.name());
  EXPECT_TRUE(zinc::test::object_exists(g.name()));
}

TEST(CppApi, NulInNameIsRejected) {
  try {
    zinc::Region::open(std::string_view("bad\0name", 8));
    FAIL() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("NUL"), std::string::npos);
  }
}

TEST(CppApi, ErrorsCarryCodeAndMessage) {
  const std::string name = zinc::test::unique_name("absent");
  try {
    zinc::Region::open(name);
    FAIL() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory);
    EXPECT_EQ(e.code().category(), zinc::category());
    EXPECT_NE(std::string(e.what()).find("no region named"), std::string::npos) << e.what();
  }
  EXPECT_THROW(zinc::Region::create(name, 5000), std::system_error);
}

TEST(CppApi, NonThrowingOverloads) {
  ObjectGuard g(zinc::test::unique_name("noexcept"));
  std::error_code ec;
  zinc::Region missing = zinc::Region::open(g.name(), ec);
  EXPECT_EQ(ec, std::errc::no_such_file_or_directory);
  EXPECT_FALSE(missing.is_open());
  zinc::Region region = zinc::Region::create(g.name(), zinc::page_size(), ec);
  EXPECT_FALSE(ec);
  EXPECT_FALSE(region.wait(0ms, ec));
  EXPECT_FALSE(ec);  // a timeout is not an error
  region.notify();
  EXPECT_TRUE(region.try_wait(ec));
  EXPECT_FALSE(ec);
  zinc::Region dup = zinc::Region::create(g.name(), zinc::page_size(), ec);
  EXPECT_EQ(ec, std::errc::file_exists);
}

TEST(CppApi, MovedFromIsEmpty) {
  ObjectGuard g(zinc::test::unique_name("move"));
  zinc::Region a = zinc::Region::create(g.name(), zinc::page_size());
  zinc::Region b = std::move(a);
  EXPECT_FALSE(a.is_open());
  EXPECT_EQ(a.capacity(), 0u);
  EXPECT_TRUE(a.bytes().empty());
  EXPECT_TRUE(a.name().empty());
  a.notify();  // no-op
  EXPECT_THROW(a.wait(0ms), std::system_error);
  EXPECT_THROW(a.try_wait(), std::system_error);
  a.close();
  EXPECT_TRUE(b.is_open());
  b.close();
  b.close();  // idempotent
  EXPECT_FALSE(zinc::test::object_exists(g.name()));
}

TEST(CppApi, MoveAssignClosesThePreviousRegion) {
  ObjectGuard g1(zinc::test::unique_name("ma1")), g2(zinc::test::unique_name("ma2"));
  zinc::Region a = zinc::Region::create(g1.name(), zinc::page_size());
  a = zinc::Region::create(g2.name(), zinc::page_size());
  EXPECT_FALSE(zinc::test::object_exists(g1.name()));
  EXPECT_EQ(a.name(), g2.name());
  auto& self = a;
  a = std::move(self);
  EXPECT_TRUE(a.is_open());
}

TEST(CppApi, TypedViewsCheckAlignmentAndSize) {
  ObjectGuard g(zinc::test::unique_name("typed"));
  zinc::Region region = zinc::Region::create(g.name(), zinc::page_size());
  auto all = region.as<uint64_t>();
  EXPECT_EQ(all.size(), zinc::page_size() / 8);
  all[1] = 0x0102030405060708ULL;
  EXPECT_EQ(region.as<uint32_t>(8, 1)[0], 0x05060708u);
  EXPECT_THROW(region.as<uint64_t>(4), std::invalid_argument);                      // misaligned
  EXPECT_THROW(region.as<uint64_t>(0, zinc::page_size() / 8 + 1), std::invalid_argument);  // too long
  EXPECT_THROW(region.as<char>(zinc::page_size() + 1), std::invalid_argument);      // past the end
  struct Pair { uint32_t a, b; };
  EXPECT_EQ(region.as<Pair>(0, 2).size(), 2u);
}

TEST(CppApi, LongTimeoutsClampInsteadOfWrapping) {
  ObjectGuard g(zinc::test::unique_name("clamp"));
  zinc::Region region = zinc::Region::create(g.name(), zinc::page_size());
  region.notify();
  EXPECT_TRUE(region.wait(std::chrono::milliseconds(uint64_t{1} << 40)));
  EXPECT_FALSE(region.wait(-5ms));
}

TEST(CppApi, ErrorCategoryMessages) {
  EXPECT_EQ(zinc::make_error_code(ZINC_ETIMEDOUT).message(), "timed out");
  EXPECT_EQ(zinc::make_error_code(ZINC_EBADMSG), std::errc::bad_message);
  EXPECT_FALSE(zinc::make_error_code(0));
}

TEST(CppApi, SpinLimitRoundTripsAndRejectsTooLong) {
  ObjectGuard g(zinc::test::unique_name("cpp-spin"));
  auto region = zinc::Region::create(g.name(), zinc::page_size());
  region.set_spin(std::chrono::microseconds(12));
  EXPECT_EQ(region.spin(), std::chrono::microseconds(12));
  region.set_spin(std::chrono::microseconds(-5));
  EXPECT_EQ(region.spin(), std::chrono::microseconds(0));
  EXPECT_THROW(region.set_spin(std::chrono::seconds(2)), std::system_error);
  EXPECT_EQ(region.spin(), std::chrono::microseconds(0));
}

// close() on one thread while another waits on the same Region: the wait
// ends (cancelled) and nothing races. The tsan preset runs this test; before
// the handle was atomic, ThreadSanitizer reported the unsynchronised read
// in wait() against the write in close().
TEST(CppApi, CloseWhileAnotherThreadWaits) {
  ObjectGuard g(zinc::test::unique_name("cpp-close-wait"));
  zinc::Region owner = zinc::Region::create(g.name(), zinc::page_size());
  zinc::Region reader = zinc::Region::open(g.name());
  reader.set_spin(0us);
  std::atomic<pid_t> tid{0};
  std::error_code ec;
  bool notified = true;
  std::thread waiter([&] {
    tid = gettid();
    notified = reader.wait(30s, ec);
  });
  zinc::test::await_futex_sleep(tid);
  const auto closed = std::chrono::steady_clock::now();
  reader.close();
  waiter.join();
  EXPECT_LT(std::chrono::steady_clock::now() - closed, 2s);
  EXPECT_FALSE(notified);
  EXPECT_EQ(ec.value(), ECANCELED) << ec.message();
  EXPECT_FALSE(reader.is_open());
}

}  // namespace
