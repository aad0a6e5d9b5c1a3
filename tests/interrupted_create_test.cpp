// A creator killed with SIGKILL at any point of its create must leave the
// name recoverable: either free, or holding a complete region whose dead
// creator makes it stale. An unfinished object left by an implementation
// that shows the name early (a plain v2 creator) becomes stale once it has
// been abandoned for the grace period.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "stale.hpp"
#include "test_support.hpp"
#include "zinc.h"

namespace {

using zinc::test::object_exists;
using zinc::test::ObjectGuard;
using zinc::test::unique_name;

TEST(InterruptedCreate, Kill9AtAnyPointLeavesTheNameRecoverable) {
  // 16 MiB: reserving the pages takes a few ms, so the kills land in every
  // step of the create, including the reservation.
  const uintptr_t capacity = 16 << 20;
  const unsigned seed = std::random_device{}();
  std::printf("seed %u\n", seed);
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> delay_us(0, 4000);
  const int rounds = zinc::test::kSanitizerBuild ? 30 : 150;
  int free_after = 0;
  int complete_after = 0;
  for (int round = 0; round < rounds; ++round) {
    ObjectGuard g(unique_name("killed-create"));
    const pid_t creator = fork();
    ASSERT_GE(creator, 0);
    if (creator == 0) {
      ZincHandle h = nullptr;
      zinc_create(g.c_str(), capacity, &h);
      pause();  // killed here at the latest
      _exit(0);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(random)));
    kill(creator, SIGKILL);
    waitpid(creator, nullptr, 0);

    ZincHeaderInfo info{};
    const int32_t inspected = zinc_inspect(g.c_str(), &info);
    if (inspected == ZINC_ENOENT) {
      ++free_after;
    } else {
      ASSERT_EQ(inspected, ZINC_OK) << "round " << round << ": a half-made object is visible ("
                                    << zinc_last_error_message() << "), seed " << seed;
      EXPECT_EQ(zinc_creator_state(g.c_str()), ZINC_CREATOR_DEAD);
      ++complete_after;
    }
    ZincHandle restarted = nullptr;
    ASSERT_EQ(zinc_create_ex(g.c_str(), capacity, ZINC_CREATE_REPLACE_STALE, &restarted), ZINC_OK)
        << "round " << round << ": " << zinc_last_error_message() << ", seed " << seed;
    zinc_close(restarted);
  }
  std::printf("after %d kills: %d names free, %d complete stale regions\n", rounds, free_after,
              complete_after);
  EXPECT_EQ(free_after + complete_after, rounds);
}

class UnfinishedObject : public ::testing::Test {
 protected:
  void TearDown() override {
    zinc::core::testing::unfinished_grace_ns = zinc::core::kUnfinishedGraceNs;
    if (peer_ > 0) {
      kill(peer_, SIGKILL);
      waitpid(peer_, nullptr, 0);
    }
  }

  // A slow creator: a child that opens the object (and does what `hold`
  // does with the descriptor), then waits to be killed. Returns once the
  // child is there; false if it could not open or hold the object.
  bool start_slow_creator(bool (*hold)(int fd)) {
    int ready[2];
    if (pipe(ready) != 0) return false;
    peer_ = fork();
    if (peer_ == 0) {
      const int fd = shm_open(("/zinc_" + guard_.name()).c_str(), O_RDWR, 0);
      const char byte = fd >= 0 && hold(fd) ? 'y' : 'n';
      if (write(ready[1], &byte, 1) != 1) _exit(1);
      pause();
      _exit(0);
    }
    char byte = 0;
    const bool started = peer_ > 0 && read(ready[0], &byte, 1) == 1 && byte == 'y';
    close(ready[0]);
    close(ready[1]);
    return started;
  }

  void stop_slow_creator() {
    kill(peer_, SIGKILL);
    waitpid(peer_, nullptr, 0);
    peer_ = -1;
  }

  ObjectGuard guard_{unique_name("unfinished")};
  pid_t peer_ = -1;
};

TEST_F(UnfinishedObject, YoungerThanTheGracePeriodIsLeftAlone) {
  zinc::test::write_raw_object(guard_.name(), {}, 0);
  EXPECT_EQ(zinc_remove_stale(guard_.c_str(), ZINC_REMOVE_IF_UNMAPPED), ZINC_EAGAIN);
  EXPECT_TRUE(zinc::test::contains(zinc_last_error_message(), "recoverable 10 s after"))
      << zinc_last_error_message();
  EXPECT_TRUE(object_exists(guard_.name()));
}

TEST_F(UnfinishedObject, AbandonedOneIsStaleForGcAndReplaceStale) {
  zinc::test::write_raw_object(guard_.name(), std::vector<uint8_t>(64, 0), 2 * zinc_page_size());
  zinc::core::testing::unfinished_grace_ns = 0;
  EXPECT_EQ(zinc_remove_stale(guard_.c_str(), ZINC_REMOVE_IF_UNMAPPED | ZINC_REMOVE_DRY_RUN),
            ZINC_OK);
  EXPECT_TRUE(object_exists(guard_.name()));
  ZincHandle h = nullptr;
  ASSERT_EQ(zinc_create_ex(guard_.c_str(), zinc_page_size(), ZINC_CREATE_REPLACE_STALE, &h),
            ZINC_OK)
      << zinc_last_error_message();
  zinc_close(h);
}

TEST_F(UnfinishedObject, OneThatAProcessStillHoldsOpenIsNotStale) {
  zinc::test::write_raw_object(guard_.name(), {}, 0);
  zinc::core::testing::unfinished_grace_ns = 0;
  // Between shm_open and its header: the creator holds the object open.
  ASSERT_TRUE(start_slow_creator([](int) { return true; }));
  EXPECT_EQ(zinc_remove_stale(guard_.c_str(), 0), ZINC_EBUSY);
  EXPECT_TRUE(zinc::test::contains(zinc_last_error_message(),
                                   "pid " + std::to_string(peer_) + " still holds it"))
      << zinc_last_error_message();
  stop_slow_creator();
  EXPECT_EQ(zinc_remove_stale(guard_.c_str(), 0), ZINC_OK) << zinc_last_error_message();
  EXPECT_FALSE(object_exists(guard_.name()));
}

// The grace period is judged before anyone who holds the object (spec
// section 4.4, step 1 before step 2): a young unfinished object answers its
// inspect code whoever holds it, so that two removers agree about it.
TEST_F(UnfinishedObject, YoungerThanTheGracePeriodAnswersItsInspectCodeEvenWhenHeld) {
  zinc::test::write_raw_object(guard_.name(), {}, 0);
  ASSERT_TRUE(start_slow_creator([](int) { return true; }));
  EXPECT_EQ(zinc_remove_stale(guard_.c_str(), 0), ZINC_EAGAIN) << zinc_last_error_message();
  EXPECT_TRUE(zinc::test::contains(zinc_last_error_message(), "recoverable 10 s after"))
      << zinc_last_error_message();
  EXPECT_TRUE(object_exists(guard_.name()));
}

TEST_F(UnfinishedObject, OneThatAProcessStillMapsIsNotStale) {
  zinc::test::write_raw_object(guard_.name(), std::vector<uint8_t>(64, 0), 2 * zinc_page_size());
  zinc::core::testing::unfinished_grace_ns = 0;
  // Between its mmap and its header, the descriptor already closed: only the
  // creator's mapping shows that it is there (spec section 4.4, step 2).
  ASSERT_TRUE(start_slow_creator([](int fd) {
    const void* mapped = mmap(nullptr, zinc_page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    return mapped != MAP_FAILED;
  }));
  EXPECT_EQ(zinc_remove_stale(guard_.c_str(), 0), ZINC_EBUSY);
  EXPECT_TRUE(zinc::test::contains(zinc_last_error_message(),
                                   "pid " + std::to_string(peer_) + " still maps it"))
      << zinc_last_error_message();
  EXPECT_TRUE(object_exists(guard_.name()));
  stop_slow_creator();
  EXPECT_EQ(zinc_remove_stale(guard_.c_str(), 0), ZINC_OK) << zinc_last_error_message();
  EXPECT_FALSE(object_exists(guard_.name()));
}

}  // namespace
