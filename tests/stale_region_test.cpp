// Crash recovery in the library: whether a region's creator is alive (robust
// against pid reuse), which processes map a region, zinc_remove_stale and
// zinc_create_ex(ZINC_CREATE_REPLACE_STALE).
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "liveness.hpp"
#include "test_support.hpp"
#include "zinc.h"

namespace {

using zinc::core::Creator;
using zinc::core::judge_creator;
using zinc::core::kStartSlackNs;
using zinc::test::contains;
using zinc::test::dead_pid;
using zinc::test::ObjectGuard;
using zinc::test::Peer;
using zinc::test::unique_name;
using zinc::test::write_region;

const uint64_t kPage = zinc_page_size();
const std::string kPageText = std::to_string(kPage);
constexpr uint64_t kSecond = 1000000000ULL;

std::string last_error() {
  return zinc_last_error_message();
}

// --- the rule, without /proc ----------------------------------------------------

const auto kNeverAsked = [] {
  ADD_FAILURE() << "maps_region asked although the start time decides";
  return false;
};

zinc::core::posix::ProcessInfo running_since(uint64_t start_ns) {
  return {.exists = true, .zombie = false, .start_known = true, .start_ns = start_ns};
}

TEST(CreatorRule, ProcessStartedBeforeCreationIsTheCreator) {
  EXPECT_EQ(judge_creator(42, 100 * kSecond, running_since(90 * kSecond), kNeverAsked),
            Creator::kAlive);
}

TEST(CreatorRule, StartWithinTheClockSlackStillCounts) {
  EXPECT_EQ(
      judge_creator(42, 100 * kSecond, running_since(100 * kSecond + kStartSlackNs), kNeverAsked),
      Creator::kAlive);
}

TEST(CreatorRule, ProcessStartedAfterCreationIsARecycledPid) {
  EXPECT_EQ(judge_creator(42, 100 * kSecond, running_since(100 * kSecond + kStartSlackNs + 1),
                          [] { return false; }),
            Creator::kPidReused);
}

TEST(CreatorRule, LaterStartThatMapsTheRegionMeansTheClockMoved) {
  EXPECT_EQ(judge_creator(42, 100 * kSecond, running_since(500 * kSecond), [] { return true; }),
            Creator::kAlive);
}

TEST(CreatorRule, NoSuchProcessOrZombieIsDead) {
  EXPECT_EQ(judge_creator(42, 100 * kSecond, {}, kNeverAsked), Creator::kDead);
  auto zombie = running_since(90 * kSecond);
  zombie.zombie = true;
  EXPECT_EQ(judge_creator(42, 100 * kSecond, zombie, kNeverAsked), Creator::kDead);
}

TEST(CreatorRule, UnknownStartOrNonPositivePidCannotBeJudged) {
  zinc::core::posix::ProcessInfo hidden{.exists = true};
  EXPECT_EQ(judge_creator(42, 100 * kSecond, hidden, kNeverAsked), Creator::kUnknown);
  EXPECT_EQ(judge_creator(0, 100 * kSecond, running_since(1), kNeverAsked), Creator::kUnknown);
  EXPECT_EQ(judge_creator(-7, 100 * kSecond, running_since(1), kNeverAsked), Creator::kUnknown);
}

TEST(CreatorRule, ProbeSeesThisProcessStartBeforeNow) {
  const auto me = zinc::core::posix::probe_process(getpid());
  ASSERT_TRUE(me.exists);
  ASSERT_TRUE(me.start_known);
  EXPECT_FALSE(me.zombie);
  EXPECT_LE(me.start_ns, zinc::test::realtime_ns());
  EXPECT_GT(me.start_ns + 3600 * kSecond, zinc::test::realtime_ns())
      << "a test process started within the hour";
}

// --- zinc_creator_state ------------------------------------------------------------

TEST(CreatorState, OwnRegionHasALiveCreator) {
  ObjectGuard g(unique_name("alive"));
  ZincHandle h = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), kPage, &h), ZINC_OK);
  EXPECT_EQ(zinc_creator_state(g.c_str()), ZINC_CREATOR_ALIVE);
  zinc_close(h);
}

TEST(CreatorState, CreatorKilledWithSigkillIsDead) {
  ObjectGuard g(unique_name("kill9"));
  Peer creator;
  ASSERT_EQ(creator.call("create " + g.name() + " " + kPageText), "rc 0");
  EXPECT_EQ(zinc_creator_state(g.c_str()), ZINC_CREATOR_ALIVE);
  creator.kill_hard();
  ASSERT_TRUE(zinc::test::object_exists(g.name())) << "a crashed creator leaves its name";
  EXPECT_EQ(zinc_creator_state(g.c_str()), ZINC_CREATOR_DEAD);
}

TEST(CreatorState, PidNowHeldByAProcessStartedLaterIsReused) {
  ObjectGuard g(unique_name("reused"));
  Peer later;  // started now, long after the claimed creation a minute ago
  write_region(g.name(), later.pid(), zinc::test::realtime_ns() - 60 * kSecond);
  EXPECT_EQ(zinc_creator_state(g.c_str()), ZINC_CREATOR_PID_REUSED);
}

TEST(CreatorState, LaterStartedOwnerThatMapsTheRegionIsAlive) {
  ObjectGuard g(unique_name("clockstep"));
  Peer owner;
  write_region(g.name(), owner.pid(), zinc::test::realtime_ns() - 60 * kSecond);
  ASSERT_EQ(owner.call("open " + g.name()), "rc 0");
  EXPECT_EQ(zinc_creator_state(g.c_str()), ZINC_CREATOR_ALIVE);
}

TEST(CreatorState, ZombieCreatorIsDead) {
  ObjectGuard g(unique_name("zombie"));
  const pid_t child = fork();
  if (child == 0) _exit(0);
  // Not reaped yet: wait until the kernel shows it as a zombie.
  std::string state;
  for (int i = 0; i < 500 && state.find(") Z") == std::string::npos; ++i) {
    std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
    std::getline(stat, state);
    usleep(2000);
  }
  write_region(g.name(), child, zinc::test::realtime_ns());
  EXPECT_EQ(zinc_creator_state(g.c_str()), ZINC_CREATOR_DEAD) << state;
  waitpid(child, nullptr, 0);
}

TEST(CreatorState, NonPositiveOwnerPidIsUnknown) {
  ObjectGuard g(unique_name("pid0"));
  write_region(g.name(), 0, zinc::test::realtime_ns());
  EXPECT_EQ(zinc_creator_state(g.c_str()), ZINC_CREATOR_UNKNOWN);
  write_region(g.name(), -1, zinc::test::realtime_ns());
  EXPECT_EQ(zinc_creator_state(g.c_str()), ZINC_CREATOR_UNKNOWN);
}

TEST(CreatorState, MissingCorruptedOrBadNamesAreErrors) {
  EXPECT_EQ(zinc_creator_state(unique_name("absent").c_str()), ZINC_ENOENT);
  EXPECT_EQ(zinc_creator_state("bad name"), ZINC_EINVAL);
  EXPECT_EQ(zinc_creator_state(nullptr), ZINC_EINVAL);
  ObjectGuard g(unique_name("corrupt"));
  auto page = zinc::test::valid_header_page(g.name(), kPage);
  page[0] ^= 0xff;
  zinc::test::write_raw_object(g.name(), page, 2 * kPage);
  EXPECT_EQ(zinc_creator_state(g.c_str()), ZINC_EBADMSG);
  EXPECT_TRUE(contains(last_error(), "bad magic")) << last_error();
}

// --- zinc_mapped_by ------------------------------------------------------------------

TEST(MappedBy, ListsEveryProcessThatMapsTheRegion) {
  ObjectGuard g(unique_name("mapped"));
  ZincHandle h = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), kPage, &h), ZINC_OK);
  Peer reader;
  ASSERT_EQ(reader.call("open " + g.name()), "rc 0");
  int32_t pids[4] = {};
  ASSERT_EQ(zinc_mapped_by(g.c_str(), pids, 4), 2);
  const std::vector<int32_t> expected = getpid() < reader.pid()
                                            ? std::vector<int32_t>{getpid(), reader.pid()}
                                            : std::vector<int32_t>{reader.pid(), getpid()};
  EXPECT_EQ(std::vector<int32_t>(pids, pids + 2), expected);
  // The count is the whole count even when fewer pids fit.
  int32_t one = 0;
  EXPECT_EQ(zinc_mapped_by(g.c_str(), &one, 1), 2);
  EXPECT_EQ(one, expected[0]);
  EXPECT_EQ(zinc_mapped_by(g.c_str(), nullptr, 0), 2);
  reader.call("close");
  EXPECT_EQ(zinc_mapped_by(g.c_str(), nullptr, 0), 1);
  zinc_close(h);
}

TEST(MappedBy, AnOlderObjectWithTheSameNameDoesNotCount) {
  ObjectGuard g(unique_name("mapped-old"));
  ZincHandle old_owner = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), kPage, &old_owner), ZINC_OK);
  ASSERT_EQ(shm_unlink(("/zinc_" + g.name()).c_str()), 0);
  write_region(g.name(), dead_pid(), zinc::test::realtime_ns());
  EXPECT_EQ(zinc_mapped_by(g.c_str(), nullptr, 0), 0) << "we map the old inode, not this one";
  zinc_close(old_owner);
}

TEST(MappedBy, WorksOnObjectsThatAreNotValidRegions) {
  ObjectGuard g(unique_name("mapped-junk"));
  zinc::test::write_raw_object(g.name(), {1, 2, 3}, 3);
  EXPECT_EQ(zinc_mapped_by(g.c_str(), nullptr, 0), 0);
}

TEST(MappedBy, BadArguments) {
  EXPECT_EQ(zinc_mapped_by(unique_name("absent").c_str(), nullptr, 0), ZINC_ENOENT);
  EXPECT_EQ(zinc_mapped_by("../etc", nullptr, 0), ZINC_EINVAL);
  EXPECT_EQ(zinc_mapped_by(nullptr, nullptr, 0), ZINC_EINVAL);
  ObjectGuard g(unique_name("mapped-args"));
  write_region(g.name(), dead_pid(), zinc::test::realtime_ns());
  EXPECT_EQ(zinc_mapped_by(g.c_str(), nullptr, 3), ZINC_EINVAL);
}

// --- zinc_remove_stale ---------------------------------------------------------------

TEST(RemoveStale, RemovesTheRegionOfAKilledCreator) {
  ObjectGuard g(unique_name("rm-stale"));
  Peer creator;
  ASSERT_EQ(creator.call("create " + g.name() + " " + kPageText), "rc 0");
  creator.kill_hard();
  EXPECT_EQ(zinc_remove_stale(g.c_str(), ZINC_REMOVE_DRY_RUN | ZINC_REMOVE_IF_UNMAPPED), ZINC_OK);
  EXPECT_TRUE(zinc::test::object_exists(g.name())) << "a dry run removes nothing";
  EXPECT_EQ(zinc_remove_stale(g.c_str(), ZINC_REMOVE_IF_UNMAPPED), ZINC_OK);
  EXPECT_FALSE(zinc::test::object_exists(g.name()));
}

TEST(RemoveStale, KeepsARegionWhoseCreatorRuns) {
  ObjectGuard g(unique_name("rm-live"));
  ZincHandle h = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), kPage, &h), ZINC_OK);
  EXPECT_EQ(zinc_remove_stale(g.c_str(), ZINC_REMOVE_DEFAULT), ZINC_EBUSY);
  EXPECT_TRUE(contains(last_error(), "pid " + std::to_string(getpid()) + ") is still running"))
      << last_error();
  EXPECT_TRUE(zinc::test::object_exists(g.name()));
  zinc_close(h);
}

TEST(RemoveStale, KeepsADeadCreatorsRegionThatALiveReaderMaps) {
  ObjectGuard g(unique_name("rm-mapped"));
  Peer creator, reader;
  ASSERT_EQ(creator.call("create " + g.name() + " " + kPageText), "rc 0");
  ASSERT_EQ(reader.call("open " + g.name()), "rc 0");
  creator.kill_hard();
  EXPECT_EQ(zinc_remove_stale(g.c_str(), ZINC_REMOVE_IF_UNMAPPED), ZINC_EBUSY);
  EXPECT_TRUE(contains(last_error(), "pid " + std::to_string(reader.pid()) + " still map"))
      << last_error();
  EXPECT_TRUE(zinc::test::object_exists(g.name()));
  // Without the flag only the creator counts.
  EXPECT_EQ(zinc_remove_stale(g.c_str(), ZINC_REMOVE_DEFAULT), ZINC_OK);
  EXPECT_FALSE(zinc::test::object_exists(g.name()));
  EXPECT_EQ(reader.call("read 0"), "byte 0") << "the reader's mapping outlives the name";
}

TEST(RemoveStale, LeavesObjectsThatAreNotValidRegionsAlone) {
  ObjectGuard g(unique_name("rm-corrupt"));
  auto page = zinc::test::valid_header_page(g.name(), kPage);
  page[8] = 9;  // version
  const int32_t gone = dead_pid();
  std::memcpy(page.data() + 28, &gone, sizeof gone);
  zinc::test::write_raw_object(g.name(), page, 2 * kPage);
  EXPECT_EQ(zinc_remove_stale(g.c_str(), ZINC_REMOVE_DEFAULT), ZINC_EBADMSG);
  EXPECT_TRUE(zinc::test::object_exists(g.name()));
  ObjectGuard empty(unique_name("rm-empty"));
  zinc::test::write_raw_object(empty.name(), {}, 0);
  EXPECT_EQ(zinc_remove_stale(empty.c_str(), ZINC_REMOVE_DEFAULT), ZINC_EAGAIN);
  EXPECT_TRUE(zinc::test::object_exists(empty.name()));
}

TEST(RemoveStale, BadArguments) {
  EXPECT_EQ(zinc_remove_stale(unique_name("absent").c_str(), 0), ZINC_ENOENT);
  EXPECT_EQ(zinc_remove_stale("a/b", 0), ZINC_EINVAL);
  EXPECT_EQ(zinc_remove_stale(nullptr, 0), ZINC_EINVAL);
  ObjectGuard g(unique_name("rm-flags"));
  write_region(g.name(), dead_pid(), zinc::test::realtime_ns());
  EXPECT_EQ(zinc_remove_stale(g.c_str(), 16), ZINC_EINVAL);
  EXPECT_TRUE(zinc::test::object_exists(g.name()));
}

// --- zinc_create_ex(ZINC_CREATE_REPLACE_STALE) -----------------------------------------

TEST(ReplaceStale, RestartAfterKill9ReplacesTheCrashedCreatorsRegion) {
  ObjectGuard g(unique_name("restart"));
  Peer crashed, reader;
  ASSERT_EQ(crashed.call("create " + g.name() + " " + kPageText), "rc 0");
  ASSERT_EQ(crashed.call("write 0 42"), "ok");
  ASSERT_EQ(reader.call("open " + g.name()), "rc 0");
  crashed.kill_hard();

  ZincHandle h = nullptr;
  EXPECT_EQ(zinc_create(g.c_str(), kPage, &h), ZINC_EEXIST) << "the plain create still refuses";
  ASSERT_EQ(zinc_create_ex(g.c_str(), kPage, ZINC_CREATE_REPLACE_STALE, &h), ZINC_OK)
      << last_error();
  EXPECT_EQ(zinc_ptr(h)[0], 0) << "a fresh region, not the stale one";
  EXPECT_EQ(zinc_creator_state(g.c_str()), ZINC_CREATOR_ALIVE);
  EXPECT_EQ(reader.call("read 0"), "byte 42") << "the old reader keeps the old mapping";
  zinc_close(h);
  EXPECT_FALSE(zinc::test::object_exists(g.name())) << "the new owner unlinks as usual";
}

TEST(ReplaceStale, NeverReplacesALiveCreatorsRegion) {
  ObjectGuard g(unique_name("replace-live"));
  Peer owner;
  ASSERT_EQ(owner.call("create " + g.name() + " " + kPageText), "rc 0");
  ASSERT_EQ(owner.call("write 0 7"), "ok");
  ZincHandle h = reinterpret_cast<ZincHandle>(0x1);
  EXPECT_EQ(zinc_create_ex(g.c_str(), kPage, ZINC_CREATE_REPLACE_STALE, &h), ZINC_EEXIST);
  EXPECT_EQ(h, nullptr);
  EXPECT_EQ(last_error(), "region '" + g.name() +
                              "' already exists and was not replaced: its creator (pid " +
                              std::to_string(owner.pid()) + ") is still running");
  ZincHandle reader = nullptr;
  ASSERT_EQ(zinc_open(g.c_str(), &reader), ZINC_OK);
  EXPECT_EQ(zinc_ptr(reader)[0], 7);
  zinc_close(reader);
}

TEST(ReplaceStale, NeverReplacesACorruptedOrForeignObject) {
  ObjectGuard g(unique_name("replace-corrupt"));
  auto page = zinc::test::valid_header_page(g.name(), kPage);
  const int32_t gone = dead_pid();
  std::memcpy(page.data() + 28, &gone, sizeof gone);
  std::memcpy(page.data(), "NOTZINC!", 8);
  zinc::test::write_raw_object(g.name(), page, 2 * kPage);
  const auto before = zinc::test::read_raw_object(g.name());
  ZincHandle h = nullptr;
  EXPECT_EQ(zinc_create_ex(g.c_str(), kPage, ZINC_CREATE_REPLACE_STALE, &h), ZINC_EEXIST);
  EXPECT_TRUE(contains(last_error(), "not replaced: bad magic")) << last_error();
  EXPECT_EQ(zinc::test::read_raw_object(g.name()), before);
}

TEST(ReplaceStale, NeverReplacesAnUnfinishedObject) {
  ObjectGuard g(unique_name("replace-unfinished"));
  zinc::test::write_raw_object(g.name(), {}, 0);
  ZincHandle h = nullptr;
  EXPECT_EQ(zinc_create_ex(g.c_str(), kPage, ZINC_CREATE_REPLACE_STALE, &h), ZINC_EEXIST);
  EXPECT_TRUE(contains(last_error(), "object is empty")) << last_error();
  EXPECT_TRUE(zinc::test::object_exists(g.name()));
}

TEST(ReplaceStale, ReplacesARegionWhosePidWasRecycled) {
  ObjectGuard g(unique_name("replace-reused"));
  Peer later;
  write_region(g.name(), later.pid(), zinc::test::realtime_ns() - 60 * kSecond);
  ZincHandle h = nullptr;
  ASSERT_EQ(zinc_create_ex(g.c_str(), kPage, ZINC_CREATE_REPLACE_STALE, &h), ZINC_OK)
      << last_error();
  EXPECT_EQ(zinc_creator_state(g.c_str()), ZINC_CREATOR_ALIVE);
  zinc_close(h);
}

TEST(ReplaceStale, BadCapacityLeavesTheStaleRegionAlone) {
  ObjectGuard g(unique_name("replace-badcap"));
  write_region(g.name(), dead_pid(), zinc::test::realtime_ns());
  ZincHandle h = nullptr;
  EXPECT_EQ(zinc_create_ex(g.c_str(), 5000, ZINC_CREATE_REPLACE_STALE, &h), ZINC_EINVAL);
  EXPECT_TRUE(zinc::test::object_exists(g.name()));
  EXPECT_EQ(zinc_create_ex(g.c_str(), kPage, 64, &h), ZINC_EINVAL) << "unknown flag";
  EXPECT_TRUE(zinc::test::object_exists(g.name()));
}

TEST(ReplaceStale, FreeNameIsAPlainCreate) {
  ObjectGuard g(unique_name("replace-free"));
  ZincHandle h = nullptr;
  ASSERT_EQ(zinc_create_ex(g.c_str(), kPage, ZINC_CREATE_REPLACE_STALE | ZINC_CREATE_PREFAULT, &h),
            ZINC_OK);
  zinc_close(h);
}

TEST(ReplaceStale, ConcurrentReplacersLeaveExactlyOneWinner) {
  constexpr int kRounds = 20;
  constexpr int kThreads = 4;
  for (int round = 0; round < kRounds; ++round) {
    ObjectGuard g(unique_name("replace-race"));
    write_region(g.name(), dead_pid(), zinc::test::realtime_ns());
    std::atomic<int> ready{0};
    std::vector<ZincHandle> handles(kThreads, nullptr);
    std::vector<int32_t> codes(kThreads, 1);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        ready.fetch_add(1);
        while (ready.load() < kThreads) {
        }
        codes[t] = zinc_create_ex(g.c_str(), kPage, ZINC_CREATE_REPLACE_STALE, &handles[t]);
      });
    }
    for (auto& t : threads) t.join();
    int winners = 0;
    ZincHandle winner = nullptr;
    for (int t = 0; t < kThreads; ++t) {
      if (codes[t] == ZINC_OK) {
        ++winners;
        winner = handles[t];
      } else {
        EXPECT_EQ(codes[t], ZINC_EEXIST) << "round " << round;
      }
    }
    ASSERT_EQ(winners, 1) << "round " << round;
    // The name is the winner's region: writes through it are seen by an opener.
    zinc_ptr(winner)[0] = 99;
    ZincHandle reader = nullptr;
    ASSERT_EQ(zinc_open(g.c_str(), &reader), ZINC_OK) << "round " << round;
    EXPECT_EQ(zinc_ptr(reader)[0], 99) << "round " << round;
    zinc_close(reader);
    zinc_close(winner);
  }
}

}  // namespace
