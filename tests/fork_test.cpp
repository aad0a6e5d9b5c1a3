// Handles inherited through fork(): the child may use them (read, write,
// notify, wait), and closing them there (or exiting) only drops the child's
// mapping: the name, ref_count and the waiter counts belong to the process
// that made the handle.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "header.hpp"
#include "test_support.hpp"
#include "zinc.h"

namespace {

using zinc::test::call_in_child;
using zinc::test::object_exists;
using zinc::test::ObjectGuard;
using zinc::test::unique_name;
using Clock = std::chrono::steady_clock;

const zinc::core::Header& header_of(ZincHandle h) {
  return *reinterpret_cast<const zinc::core::Header*>(zinc_ptr(h) - zinc_page_size());
}

uint64_t counted_word(ZincHandle h) {
  return reinterpret_cast<const zinc::core::WaiterCount*>(zinc_ptr(h) - zinc_page_size() +
                                                          zinc::core::kWaiterCountOffset)
      ->counted_handles.load();
}

class Fork : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(zinc_create(guard_.c_str(), zinc_page_size(), &owner_), ZINC_OK);
    ASSERT_EQ(zinc_open(guard_.c_str(), &reader_), ZINC_OK);
  }
  void TearDown() override {
    zinc_close(reader_);
    zinc_close(owner_);
  }
  ObjectGuard guard_{unique_name("fork")};
  ZincHandle owner_ = nullptr;
  ZincHandle reader_ = nullptr;
};

TEST_F(Fork, ChildClosingInheritedHandlesLeavesNameAndCounts) {
  const uint32_t refs = header_of(owner_).ref_count.load();
  const uint64_t counted = counted_word(owner_);
  const zinc::test::ChildResult child = call_in_child(
      [&] {
        zinc_close(reader_);
        zinc_close(owner_);  // the creator's handle: in the child, no unlink
        return int32_t{0};
      },
      5000);
  ASSERT_TRUE(child.finished);
  EXPECT_TRUE(object_exists(guard_.name())) << "the child's close unlinked the parent's name";
  EXPECT_EQ(header_of(owner_).ref_count.load(), refs);
  EXPECT_EQ(counted_word(owner_), counted);
  // The parent's handles are untouched and its close still unlinks.
  zinc_notify(owner_);
  EXPECT_EQ(zinc_try_wait(reader_), ZINC_OK);
  zinc_close(reader_);
  zinc_close(owner_);
  reader_ = owner_ = nullptr;
  EXPECT_FALSE(object_exists(guard_.name()));
}

TEST_F(Fork, ChildUsesInheritedHandlesToWaitAndWrite) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Woken by the parent's notify, answers in place and notifies back.
    if (zinc_wait(reader_, 10000) != ZINC_OK) _exit(2);
    std::strcpy(reinterpret_cast<char*>(zinc_ptr(reader_)) + 64, "child was here");
    zinc_notify(reader_);
    zinc_close(reader_);
    zinc_close(owner_);
    _exit(0);
  }
  std::strcpy(reinterpret_cast<char*>(zinc_ptr(owner_)), "parent");
  zinc_notify(owner_);
  // owner_ also sees its own notification: wait until the answer is there.
  const char* answer = reinterpret_cast<char*>(zinc_ptr(owner_)) + 64;
  const auto until = Clock::now() + std::chrono::seconds(10);
  while (std::strcmp(answer, "child was here") != 0 && Clock::now() < until) {
    zinc_wait(owner_, 1000);
  }
  EXPECT_STREQ(answer, "child was here");
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_TRUE(object_exists(guard_.name()));
  EXPECT_EQ(header_of(owner_).ref_count.load(), 2u);
}

// A thread of the parent was inside zinc_wait when another thread forked:
// the child has no such thread, so its close must not wait for it.
TEST_F(Fork, ChildCloseDoesNotWaitForAWaiterThreadItDoesNotHave) {
  ASSERT_EQ(zinc_set_spin(reader_, 0), ZINC_OK);
  std::atomic<pid_t> tid{0};
  std::thread waiter([&] {
    tid = gettid();
    zinc_wait(reader_, 30000);
  });
  ASSERT_TRUE(zinc::test::await_futex_sleep(tid));
  const zinc::test::ChildResult child = call_in_child(
      [&] {
        zinc_close(reader_);
        return int32_t{0};
      },
      5000);
  EXPECT_TRUE(child.finished) << "the child's close hung on the parent's waiter";
  zinc_close(reader_);  // cancels the parent's waiter
  reader_ = nullptr;
  waiter.join();
  EXPECT_TRUE(object_exists(guard_.name()));
}

}  // namespace
