// Stale-region judgements (zinc_creator_state, zinc_remove_stale as `zinc gc`
// runs it, ZINC_CREATE_REPLACE_STALE) against creators a pid cannot judge:
// one in another pid namespace, one whose main thread exited while a worker
// thread still uses the region (issue 18 point 4). A live creator's region
// is never removed or replaced; once the creator really dies, it is.
#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "liveness_peers.hpp"
#include "liveness_support.hpp"
#include "test_support.hpp"
#include "zinc.h"

namespace {

using zinc::test::dead_pid;
using zinc::test::ExitedMainThreadProcess;
using zinc::test::LineLink;
using zinc::test::NamespacedProcess;
using zinc::test::object_exists;
using zinc::test::object_inode;
using zinc::test::ObjectGuard;
using zinc::test::RegionGuard;
using zinc::test::said;
using zinc::test::unique_name;

class PidNamespaceRegion : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string reason = zinc::test::pid_namespace_unavailable_reason();
    if (!reason.empty()) GTEST_SKIP() << reason;
  }
};

// The three judges, in the order a careful operator would run them; each
// answer as "<judge> <rc>". REPLACE_STALE's region, if it ever gets one, is
// closed at once (its close unlinks it).
std::string judge_all(const std::string& name) {
  std::string answers = said("state", zinc_creator_state(name.c_str()));
  answers += " " + said("dry-run", zinc_remove_stale(name.c_str(), ZINC_REMOVE_DRY_RUN));
  answers += " " + said("gc", zinc_remove_stale(name.c_str(), ZINC_REMOVE_DEFAULT));
  ZincHandle replaced = nullptr;
  answers += " " + said("replace", zinc_create_ex(name.c_str(), zinc_page_size(),
                                                  ZINC_CREATE_REPLACE_STALE, &replaced));
  zinc_close(replaced);
  return answers;
}

const std::string kLiveVerdict = said("state", ZINC_CREATOR_ALIVE) + " " +
                                 said("dry-run", ZINC_EBUSY) + " " + said("gc", ZINC_EBUSY) + " " +
                                 said("replace", ZINC_EEXIST);

TEST_F(PidNamespaceRegion, JudgeInNamespaceKeepsLiveHostCreatorsRegion) {
  ObjectGuard name(unique_name("ns-judge-region"));
  RegionGuard creator;
  ASSERT_EQ(zinc_create(name.c_str(), zinc_page_size(), creator.out()), ZINC_OK);
  const ino_t inode = object_inode(name.name());
  NamespacedProcess judge(
      [&](LineLink& link) {
        link.send(judge_all(name.name()));
        return 0;
      },
      1);
  EXPECT_EQ(judge.link().read_line(), kLiveVerdict)
      << "a judge in another pid namespace called the live host creator dead";
  EXPECT_EQ(judge.wait_exit(), 0);
  EXPECT_EQ(object_inode(name.name()), inode) << "the live creator's region was removed";
}

TEST_F(PidNamespaceRegion, HostJudgeKeepsLiveNamespacedCreatorsRegionAndRemovesItOnceItDies) {
  ObjectGuard name(unique_name("host-judge-region"));
  NamespacedProcess creator(
      [&](LineLink& link) {
        ZincHandle h = nullptr;
        link.send(said("create", zinc_create(name.c_str(), zinc_page_size(), &h)));
        link.read_line();  // "die": killed by the test, not closing
        return 0;
      },
      dead_pid());
  ASSERT_EQ(creator.link().read_line(), said("create", ZINC_OK));
  const ino_t inode = object_inode(name.name());
  EXPECT_EQ(judge_all(name.name()), kLiveVerdict)
      << "the host called a live creator in another pid namespace dead";
  EXPECT_EQ(object_inode(name.name()), inode) << "the live creator's region was removed";

  creator.kill_namespace();
  creator.wait_exit();
  EXPECT_EQ(zinc_creator_state(name.c_str()), ZINC_CREATOR_DEAD);
  EXPECT_EQ(zinc_remove_stale(name.c_str(), ZINC_REMOVE_DEFAULT), ZINC_OK)
      << "the dead creator's region was not removed";
  EXPECT_FALSE(object_exists(name.name()));
}

TEST(ExitedMainThreadRegion, RegionIsKeptWhileWorkerThreadOfCreatorLivesAndRemovedOnceItDies) {
  ObjectGuard name(unique_name("zombie-leader-region"));
  auto region = std::make_shared<ZincHandle>(nullptr);
  ExitedMainThreadProcess creator(
      [&name, region](LineLink& link) {
        link.send(said("create", zinc_create(name.c_str(), zinc_page_size(), region.get())));
      },
      [region](LineLink& link) {
        link.read_line(60'000);  // "use"
        zinc_ptr(*region)[0] = 0x5a;
        zinc_notify(*region);
        link.send("used");
        link.read_line();  // "exit": without a close, as a crash would
        return 0;
      });
  ASSERT_EQ(creator.link().read_line(), said("create", ZINC_OK));
  const ino_t inode = object_inode(name.name());
  EXPECT_EQ(judge_all(name.name()), kLiveVerdict)
      << "a creator whose main thread exited was called dead while its worker thread runs";
  EXPECT_EQ(object_inode(name.name()), inode) << "the live creator's region was removed";
  creator.link().send("use");
  EXPECT_EQ(creator.link().read_line(), "used");

  creator.link().send("exit");
  EXPECT_EQ(creator.wait_exit(), 0);
  EXPECT_EQ(zinc_creator_state(name.c_str()), ZINC_CREATOR_DEAD);
  EXPECT_EQ(zinc_remove_stale(name.c_str(), ZINC_REMOVE_DEFAULT), ZINC_OK)
      << "the dead creator's region was not removed";
  EXPECT_FALSE(object_exists(name.name()));
}

}  // namespace
