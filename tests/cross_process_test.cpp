// Creator and readers in different processes (fork/exec of tests/peer.cpp).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "test_support.hpp"
#include "zinc.h"

namespace {

using zinc::test::ObjectGuard;
using zinc::test::Peer;
using Clock = std::chrono::steady_clock;

const std::string kPage = std::to_string(zinc_page_size());

TEST(CrossProcess, ReaderInAnotherProcessSeesTheCreatorsBytes) {
  ObjectGuard g(zinc::test::unique_name("xp-read"));
  ZincHandle owner = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), zinc_page_size(), &owner), ZINC_OK);
  zinc_ptr(owner)[100] = 77;
  Peer reader;
  ASSERT_EQ(reader.call("open " + g.name()), "rc 0");
  EXPECT_EQ(reader.call("capacity"), "capacity " + kPage);
  EXPECT_EQ(reader.call("read 100"), "byte 77");
  // And the other way round.
  ASSERT_EQ(reader.call("write 200 99"), "ok");
  EXPECT_EQ(zinc_ptr(owner)[200], 99);
  zinc_close(owner);
}

TEST(CrossProcess, NotifyWakesAWaiterInAnotherProcess) {
  ObjectGuard g(zinc::test::unique_name("xp-wake"));
  ZincHandle owner = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), zinc_page_size(), &owner), ZINC_OK);
  Peer waiter;
  ASSERT_EQ(waiter.call("open " + g.name()), "rc 0");
  waiter.send("wait 20000");
  usleep(100000);  // let it block; a notify before the wait would not be lost either
  const auto start = Clock::now();
  zinc_notify(owner);
  EXPECT_EQ(waiter.read_line(), "rc 0");
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  zinc_close(owner);
}

TEST(CrossProcess, WaiterHereIsWokenByANotifierThere) {
  ObjectGuard g(zinc::test::unique_name("xp-wake-back"));
  Peer creator;
  ASSERT_EQ(creator.call("create " + g.name() + " " + kPage), "rc 0");
  ZincHandle reader = nullptr;
  ASSERT_EQ(zinc_open(g.c_str(), &reader), ZINC_OK);
  ASSERT_EQ(creator.call("write 0 5"), "ok");
  ASSERT_EQ(creator.call("notify"), "ok");
  EXPECT_EQ(zinc_wait(reader, 5000), ZINC_OK);
  EXPECT_EQ(zinc_ptr(reader)[0], 5);
  EXPECT_EQ(zinc_try_wait(reader), ZINC_EAGAIN);
  zinc_close(reader);
}

TEST(CrossProcess, ReaderKeepsItsMappingAfterTheCreatorExits) {
  ObjectGuard g(zinc::test::unique_name("xp-creator-exit"));
  ZincHandle reader = nullptr;
  {
    Peer creator;
    ASSERT_EQ(creator.call("create " + g.name() + " " + kPage), "rc 0");
    ASSERT_EQ(creator.call("write 10 123"), "ok");
    ASSERT_EQ(zinc_open(g.c_str(), &reader), ZINC_OK);
    EXPECT_EQ(creator.call("close"), "ok");
  }  // creator process exits
  EXPECT_EQ(zinc_ptr(reader)[10], 123);
  zinc_ptr(reader)[11] = 1;  // still writable
  // New opens fail: the owner unlinked the name on close.
  ZincHandle late = nullptr;
  EXPECT_EQ(zinc_open(g.c_str(), &late), ZINC_ENOENT);
  EXPECT_FALSE(zinc::test::object_exists(g.name()));
  zinc_close(reader);
}

TEST(CrossProcess, CreatorKilledLeavesTheRegionUsable) {
  ObjectGuard g(zinc::test::unique_name("xp-creator-killed"));
  Peer creator;
  ASSERT_EQ(creator.call("create " + g.name() + " " + kPage), "rc 0");
  ZincHandle reader = nullptr;
  ASSERT_EQ(zinc_open(g.c_str(), &reader), ZINC_OK);
  creator.kill_hard();
  // A crash cannot unlink: the name stays (operators clean up with `zinc gc`)
  // and the survivors keep working.
  EXPECT_TRUE(zinc::test::object_exists(g.name()));
  Peer second;
  ASSERT_EQ(second.call("open " + g.name()), "rc 0");
  second.send("wait 5000");
  usleep(50000);
  zinc_notify(reader);
  EXPECT_EQ(second.read_line(), "rc 0");
  zinc_close(reader);
}

TEST(CrossProcess, ManyReaderProcessesAllWake) {
  ObjectGuard g(zinc::test::unique_name("xp-many"));
  ZincHandle owner = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), zinc_page_size(), &owner), ZINC_OK);
  constexpr uint32_t kReaders = 4;
  std::vector<std::unique_ptr<Peer>> readers;
  for (uint32_t i = 0; i < kReaders; ++i) {
    readers.push_back(std::make_unique<Peer>());
    ASSERT_EQ(readers.back()->call("open " + g.name()), "rc 0");
    ASSERT_EQ(readers.back()->call("spin 0"), "rc 0");  // straight to the futex
    readers.back()->send("wait 20000");
  }
  // Every reader asleep in the kernel, so one that the notify does not reach
  // cannot return early by seeing the change on its own.
  const auto asleep_by = Clock::now() + std::chrono::seconds(10);
  while (zinc::test::sleepers_of(owner) < kReaders && Clock::now() < asleep_by) usleep(1000);
  ASSERT_EQ(zinc::test::sleepers_of(owner), kReaders);
  const auto notified = Clock::now();
  zinc_notify(owner);
  // Each one must be woken by the notify, not sleep to its 20 s deadline
  // (which would still answer "rc 0": notify_seq did move).
  for (uint32_t i = 0; i < kReaders; ++i) {
    EXPECT_EQ(readers[i]->read_line(), "rc 0") << "reader " << i;
    EXPECT_LT(Clock::now() - notified, std::chrono::seconds(2)) << "reader " << i << " woke late";
  }
  zinc_close(owner);
}

TEST(CrossProcess, OpenWithoutPermissionIsEperm) {
  // Regions are created 0600: another user cannot open them. The child
  // drops to "nobody" (needs root to do so; skipped otherwise).
  if (geteuid() != 0) GTEST_SKIP() << "needs root to switch users";
  ObjectGuard g(zinc::test::unique_name("xp-eperm"));
  ZincHandle owner = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), zinc_page_size(), &owner), ZINC_OK);
  const pid_t child = fork();
  if (child == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(100);
    ZincHandle h = reinterpret_cast<ZincHandle>(0x1);
    const int32_t rc = zinc_open(g.c_str(), &h);
    _exit(rc == ZINC_EPERM && h == nullptr ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "100 = could not switch user, 1 = wrong code";
  zinc_close(owner);
}

TEST(CrossProcess, WaitTimesOutAcrossProcesses) {
  ObjectGuard g(zinc::test::unique_name("xp-timeout"));
  ZincHandle owner = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), zinc_page_size(), &owner), ZINC_OK);
  Peer waiter;
  ASSERT_EQ(waiter.call("open " + g.name()), "rc 0");
  const auto start = Clock::now();
  EXPECT_EQ(waiter.call("wait 100"), "rc -110");
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  zinc_close(owner);
}

}  // namespace
