// Cursor semantics of notify / wait / try_wait within one process.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include <csignal>
#include <pthread.h>

#include "header.hpp"
#include "plain_v2.hpp"
#include "test_support.hpp"
#include "zinc.h"

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

class NotifyWait : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(zinc_create(guard_.c_str(), zinc_page_size(), &owner_), ZINC_OK);
    ASSERT_EQ(zinc_open(guard_.c_str(), &reader_), ZINC_OK);
  }
  void TearDown() override {
    zinc_close(reader_);
    zinc_close(owner_);
  }
  std::atomic<uint32_t>& seq() {
    // The header sits one page before the data.
    return reinterpret_cast<zinc::core::Header*>(zinc_ptr(owner_) - zinc_page_size())->notify_seq;
  }

  zinc::test::ObjectGuard guard_{zinc::test::unique_name("nw")};
  ZincHandle owner_ = nullptr;
  ZincHandle reader_ = nullptr;
};

TEST_F(NotifyWait, NothingPendingAtStart) {
  EXPECT_EQ(zinc_try_wait(reader_), ZINC_EAGAIN);
  EXPECT_EQ(zinc_wait(reader_, 0), ZINC_ETIMEDOUT);
}

TEST_F(NotifyWait, NotifyIsSeenOnceByEachHandle) {
  zinc_notify(owner_);
  EXPECT_EQ(zinc_try_wait(reader_), ZINC_OK);
  EXPECT_EQ(zinc_try_wait(reader_), ZINC_EAGAIN);
  EXPECT_EQ(zinc_wait(owner_, 0), ZINC_OK);  // own notification is visible
  EXPECT_EQ(zinc_wait(owner_, 0), ZINC_ETIMEDOUT);
}

TEST_F(NotifyWait, NotificationsCoalesce) {
  for (int i = 0; i < 5; ++i) zinc_notify(owner_);
  EXPECT_EQ(zinc_try_wait(reader_), ZINC_OK);
  EXPECT_EQ(zinc_try_wait(reader_), ZINC_EAGAIN);
}

TEST_F(NotifyWait, NotifyBeforeWaitIsNotLost) {
  zinc_notify(owner_);
  const auto start = Clock::now();
  EXPECT_EQ(zinc_wait(reader_, 10000), ZINC_OK);
  EXPECT_LT(Clock::now() - start, milliseconds(2000));
}

TEST_F(NotifyWait, HandleOpenedAfterNotificationsSeesOnePending) {
  zinc_notify(owner_);
  zinc_notify(owner_);
  ZincHandle late = nullptr;
  ASSERT_EQ(zinc_open(guard_.c_str(), &late), ZINC_OK);
  EXPECT_EQ(zinc_try_wait(late), ZINC_OK);
  EXPECT_EQ(zinc_try_wait(late), ZINC_EAGAIN);
  zinc_close(late);
}

TEST_F(NotifyWait, TimeoutZeroChecksOnce) {
  EXPECT_EQ(zinc_wait(reader_, 0), ZINC_ETIMEDOUT);
  zinc_notify(owner_);
  EXPECT_EQ(zinc_wait(reader_, 0), ZINC_OK);
}

TEST_F(NotifyWait, TimeoutIsHonoured) {
  const auto start = Clock::now();
  EXPECT_EQ(zinc_wait(reader_, 100), ZINC_ETIMEDOUT);
  const auto elapsed = Clock::now() - start;
  EXPECT_GE(elapsed, milliseconds(100));
  EXPECT_LT(elapsed, milliseconds(2000));
}

TEST_F(NotifyWait, WaiterInAnotherThreadIsWoken) {
  std::atomic<int32_t> result{1};
  std::thread waiter([&] { result = zinc_wait(reader_, 10000); });
  std::this_thread::sleep_for(milliseconds(50));
  const auto start = Clock::now();
  zinc_notify(owner_);
  waiter.join();
  EXPECT_EQ(result.load(), ZINC_OK);
  EXPECT_LT(Clock::now() - start, milliseconds(2000));
}

TEST_F(NotifyWait, SpuriousWakeIsNotANotification) {
  // close() of an unrelated handle on the same region wakes every futex
  // waiter on the word; a waiter must treat that as spurious.
  std::atomic<int32_t> result{1};
  std::thread waiter([&] { result = zinc_wait(reader_, 300); });
  std::this_thread::sleep_for(milliseconds(50));
  ZincHandle other = nullptr;
  ASSERT_EQ(zinc_open(guard_.c_str(), &other), ZINC_OK);
  std::thread blocked([&] { zinc_wait(other, 10000); });
  std::this_thread::sleep_for(milliseconds(50));
  zinc_close(other);  // cancels `blocked`, wakes the word
  blocked.join();
  waiter.join();
  EXPECT_EQ(result.load(), ZINC_ETIMEDOUT);
}

TEST_F(NotifyWait, CloseFromAnotherThreadCancelsTheWait) {
  ZincHandle doomed = nullptr;
  ASSERT_EQ(zinc_open(guard_.c_str(), &doomed), ZINC_OK);
  std::atomic<int32_t> result{1};
  std::thread waiter([&] { result = zinc_wait(doomed, 60000); });
  std::this_thread::sleep_for(milliseconds(50));
  const auto start = Clock::now();
  zinc_close(doomed);
  waiter.join();
  EXPECT_EQ(result.load(), ZINC_ECANCELED);
  EXPECT_LT(Clock::now() - start, milliseconds(2000));
  EXPECT_EQ(zinc_wait(doomed, 0), ZINC_EINVAL);
}

TEST_F(NotifyWait, EachNotificationIsReportedToOneThreadOfAHandle) {
  // Threads sharing a handle share its cursor: a single notification wakes
  // them all, but only one wait reports it.
  std::atomic<int> consumed{0};
  std::vector<std::thread> waiters;
  for (int i = 0; i < 4; ++i) {
    waiters.emplace_back([&] {
      if (zinc_wait(reader_, 300) == ZINC_OK) ++consumed;
    });
  }
  std::this_thread::sleep_for(milliseconds(50));
  zinc_notify(owner_);
  for (auto& t : waiters) t.join();
  EXPECT_EQ(consumed.load(), 1);
}

TEST_F(NotifyWait, CounterWrapsAroundUint32Max) {
  seq().store(UINT32_MAX - 1);
  EXPECT_EQ(zinc_try_wait(reader_), ZINC_OK);  // 0 -> UINT32_MAX-1
  zinc_notify(owner_);
  EXPECT_EQ(zinc_try_wait(reader_), ZINC_OK);  // UINT32_MAX
  zinc_notify(owner_);
  EXPECT_EQ(seq().load(), 0u);
  EXPECT_EQ(zinc_try_wait(reader_), ZINC_OK);  // wrapped to 0
  EXPECT_EQ(zinc_try_wait(reader_), ZINC_EAGAIN);
  zinc_notify(owner_);
  EXPECT_EQ(zinc_wait(reader_, 1000), ZINC_OK);
}

TEST_F(NotifyWait, WaitIsInterruptedBySignalsButKeepsItsDeadline) {
  // EINTR must be retried against the original deadline: a signal storm
  // neither ends the wait early nor stretches it.
  std::atomic<bool> done{false};
  const pthread_t self = pthread_self();
  signal(SIGUSR1, [](int) {});
  std::thread pest([&] {
    while (!done) {
      pthread_kill(self, SIGUSR1);
      std::this_thread::sleep_for(milliseconds(5));
    }
  });
  const auto start = Clock::now();
  const int32_t rc = zinc_wait(reader_, 200);
  const auto elapsed = Clock::now() - start;
  done = true;
  pest.join();
  signal(SIGUSR1, SIG_DFL);
  EXPECT_EQ(rc, ZINC_ETIMEDOUT);
  EXPECT_GE(elapsed, milliseconds(200));
  EXPECT_LT(elapsed, milliseconds(2000));
}

// One notify wakes every sleeper (docs/spec.md §5.1), whether the waiter
// count (§9) counts it or not: counted handles and plain v2 peers, alone
// and mixed. A notify that wakes fewer leaves one asleep to its 20 s
// deadline.
struct SleeperMix {
  int counted;
  int plain;
};

class OneNotifyWakesEverySleeper : public ::testing::TestWithParam<SleeperMix> {};

TEST_P(OneNotifyWakesEverySleeper, CountedAndPlainAlike) {
  const SleeperMix mix = GetParam();
  zinc::test::ObjectGuard guard{zinc::test::unique_name("nw-mix")};
  ZincHandle owner = nullptr;
  ASSERT_EQ(zinc_create(guard.c_str(), zinc_page_size(), &owner), ZINC_OK);
  std::vector<ZincHandle> counted(static_cast<size_t>(mix.counted), nullptr);
  std::vector<std::unique_ptr<zinc::test::PlainV2Handle>> plain;
  for (auto& h : counted) {
    ASSERT_EQ(zinc_open(guard.c_str(), &h), ZINC_OK);
    ASSERT_EQ(zinc_set_spin(h, 0), ZINC_OK);  // straight to the futex
  }
  for (int i = 0; i < mix.plain; ++i) {
    plain.push_back(zinc::test::PlainV2Handle::open(guard.name()));
    ASSERT_NE(plain.back(), nullptr);
  }
  // 20 s waits: one the notify does not reach fails the 2 s bound below
  // (and would still answer 0 at its deadline, since notify_seq moved).
  std::vector<std::atomic<int32_t>> results(counted.size() + plain.size());
  for (auto& r : results) r = 1;
  std::vector<std::thread> waiters;
  for (size_t i = 0; i < counted.size(); ++i) {
    waiters.emplace_back([&, i] { results[i] = zinc_wait(counted[i], 20000); });
  }
  for (size_t i = 0; i < plain.size(); ++i) {
    waiters.emplace_back([&, i] { results[counted.size() + i] = plain[i]->wait(20000); });
  }
  const auto asleep_by = Clock::now() + std::chrono::seconds(10);
  while (zinc::test::sleepers_of(owner) < counted.size() && Clock::now() < asleep_by) {
    std::this_thread::sleep_for(milliseconds(1));
  }
  ASSERT_EQ(zinc::test::sleepers_of(owner), counted.size());
  // Plain waiters register nowhere: give them time to reach the kernel.
  std::this_thread::sleep_for(milliseconds(100));
  const auto notified = Clock::now();
  zinc_notify(owner);
  for (auto& t : waiters) t.join();
  EXPECT_LT(Clock::now() - notified, milliseconds(2000)) << "a sleeper slept past the notify";
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].load(), ZINC_OK) << "waiter " << i;
  }
  plain.clear();
  for (ZincHandle h : counted) zinc_close(h);
  zinc_close(owner);
}

INSTANTIATE_TEST_SUITE_P(Mixes, OneNotifyWakesEverySleeper,
                         ::testing::Values(SleeperMix{1, 0}, SleeperMix{2, 0}, SleeperMix{5, 0},
                                           SleeperMix{1, 1}, SleeperMix{0, 2}, SleeperMix{2, 3}),
                         [](const ::testing::TestParamInfo<SleeperMix>& info) {
                           return std::to_string(info.param.counted) + "_counted_" +
                                  std::to_string(info.param.plain) + "_plain";
                         });

}  // namespace
