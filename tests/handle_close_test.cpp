// The handle table (src/handle_table.hpp) through the C ABI: a close from
// another thread cancels a call that is blocked on the handle, whatever the
// moment, and handles of one kind are refused by the other's calls.
//
// The race that matters is a close that lands after a blocked call checked
// its cancel flag and before it went to sleep on the futex: that single
// wake-up is lost. Two test seams force exactly that moment instead of
// hoping for it: before_futex_wait_hook runs in the blocked thread just
// before the futex system call, and after_cancel_hook runs in the closing
// thread after each round of cancelling.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "futex.hpp"
#include "handle_table.hpp"
#include "test_support.hpp"
#include "zinc.h"

namespace {

using zinc::test::HookGuard;
using zinc::test::ObjectGuard;
using zinc::test::unique_name;

// A long timeout. A call that misses the cancel sleeps until its deadline
// (and may then still report ZINC_ECANCELED, the flag being set by then), so
// a miss is a call that ran this long; a cancelled one returns at once.
constexpr uint32_t kLongTimeoutMs = 10'000;

using Clock = std::chrono::steady_clock;

// Whether a call that started at `start` ran out its long timeout.
bool ran_out_its_timeout(Clock::time_point start) {
  return Clock::now() - start >= std::chrono::milliseconds(kLongTimeoutMs);
}

// Only the thread that runs the blocking call reacts to the futex seam.
thread_local bool t_blocking_thread = false;

// Holds the blocked thread at the futex call until the closing thread has
// finished its first round of cancelling, so that round is always missed.
struct CloseAtSleep {
  std::mutex mutex;
  std::condition_variable changed;
  bool about_to_sleep = false;
  bool returned = false;  // the call came back without reaching the futex
  bool first_round_done = false;
  int cancel_rounds = 0;
  bool slept_to_deadline = false;

  static CloseAtSleep* current;

  static void before_futex_wait() {
    if (!t_blocking_thread) return;
    t_blocking_thread = false;  // once: later waits of this call run freely
    CloseAtSleep& s = *current;
    std::unique_lock lock(s.mutex);
    s.about_to_sleep = true;
    s.changed.notify_all();
    s.changed.wait(lock, [&] { return s.first_round_done; });
  }
  static void after_cancel() {
    CloseAtSleep& s = *current;
    std::lock_guard lock(s.mutex);
    s.first_round_done = true;
    ++s.cancel_rounds;
    s.changed.notify_all();
  }

  // Runs `call` in a thread, closes with `close` when the call is about to
  // sleep, and returns the call's result.
  int32_t run(const std::function<int32_t()>& call, const std::function<void()>& close) {
    current = this;
    zinc::core::testing::before_futex_wait_hook = before_futex_wait;
    zinc::core::testing::after_cancel_hook = after_cancel;
    int32_t rc = 1;
    std::thread blocked([&] {
      t_blocking_thread = true;
      const Clock::time_point start = Clock::now();
      rc = call();
      std::lock_guard lock(mutex);
      slept_to_deadline = ran_out_its_timeout(start);
      returned = true;
      changed.notify_all();
    });
    {
      std::unique_lock lock(mutex);
      changed.wait(lock, [&] { return about_to_sleep || returned; });
    }
    close();  // returns once the blocked call has left
    blocked.join();
    zinc::core::testing::before_futex_wait_hook = nullptr;
    zinc::core::testing::after_cancel_hook = nullptr;
    current = nullptr;
    return rc;
  }
};
CloseAtSleep* CloseAtSleep::current = nullptr;

// A lossless channel with a writer and one reader.
struct ChannelPair {
  ObjectGuard name;
  ZincChannel writer = nullptr;
  ZincChannel reader = nullptr;
  explicit ChannelPair(const std::string& what) : name(unique_name(what)) {
    EXPECT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 2, 64, 1, 0, &writer),
              ZINC_OK)
        << zinc_last_error_message();
    EXPECT_EQ(zinc_channel_open_reader(name.c_str(), &reader), ZINC_OK)
        << zinc_last_error_message();
  }
  ~ChannelPair() {
    zinc_channel_close(reader);
    zinc_channel_close(writer);
  }
  // Commits frames until the reader is slot_count frames behind: the next
  // acquire blocks.
  void fill_ring() {
    for (int i = 0; i < 2; ++i) {
      ZincChannelFrame frame{};
      ASSERT_EQ(zinc_channel_acquire(writer, 0, &frame), ZINC_OK) << zinc_last_error_message();
      ASSERT_EQ(zinc_channel_commit(writer, 1), ZINC_OK);
    }
  }
};

TEST(HandleClose, close_just_before_a_reader_sleeps_cancels_its_read) {
  ChannelPair channel("hc-read");
  CloseAtSleep scenario;
  const int32_t rc = scenario.run(
      [&] {
        ZincChannelFrame frame{};
        return zinc_channel_read(channel.reader, kLongTimeoutMs, &frame);
      },
      [&] { zinc_channel_close(channel.reader); });
  EXPECT_EQ(rc, ZINC_ECANCELED);
  EXPECT_FALSE(scenario.slept_to_deadline) << "the read missed the close";
  EXPECT_GE(scenario.cancel_rounds, 2) << "the first round was missed; a later one must wake it";
  ZincChannelFrame frame{};
  EXPECT_EQ(zinc_channel_read(channel.reader, 0, &frame), ZINC_EINVAL) << "the handle is closed";
  channel.reader = nullptr;
}

TEST(HandleClose, close_just_before_a_held_back_writer_sleeps_cancels_its_acquire) {
  ChannelPair channel("hc-acquire");
  channel.fill_ring();
  CloseAtSleep scenario;
  const int32_t rc = scenario.run(
      [&] {
        ZincChannelFrame frame{};
        return zinc_channel_acquire(channel.writer, kLongTimeoutMs, &frame);
      },
      [&] { zinc_channel_close(channel.writer); });
  EXPECT_EQ(rc, ZINC_ECANCELED);
  EXPECT_FALSE(scenario.slept_to_deadline) << "the acquire missed the close";
  EXPECT_GE(scenario.cancel_rounds, 2) << "the first round was missed; a later one must wake it";
  channel.writer = nullptr;
}

TEST(HandleClose, close_just_before_a_region_waiter_sleeps_cancels_its_wait) {
  ObjectGuard name(unique_name("hc-wait"));
  ZincHandle owner = nullptr;
  ASSERT_EQ(zinc_create(name.c_str(), zinc_page_size(), &owner), ZINC_OK);
  ASSERT_EQ(zinc_set_spin(owner, 0), ZINC_OK);
  CloseAtSleep scenario;
  const int32_t rc =
      scenario.run([&] { return zinc_wait(owner, kLongTimeoutMs); }, [&] { zinc_close(owner); });
  EXPECT_EQ(rc, ZINC_ECANCELED);
  EXPECT_FALSE(scenario.slept_to_deadline) << "the wait missed the close";
  EXPECT_GE(scenario.cancel_rounds, 2);
}

// Without holding anyone back: the close starts the moment the blocked call
// reaches the futex, so it lands anywhere in the call's last steps. Before
// one table served both kinds, a channel close cancelled once and about 0.7%
// of such reads slept to their full timeout.
std::atomic<bool> g_reached_futex{false};
void signal_reached_futex() {
  if (t_blocking_thread) g_reached_futex.store(true, std::memory_order_release);
}

// Runs `call` in a thread and closes with `close` as soon as it reaches the
// futex; true if the call returned ZINC_ECANCELED without running out its
// timeout.
bool close_when_it_reaches_the_futex(const std::function<int32_t()>& call,
                                     const std::function<void()>& close) {
  g_reached_futex.store(false);
  std::atomic<bool> returned{false};  // without reaching the futex: a failure
  int32_t rc = 1;
  bool slept_to_deadline = false;
  std::thread blocked([&] {
    t_blocking_thread = true;
    const Clock::time_point start = Clock::now();
    rc = call();
    slept_to_deadline = ran_out_its_timeout(start);
    t_blocking_thread = false;
    returned.store(true, std::memory_order_release);
  });
  while (!g_reached_futex.load(std::memory_order_acquire) &&
         !returned.load(std::memory_order_acquire)) {
    std::this_thread::yield();
  }
  close();
  blocked.join();
  if (rc != ZINC_ECANCELED || slept_to_deadline) {
    ADD_FAILURE() << "the call returned " << rc
                  << (slept_to_deadline ? " after running out its timeout" : "");
    return false;
  }
  return true;
}

TEST(HandleClose, closes_racing_blocked_reads_miss_none_of_1000) {
  constexpr int kTrials = 1000;
  ObjectGuard name(unique_name("hc-reads"));
  ZincChannel writer = nullptr;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 2, 64, 1, 0, &writer),
            ZINC_OK);
  // Stops at the first miss: each further one would cost the whole timeout.
  int trials = 0;
  {
    HookGuard hook(&zinc::core::testing::before_futex_wait_hook, signal_reached_futex);
    for (; trials < kTrials; ++trials) {
      ZincChannel reader = nullptr;
      ASSERT_EQ(zinc_channel_open_reader(name.c_str(), &reader), ZINC_OK)
          << zinc_last_error_message();
      const bool cancelled = close_when_it_reaches_the_futex(
          [&] {
            ZincChannelFrame frame{};
            return zinc_channel_read(reader, kLongTimeoutMs, &frame);
          },
          [&] { zinc_channel_close(reader); });
      if (!cancelled) break;
    }
  }
  zinc_channel_close(writer);
  EXPECT_EQ(trials, kTrials) << "trial " << trials << " missed the close";
}

TEST(HandleClose, closes_racing_held_back_writers_miss_none_of_300) {
  constexpr int kTrials = 300;
  // Stops at the first miss, as above.
  int trials = 0;
  {
    HookGuard hook(&zinc::core::testing::before_futex_wait_hook, signal_reached_futex);
    for (; trials < kTrials; ++trials) {
      ChannelPair channel("hc-acquires");
      channel.fill_ring();
      const bool cancelled = close_when_it_reaches_the_futex(
          [&] {
            ZincChannelFrame frame{};
            return zinc_channel_acquire(channel.writer, kLongTimeoutMs, &frame);
          },
          [&] { zinc_channel_close(channel.writer); });
      channel.writer = nullptr;
      if (!cancelled) break;
    }
  }
  EXPECT_EQ(trials, kTrials) << "trial " << trials << " missed the close";
}

TEST(HandleClose, a_handle_of_one_kind_is_refused_by_the_other_kinds_calls) {
  ChannelPair channel("hc-kinds");
  ObjectGuard name(unique_name("hc-kinds-region"));
  ZincHandle region = nullptr;
  ASSERT_EQ(zinc_create(name.c_str(), zinc_page_size(), &region), ZINC_OK);

  ZincChannelFrame frame{};
  EXPECT_EQ(zinc_channel_read(region, 0, &frame), ZINC_EINVAL);
  EXPECT_STREQ(zinc_last_error_message(), "channel handle is NULL or already closed");
  EXPECT_EQ(zinc_channel_acquire(region, 0, &frame), ZINC_EINVAL);
  EXPECT_EQ(zinc_channel_ptr(region), nullptr);
  zinc_channel_close(region);  // refused: the region stays open
  EXPECT_STREQ(zinc_last_error_message(), "channel handle is NULL or already closed");
  EXPECT_NE(zinc_ptr(region), nullptr);

  EXPECT_EQ(zinc_try_wait(channel.reader), ZINC_EINVAL);
  EXPECT_STREQ(zinc_last_error_message(), "handle is NULL or already closed");
  EXPECT_EQ(zinc_ptr(channel.writer), nullptr);
  EXPECT_EQ(zinc_capacity(channel.writer), 0u);
  zinc_close(channel.writer);  // refused: the channel stays open
  EXPECT_STREQ(zinc_last_error_message(), "handle is NULL or already closed");
  EXPECT_NE(zinc_channel_ptr(channel.writer), nullptr);

  zinc_close(region);
}

TEST(HandleClose, handle_values_are_never_null_nor_aligned_like_pointers) {
  ObjectGuard name(unique_name("hc-values"));
  ZincHandle region = nullptr;
  ZincChannel channel = nullptr;
  ASSERT_EQ(zinc_create(name.c_str(), zinc_page_size(), &region), ZINC_OK);
  zinc_close(region);
  ObjectGuard channel_name(unique_name("hc-values-ch"));
  ASSERT_EQ(zinc_channel_create(channel_name.c_str(), ZINC_CHANNEL_LOSSLESS, 2, 64, 1, 0, &channel),
            ZINC_OK);
  for (void* value : {region, channel}) {
    ASSERT_NE(value, nullptr);
    EXPECT_NE(reinterpret_cast<uintptr_t>(value) % alignof(void*), 0u) << value;
  }
  EXPECT_NE(reinterpret_cast<uintptr_t>(region) & 0xF, reinterpret_cast<uintptr_t>(channel) & 0xF);
  zinc_channel_close(channel);
  zinc_channel_close(channel);  // double close: detected
  EXPECT_STREQ(zinc_last_error_message(), "channel handle is NULL or already closed");
  zinc_close(region);  // double close: detected
  EXPECT_STREQ(zinc_last_error_message(), "handle is NULL or already closed");
}

}  // namespace
