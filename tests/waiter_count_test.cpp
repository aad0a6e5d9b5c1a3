// The "waiter count" extension: notify skips FUTEX_WAKE only when no thread
// can be asleep, and no peer (plain v2, crashed, or a damaged block) ever
// loses a wakeup because of it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>

#include "handle_table.hpp"
#include "header.hpp"
#include "plain_v2.hpp"
#include "region.hpp"
#include "test_support.hpp"
#include "zinc.h"

namespace {

using zinc::test::ObjectGuard;
using zinc::test::Peer;
using zinc::test::PlainV2Handle;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

zinc::core::Region& region_of(ZincHandle h) {
  return *zinc::core::region_handles().find(h);
}

zinc::core::Header& header_of(ZincHandle h) {
  return *reinterpret_cast<zinc::core::Header*>(zinc_ptr(h) - zinc_page_size());
}

zinc::core::WaiterCount& block_of(ZincHandle h) {
  return *reinterpret_cast<zinc::core::WaiterCount*>(zinc_ptr(h) - zinc_page_size() +
                                                     zinc::core::kWaiterCountOffset);
}

uint32_t counted(ZincHandle h) {
  return static_cast<uint32_t>(block_of(h).counted_handles.load());
}

// Polls `done` for up to 5 s (for a peer process to reach a state).
template <typename Done>
bool eventually(Done done) {
  const auto until = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return done();
}

class WaiterCount : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(zinc_create(guard_.c_str(), zinc_page_size(), &owner_), ZINC_OK);
    ASSERT_EQ(zinc_open(guard_.c_str(), &reader_), ZINC_OK);
  }
  void TearDown() override {
    zinc_close(reader_);
    zinc_close(owner_);
  }

  ObjectGuard guard_{zinc::test::unique_name("wc")};
  ZincHandle owner_ = nullptr;
  ZincHandle reader_ = nullptr;
};

TEST_F(WaiterCount, CountedHandlesWithNobodyAsleepSkipTheWake) {
  EXPECT_TRUE(region_of(owner_).counts_waiters());
  EXPECT_TRUE(region_of(reader_).counts_waiters());
  EXPECT_EQ(counted(owner_), 2u);
  EXPECT_EQ(header_of(owner_).ref_count.load(), 2u);
  EXPECT_FALSE(region_of(owner_).wake_needed());
  EXPECT_FALSE(region_of(reader_).wake_needed());
  zinc_notify(owner_);
  EXPECT_EQ(zinc_try_wait(reader_), ZINC_OK);
}

TEST_F(WaiterCount, CloseUncountsAndBumpsTheChangeCounter) {
  const uint64_t before = block_of(owner_).counted_handles.load();
  zinc_close(reader_);
  reader_ = nullptr;
  const uint64_t after = block_of(owner_).counted_handles.load();
  EXPECT_EQ(static_cast<uint32_t>(after), 1u);
  EXPECT_EQ(after >> 32, (before >> 32) + 1);
  EXPECT_FALSE(region_of(owner_).wake_needed());
}

// Forced interleavings of an open's join (docs/spec.md §9.3): the hook runs
// once, between the opener's load of the count word and its load of
// ref_count, and moves other handles exactly there.
std::function<void()> g_between_the_loads;

void run_between_the_loads_once() {
  zinc::core::testing::waiter_count_join_hook = nullptr;
  g_between_the_loads();
}

class JoinInterleaving : public WaiterCount {
 protected:
  void TearDown() override {
    zinc::core::testing::waiter_count_join_hook = nullptr;
    zinc_close(third_);
    WaiterCount::TearDown();
  }
  // Opens a handle with `between` run between the two loads of its join.
  ZincHandle open_with(std::function<void()> between) {
    g_between_the_loads = std::move(between);
    zinc::core::testing::waiter_count_join_hook = run_between_the_loads_once;
    ZincHandle h = nullptr;
    EXPECT_EQ(zinc_open(guard_.c_str(), &h), ZINC_OK);
    EXPECT_EQ(zinc::core::testing::waiter_count_join_hook, nullptr) << "the hook never ran";
    return h;
  }
  ZincHandle third_ = nullptr;
};

TEST_F(JoinInterleaving, AnOpenBetweenTheLoadsDoesNotLeaveTheOpenerUncounted) {
  ZincHandle late = nullptr;
  third_ = open_with([&] { ASSERT_EQ(zinc_open(guard_.c_str(), &late), ZINC_OK); });
  EXPECT_TRUE(region_of(third_).counts_waiters());
  EXPECT_TRUE(region_of(late).counts_waiters());
  EXPECT_EQ(counted(owner_), 4u);
  EXPECT_EQ(header_of(owner_).ref_count.load(), 4u);
  EXPECT_FALSE(region_of(owner_).wake_needed());
  zinc_close(late);
}

TEST_F(JoinInterleaving, ACloseBetweenTheLoadsIsRetriedNotRefused) {
  // The close takes the count from 2 to 1 and ref_count from 3 to 2 inside
  // the window: the opener saw 2 handles counted and 2 references, which
  // alone looks like garbage.
  third_ = open_with([&] {
    zinc_close(reader_);
    reader_ = nullptr;
  });
  EXPECT_TRUE(region_of(third_).counts_waiters());
  EXPECT_EQ(counted(owner_), 2u);
  EXPECT_EQ(header_of(owner_).ref_count.load(), 2u);
  EXPECT_FALSE(region_of(owner_).wake_needed());
}

TEST_F(WaiterCount, AttachedPlainV2PeerForcesTheWake) {
  {
    auto plain = PlainV2Handle::open(guard_.name());
    ASSERT_NE(plain, nullptr);
    EXPECT_TRUE(region_of(owner_).wake_needed());
  }
  EXPECT_FALSE(region_of(owner_).wake_needed());  // it detached
}

TEST_F(WaiterCount, HalfDoneOpenForcesTheWake) {
  // An open that has counted itself in ref_count but not yet among the
  // counted handles looks like a plain peer: the safe side.
  header_of(owner_).ref_count.fetch_add(1);
  EXPECT_TRUE(region_of(owner_).wake_needed());
  header_of(owner_).ref_count.fetch_sub(1);
}

TEST_F(WaiterCount, RegisteredSleeperForcesTheWakeAndLeavesAfterwards) {
  ASSERT_EQ(zinc_set_spin(reader_, 0), ZINC_OK);  // sleep at once
  std::atomic<int32_t> result{1};
  std::thread waiter([&] { result = zinc_wait(reader_, 10000); });
  ASSERT_TRUE(eventually([&] { return block_of(owner_).sleepers.load() == 1; }));
  EXPECT_TRUE(region_of(owner_).wake_needed());
  zinc_notify(owner_);
  waiter.join();
  EXPECT_EQ(result.load(), ZINC_OK);
  EXPECT_EQ(block_of(owner_).sleepers.load(), 0u);
  EXPECT_FALSE(region_of(owner_).wake_needed());
}

TEST_F(WaiterCount, TimedOutWaitLeavesTheSleeperCountAsItFoundIt) {
  // A sleeper that stayed registered after its timeout would only cost
  // wakes, so nothing else notices it; the count itself must say so.
  ASSERT_EQ(zinc_set_spin(reader_, 0), ZINC_OK);  // sleep in the futex at once
  ASSERT_EQ(block_of(owner_).sleepers.load(), 0u);
  for (uint32_t timeout : {1u, 30u, 30u}) {
    EXPECT_EQ(zinc_wait(reader_, timeout), ZINC_ETIMEDOUT);
    EXPECT_EQ(block_of(owner_).sleepers.load(), 0u) << "after wait(" << timeout << ")";
  }
  EXPECT_FALSE(region_of(owner_).wake_needed());
}

TEST_F(WaiterCount, PlainV2WaiterInAnotherThreadIsWoken) {
  auto plain = PlainV2Handle::open(guard_.name());
  ASSERT_NE(plain, nullptr);
  std::atomic<int32_t> result{1};
  std::thread waiter([&] { result = plain->wait(10000); });
  std::this_thread::sleep_for(milliseconds(50));
  const auto start = Clock::now();
  zinc_notify(owner_);
  waiter.join();
  EXPECT_EQ(result.load(), 0);
  EXPECT_LT(Clock::now() - start, milliseconds(2000));
}

// Ping-pong over two regions (each side notifies one and waits on the
// other), `rounds` times; every wait has a 10 s limit, so a lost wakeup
// shows up as a failed round instead of a hang.
struct PingPong {
  ObjectGuard ping{zinc::test::unique_name("wc-ping")};
  ObjectGuard pong{zinc::test::unique_name("wc-pong")};
  ZincHandle ping_owner = nullptr, pong_owner = nullptr;
  PingPong() {
    EXPECT_EQ(zinc_create(ping.c_str(), zinc_page_size(), &ping_owner), ZINC_OK);
    EXPECT_EQ(zinc_create(pong.c_str(), zinc_page_size(), &pong_owner), ZINC_OK);
  }
  ~PingPong() {
    zinc_close(ping_owner);
    zinc_close(pong_owner);
  }
};

TEST(WaiterCountPingPong, CountedSidesThatNeverSpinLoseNoWakeup) {
  // Spin 0 makes every wait take the register-then-sleep path, so the
  // notifier's skip decision is exercised in every round.
  PingPong pp;
  ZincHandle ping_reader = nullptr, pong_reader = nullptr;
  ASSERT_EQ(zinc_open(pp.ping.c_str(), &ping_reader), ZINC_OK);
  ASSERT_EQ(zinc_open(pp.pong.c_str(), &pong_reader), ZINC_OK);
  zinc_set_spin(ping_reader, 0);
  zinc_set_spin(pong_reader, 0);
  constexpr int kRounds = 20000;
  std::atomic<int> failures{0};
  std::thread echo([&] {
    for (int i = 0; i < kRounds; ++i) {
      if (zinc_wait(ping_reader, 10000) != ZINC_OK) ++failures;
      zinc_notify(pp.pong_owner);
    }
  });
  for (int i = 0; i < kRounds; ++i) {
    zinc_notify(pp.ping_owner);
    if (zinc_wait(pong_reader, 10000) != ZINC_OK) ++failures;
  }
  echo.join();
  EXPECT_EQ(failures.load(), 0);
  zinc_close(ping_reader);
  zinc_close(pong_reader);
}

TEST(WaiterCountPingPong, PlainV2PeerLosesNoWakeup) {
  // The echo side is a plain v2 peer: it sleeps unregistered on one region
  // and always wakes on the other. The counted side waits both with and
  // without spinning.
  for (const uint32_t spin_us : {0u, 50u}) {
    SCOPED_TRACE("spin " + std::to_string(spin_us));
    PingPong pp;
    auto plain_ping = PlainV2Handle::open(pp.ping.name());
    auto plain_pong = PlainV2Handle::open(pp.pong.name());
    ASSERT_NE(plain_ping, nullptr);
    ASSERT_NE(plain_pong, nullptr);
    ZincHandle pong_reader = nullptr;
    ASSERT_EQ(zinc_open(pp.pong.c_str(), &pong_reader), ZINC_OK);
    zinc_set_spin(pong_reader, spin_us);
    // The owner of "ping" sees its own notifications; it only notifies.
    constexpr int kRounds = 10000;
    std::atomic<int> failures{0};
    std::thread echo([&] {
      for (int i = 0; i < kRounds; ++i) {
        if (plain_ping->wait(10000) != 0) ++failures;
        plain_pong->notify();
      }
    });
    for (int i = 0; i < kRounds; ++i) {
      zinc_notify(pp.ping_owner);
      if (zinc_wait(pong_reader, 10000) != ZINC_OK) ++failures;
    }
    echo.join();
    EXPECT_EQ(failures.load(), 0);
    zinc_close(pong_reader);
  }
}

TEST(WaiterCountCrossProcess, PlainV2WaiterInAnotherProcessIsWokenEveryTime) {
  ObjectGuard g(zinc::test::unique_name("wc-xp-plain"));
  ZincHandle owner = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), zinc_page_size(), &owner), ZINC_OK);
  Peer plain;
  ASSERT_EQ(plain.call("plain_open " + g.name()), "rc 0");
  for (int i = 0; i < 100; ++i) {
    plain.send("plain_wait 10000");
    if (i % 2 == 0) usleep(2000);  // half the rounds: the peer is surely asleep
    zinc_notify(owner);
    ASSERT_EQ(plain.read_line(), "rc 0") << "round " << i;
  }
  EXPECT_EQ(plain.call("plain_close"), "ok");
  zinc_close(owner);
}

TEST(WaiterCountCrossProcess, StaleSleeperOfAKilledProcessOnlyCostsWakes) {
  ObjectGuard g(zinc::test::unique_name("wc-stale-sleeper"));
  ZincHandle owner = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), zinc_page_size(), &owner), ZINC_OK);
  {
    Peer doomed;
    ASSERT_EQ(doomed.call("open " + g.name()), "rc 0");
    ASSERT_EQ(doomed.call("spin 0"), "rc 0");
    doomed.send("wait 60000");
    ASSERT_TRUE(eventually([&] { return block_of(owner).sleepers.load() == 1; }));
    doomed.kill_hard();
  }
  // The dead process stays registered as a sleeper and as a counted handle.
  EXPECT_EQ(block_of(owner).sleepers.load(), 1u);
  EXPECT_EQ(counted(owner), 2u);
  EXPECT_TRUE(region_of(owner).wake_needed());

  // Live waiters, counted and plain, are still woken.
  ZincHandle reader = nullptr;
  ASSERT_EQ(zinc_open(g.c_str(), &reader), ZINC_OK);
  zinc_set_spin(reader, 0);
  auto plain = PlainV2Handle::open(g.name());
  ASSERT_NE(plain, nullptr);
  std::atomic<int32_t> counted_result{1}, plain_result{1};
  std::thread counted_waiter([&] { counted_result = zinc_wait(reader, 10000); });
  std::thread plain_waiter([&] { plain_result = plain->wait(10000); });
  ASSERT_TRUE(eventually([&] { return block_of(owner).sleepers.load() == 2; }));
  std::this_thread::sleep_for(milliseconds(20));
  zinc_notify(owner);
  counted_waiter.join();
  plain_waiter.join();
  EXPECT_EQ(counted_result.load(), ZINC_OK);
  EXPECT_EQ(plain_result.load(), 0);
  zinc_close(reader);
  zinc_close(owner);
}

TEST(WaiterCountCrossProcess, KilledCountedHandleStillLetsPlainPeersBeWoken) {
  // A crash leaves ref_count and the counted handles both one too high:
  // a plain peer attaching later still makes ref_count the larger.
  ObjectGuard g(zinc::test::unique_name("wc-stale-handle"));
  ZincHandle owner = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), zinc_page_size(), &owner), ZINC_OK);
  {
    Peer doomed;
    ASSERT_EQ(doomed.call("open " + g.name()), "rc 0");
    doomed.kill_hard();
  }
  EXPECT_EQ(counted(owner), 2u);
  EXPECT_EQ(header_of(owner).ref_count.load(), 2u);
  EXPECT_FALSE(region_of(owner).wake_needed());  // no plain peer: skipping is right
  Peer plain;
  ASSERT_EQ(plain.call("plain_open " + g.name()), "rc 0");
  EXPECT_TRUE(region_of(owner).wake_needed());
  plain.send("plain_wait 10000");
  usleep(20000);
  zinc_notify(owner);
  EXPECT_EQ(plain.read_line(), "rc 0");
  zinc_close(owner);
}

TEST(WaiterCountDamage, RegionOfAPlainV2CreatorIsNotCounted) {
  // Zero padding, as the original implementation leaves it: no tag.
  ObjectGuard g(zinc::test::unique_name("wc-plain-creator"));
  const uint64_t page = zinc_page_size();
  zinc::test::write_raw_object(g.name(), zinc::test::valid_header_page(g.name(), page), 2 * page);
  ZincHandle reader = nullptr;
  ASSERT_EQ(zinc_open(g.c_str(), &reader), ZINC_OK);
  EXPECT_FALSE(region_of(reader).counts_waiters());
  EXPECT_TRUE(region_of(reader).wake_needed());
  EXPECT_EQ(block_of(reader).counted_handles.load(), 0u);  // untouched
  auto plain = PlainV2Handle::open(g.name());
  ASSERT_NE(plain, nullptr);
  std::atomic<int32_t> result{1};
  std::thread waiter([&] { result = plain->wait(10000); });
  std::this_thread::sleep_for(milliseconds(20));
  zinc_notify(reader);
  waiter.join();
  EXPECT_EQ(result.load(), 0);
  zinc_close(reader);
}

TEST(WaiterCountDamage, GarbageInTheBlockTurnsTheExtensionOff) {
  ObjectGuard g(zinc::test::unique_name("wc-garbage"));
  ZincHandle owner = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), zinc_page_size(), &owner), ZINC_OK);
  std::memset(static_cast<void*>(&block_of(owner)), 0xEF, sizeof(zinc::core::WaiterCount));
  EXPECT_TRUE(region_of(owner).wake_needed());  // tag no longer matches
  ZincHandle reader = nullptr;
  ASSERT_EQ(zinc_open(g.c_str(), &reader), ZINC_OK);  // padding is not validated
  EXPECT_FALSE(region_of(reader).counts_waiters());
  std::atomic<int32_t> result{1};
  zinc_set_spin(reader, 0);
  std::thread waiter([&] { result = zinc_wait(reader, 10000); });
  std::this_thread::sleep_for(milliseconds(20));
  zinc_notify(owner);
  waiter.join();
  EXPECT_EQ(result.load(), ZINC_OK);
  zinc_close(reader);
  zinc_close(owner);
}

TEST(WaiterCountDamage, ImpossibleCountBehindAValidTagIsNotJoined) {
  ObjectGuard g(zinc::test::unique_name("wc-bad-count"));
  ZincHandle owner = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), zinc_page_size(), &owner), ZINC_OK);
  block_of(owner).counted_handles.store(0xFFFFFFFFu);
  EXPECT_TRUE(region_of(owner).wake_needed());  // counted != ref_count
  ZincHandle reader = nullptr;
  ASSERT_EQ(zinc_open(g.c_str(), &reader), ZINC_OK);
  EXPECT_FALSE(region_of(reader).counts_waiters());
  EXPECT_EQ(block_of(owner).counted_handles.load(), 0xFFFFFFFFu);
  zinc_close(reader);
  zinc_close(owner);
}

TEST(WaiterCountDamage, CountThatWouldGoBelowZeroTurnsTheExtensionOff) {
  ObjectGuard g(zinc::test::unique_name("wc-underflow"));
  ZincHandle owner = nullptr, reader = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), zinc_page_size(), &owner), ZINC_OK);
  ASSERT_EQ(zinc_open(g.c_str(), &reader), ZINC_OK);
  block_of(owner).counted_handles.store(0);
  zinc_close(reader);  // was counted, finds 0: the block is damaged
  EXPECT_EQ(block_of(owner).tag.load(), 0u);
  EXPECT_TRUE(region_of(owner).wake_needed());
  zinc_close(owner);
}

TEST(WaiterCountDamage, SleeperCountBelowZeroOnlyCostsWakes) {
  // A sleeper that leaves after someone zeroed the count wraps it to a huge
  // value; notifiers then always wake, which is slow but never wrong.
  ObjectGuard g(zinc::test::unique_name("wc-sleepers-wrap"));
  ZincHandle owner = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), zinc_page_size(), &owner), ZINC_OK);
  block_of(owner).sleepers.fetch_sub(1);
  EXPECT_TRUE(region_of(owner).wake_needed());
  zinc_close(owner);
}

}  // namespace

// A peer wrote 0xFFFFFFFF into `sleepers`: the next registering waiter wraps
// it to 0, which alone would let a notifier skip the wake. The waiter must
// see the impossible count and turn the extension off first.
TEST(WaiterCountDamage, SleeperCountAtTheWrapStillWakesTheWaiter) {
  ObjectGuard g(zinc::test::unique_name("wc-wrap"));
  ZincHandle owner = nullptr;
  ZincHandle reader = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), zinc_page_size(), &owner), ZINC_OK);
  ASSERT_EQ(zinc_open(g.c_str(), &reader), ZINC_OK);
  ASSERT_EQ(zinc_set_spin(reader, 0), ZINC_OK);  // straight to the futex
  block_of(owner).sleepers.store(0xFFFFFFFFu);

  std::atomic<pid_t> waiter_tid{0};
  std::atomic<int32_t> result{1};
  Clock::time_point woke;
  std::thread waiter([&] {
    waiter_tid = gettid();
    result = zinc_wait(reader, 20000);
    woke = Clock::now();
  });
  // Deterministic: notify only once the waiter sleeps in the kernel.
  ASSERT_TRUE(
      eventually([&] { return waiter_tid != 0 && zinc::test::thread_in_futex(waiter_tid); }));
  EXPECT_EQ(block_of(owner).sleepers.load(), 0u) << "the registration wrapped the count";
  const Clock::time_point notified = Clock::now();
  zinc_notify(owner);
  waiter.join();
  EXPECT_EQ(result.load(), ZINC_OK);
  EXPECT_LT(woke - notified, std::chrono::seconds(2)) << "the wake was skipped";
  EXPECT_TRUE(region_of(owner).wake_needed()) << "the damaged block stays off";
  zinc_close(reader);
  zinc_close(owner);
}
