// Identity-safe removal: a remover unlinks the name only while it refers to
// the object it judged. The interleaving that used to lose a region (the
// judged object removed and a new region created between the remover's
// check and its unlink) is forced with the before_unlink hook.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "removal.hpp"
#include "test_support.hpp"
#include "zinc.h"

namespace {

using zinc::test::object_exists;
using zinc::test::ObjectGuard;
using zinc::test::unique_name;

// What the hook does and saw, for the test to check afterwards.
struct Interleaving {
  ZincHandle close_in_hook = nullptr;  // an owner handle to close there
  std::string name;                    // the region to re-create there
  uint32_t remove_flags = 0;           // a second remover's flags
  int32_t remove_in_hook = 1;          // and its result
  int32_t create_in_hook = 1;
  ZincHandle created = nullptr;
};
Interleaving* current = nullptr;

void interleave(const std::string&) {
  Interleaving& run = *current;
  zinc::core::testing::before_unlink = nullptr;  // once
  run.remove_in_hook = zinc_remove_stale(run.name.c_str(), run.remove_flags);
  if (run.close_in_hook != nullptr) zinc_close(run.close_in_hook);
  run.create_in_hook = zinc_create(run.name.c_str(), zinc_page_size(), &run.created);
}

class RemovalRace : public ::testing::Test {
 protected:
  void SetUp() override {
    run_.name = guard_.name();
    current = &run_;
    zinc::core::testing::before_unlink = interleave;
  }
  void TearDown() override {
    zinc::core::testing::before_unlink = nullptr;
    current = nullptr;
    if (run_.created != nullptr) zinc_close(run_.created);
  }
  // The property: a region created in the window is still there after the
  // remover returned.
  void expect_new_region_survives() {
    if (run_.create_in_hook == ZINC_OK) {
      EXPECT_TRUE(object_exists(run_.name)) << "the remover unlinked the region created meanwhile";
      ZincHandle again = nullptr;
      EXPECT_EQ(zinc_open(run_.name.c_str(), &again), ZINC_OK);
      zinc_close(again);
    } else {
      EXPECT_EQ(run_.create_in_hook, ZINC_EEXIST);
    }
  }

  ObjectGuard guard_{unique_name("race")};
  Interleaving run_;
};

TEST_F(RemovalRace, OwnerCloseDuringAForcedRemoveCannotLetTheNameBeReused) {
  ZincHandle owner = nullptr;
  ASSERT_EQ(zinc_create(guard_.c_str(), zinc_page_size(), &owner), ZINC_OK);
  run_.close_in_hook = owner;
  EXPECT_EQ(zinc_remove_stale(guard_.c_str(), ZINC_REMOVE_FORCE), ZINC_OK);
  EXPECT_EQ(run_.remove_in_hook, ZINC_EBUSY) << "the creator is alive";
  expect_new_region_survives();
}

TEST_F(RemovalRace, SecondRemoverOfAStaleRegionWaitsItsTurn) {
  zinc::test::write_region(guard_.name(), zinc::test::dead_pid(), zinc::test::realtime_ns());
  EXPECT_EQ(zinc_remove_stale(guard_.c_str(), 0), ZINC_OK);
  EXPECT_EQ(run_.remove_in_hook, ZINC_EBUSY) << "the first remover holds the lock";
  expect_new_region_survives();
}

TEST_F(RemovalRace, RemovingAnInvalidObjectCannotRemoveARegionCreatedMeanwhile) {
  zinc::test::write_raw_object(guard_.name(), std::vector<uint8_t>(64, 0xAB), 2 * zinc_page_size());
  run_.remove_flags = ZINC_REMOVE_INVALID;  // two `zinc rm` at once
  EXPECT_EQ(zinc_remove_stale(guard_.c_str(), ZINC_REMOVE_INVALID), ZINC_OK);
  EXPECT_EQ(run_.remove_in_hook, ZINC_EBUSY) << "the first remover holds the lock";
  expect_new_region_survives();
}

// Without the hook: the remover that finds the name re-created between its
// look and its lock leaves the newer region alone.
TEST(RemovalIdentity, ReplacedObjectIsLeftAlone) {
  ObjectGuard g(unique_name("race-replaced"));
  ZincHandle first = nullptr;
  ZincHandle keeps_first_mapped = nullptr;  // so its inode number is not reused
  ASSERT_EQ(zinc_create(g.c_str(), zinc_page_size(), &first), ZINC_OK);
  ASSERT_EQ(zinc_open(g.c_str(), &keeps_first_mapped), ZINC_OK);
  zinc::core::posix::ObjectId first_id;
  ASSERT_TRUE(zinc::core::posix::identify_object("/zinc_" + g.name(), &first_id).is_ok());
  zinc_close(first);
  ZincHandle second = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), zinc_page_size(), &second), ZINC_OK);
  const zinc::core::Status s = zinc::core::unlink_locked("/zinc_" + g.name(), first_id);
  EXPECT_EQ(s.code, ZINC_EBUSY) << s.message;
  EXPECT_TRUE(object_exists(g.name()));
  zinc_close(second);
  zinc_close(keeps_first_mapped);
}

}  // namespace
