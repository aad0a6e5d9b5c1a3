// The C++ wait set (include/zinc/wait_set.hpp): RAII, keys, close from
// another thread.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <system_error>
#include <thread>
#include <zinc/wait_set.hpp>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using zinc::test::ObjectGuard;
using zinc::test::unique_name;

TEST(WaitSetCpp, reports_the_keys_of_a_reader_and_a_region) {
  ObjectGuard channel_name(unique_name("wscpp-channel"));
  ObjectGuard region_name(unique_name("wscpp-region"));
  auto writer = zinc::ChannelWriter::create(channel_name.name(), {.slot_size = 64});
  auto reader = zinc::ChannelReader::open(channel_name.name());
  auto region = zinc::Region::create(region_name.name(), zinc::page_size());
  zinc::WaitSet set;
  set.add(reader, 1);
  set.add(region, 2);
  EXPECT_TRUE(set.wait(0ms).empty());
  auto frame = writer.acquire(100ms);
  ASSERT_TRUE(frame.has_value());
  writer.commit(*frame, 8);
  region.notify();
  auto keys = set.wait(10s);
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<uint64_t>{1, 2}));
  EXPECT_TRUE(set.remove(reader));
  EXPECT_FALSE(set.remove(reader));
  EXPECT_THROW(set.add(region, 3), std::system_error) << "a member already";
}

TEST(WaitSetCpp, close_from_another_thread_makes_wait_throw_canceled) {
  zinc::WaitSet set;
  std::error_code seen;
  std::atomic<pid_t> tid{0};
  std::thread waiter([&] {
    tid = static_cast<pid_t>(syscall(SYS_gettid));
    try {
      set.wait(zinc::kForever);
    } catch (const std::system_error& e) {
      seen = e.code();
    }
  });
  ASSERT_TRUE(zinc::test::await_futex_sleep(tid));
  set.close();
  waiter.join();
  EXPECT_EQ(seen, std::errc::operation_canceled);
  EXPECT_FALSE(set.is_open());
}

TEST(WaitSetCpp, fd_is_a_descriptor) {
  zinc::WaitSet set;
  EXPECT_GE(set.fd(), 0);
}

}  // namespace
