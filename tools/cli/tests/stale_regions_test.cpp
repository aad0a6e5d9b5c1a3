// Crash recovery from the operator's side: `zinc ls` after kill -9, `zinc gc`
// removing exactly the stale regions, `zinc rm`, and a restart with
// `zinc create --replace-stale`. Every gc is confined to the test's own
// names with --prefix: other test runs may have regions on this machine.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "cli_runner.hpp"
#include "scenario.hpp"
#include "test_support.hpp"
#include "zinc.h"

namespace zinc::cli::test {
namespace {

using zinc::test::object_exists;
using zinc::test::ObjectGuard;
using zinc::test::Peer;
using zinc::test::unique_name;

// name -> action of a `zinc gc --json` run.
std::map<std::string, std::string> gc_actions(const Result& gc) {
  std::map<std::string, std::string> actions;
  const JsonValue doc = JsonValue::parse(gc.out);
  for (const JsonValue& r : doc["regions"].array()) {
    actions[r["name"].str()] = r["action"].str();
  }
  return actions;
}

TEST(CliLs, ShowsACreatorKilledWithSigkillAsDead) {
  ObjectGuard g(unique_name("cli-ls-kill9"));
  Peer creator;
  ASSERT_EQ(creator.call("create " + g.name() + " " + kPageText), "rc 0");
  ASSERT_EQ(creator.call("notify"), "ok");

  Result before = run_zinc({"ls", "--prefix", g.name(), "--json"});
  ASSERT_EQ(before.exit_code, 0) << before.err;
  JsonValue live = ls_entry(before.out, g.name());
  EXPECT_EQ(live["status"].str(), "live");
  EXPECT_EQ(live["creator"].str(), "alive");
  EXPECT_EQ(live["header"]["owner_pid"].num(), creator.pid());
  EXPECT_EQ(live["header"]["capacity"].num(), double(kPage));
  EXPECT_EQ(live["header"]["version"].num(), 2);
  EXPECT_EQ(live["header"]["ref_count"].num(), 1);
  EXPECT_EQ(live["header"]["notify_seq"].num(), 1);
  ASSERT_EQ(live["mapped_by"].array().size(), 1u);
  EXPECT_EQ(live["mapped_by"][0].num(), creator.pid());

  creator.kill_hard();
  Result after = run_zinc({"ls", "--prefix", g.name(), "--json"});
  ASSERT_EQ(after.exit_code, 0) << after.err;
  JsonValue dead = ls_entry(after.out, g.name());
  EXPECT_EQ(dead["creator"].str(), "dead");
  EXPECT_EQ(dead["status"].str(), "stale");
  EXPECT_TRUE(dead["mapped_by"].array().empty());
  EXPECT_EQ(dead["header"]["ref_count"].num(), 1) << "a crash never gives its reference back";

  Result table = run_zinc({"ls", "--prefix", g.name()});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  const auto header = ls_row(table.out, "NAME");
  EXPECT_EQ(header, (std::vector<std::string>{"NAME", "CAPACITY", "VER", "REFS", "PID", "CREATOR",
                                              "AGE", "NOTIFIES", "MAPPED", "STATUS"}));
  const auto row = ls_row(table.out, g.name());
  ASSERT_EQ(row.size(), header.size()) << table.out;
  EXPECT_EQ(row[1], kPageText);
  EXPECT_EQ(row[4], std::to_string(creator.pid()));
  EXPECT_EQ(row[5], "dead");
  EXPECT_EQ(row[7], "1");
  EXPECT_EQ(row[8], "0");
  EXPECT_EQ(row[9], "stale");
}

TEST(CliLs, SaysSoWhenNoRegionMatches) {
  const std::string prefix = unique_name("cli-ls-none");
  Result ls = run_zinc({"ls", "--prefix", prefix});
  EXPECT_EQ(ls.exit_code, 0);
  EXPECT_EQ(ls.out, "no zinc regions named '" + prefix + "...' in /dev/shm\n");
  Result json = run_zinc({"ls", "--prefix", prefix, "--json"});
  EXPECT_EQ(json.out, "{\"regions\":[]}\n");
}

TEST(CliGc, RemovesExactlyTheStaleRegionsAndLeavesLiveOnesAlone) {
  const std::string base = unique_name("cli-gc") + "-";
  ObjectGuard stale(base + "stale"), reused(base + "reused"), live(base + "live"),
      orphan(base + "orphan"), corrupt(base + "corrupt"), unfinished(base + "unfinished");
  Peer stale_creator, live_creator, orphan_creator, orphan_reader, later;
  ASSERT_EQ(stale_creator.call("create " + stale.name() + " " + kPageText), "rc 0");
  ASSERT_EQ(live_creator.call("create " + live.name() + " " + kPageText), "rc 0");
  ASSERT_EQ(orphan_creator.call("create " + orphan.name() + " " + kPageText), "rc 0");
  ASSERT_EQ(orphan_reader.call("open " + orphan.name()), "rc 0");
  stale_creator.kill_hard();
  orphan_creator.kill_hard();
  // The pid in this header belongs to a process started after the region.
  write_region(reused.name(), later.pid(), realtime_ns() - 60 * kSecond);
  write_corrupted(corrupt.name());
  write_unfinished(unfinished.name());
  const std::vector<const ObjectGuard*> all = {&stale,  &reused,  &live,
                                               &orphan, &corrupt, &unfinished};

  Result dry = run_zinc({"gc", "--prefix", base, "--dry-run", "--json"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  const std::map<std::string, std::string> expected_dry = {
      {stale.name(), "would_remove"}, {reused.name(), "would_remove"},
      {live.name(), "kept"},          {orphan.name(), "kept"},
      {corrupt.name(), "skipped"},    {unfinished.name(), "skipped"}};
  EXPECT_EQ(gc_actions(dry), expected_dry) << dry.out;
  EXPECT_TRUE(JsonValue::parse(dry.out)["dry_run"].boolean());
  for (const ObjectGuard* g : all) EXPECT_TRUE(object_exists(g->name())) << g->name();

  Result gc = run_zinc({"gc", "--prefix", base, "--json"});
  ASSERT_EQ(gc.exit_code, 0) << gc.err;
  const JsonValue doc = JsonValue::parse(gc.out);
  EXPECT_EQ(doc["removed"].num(), 2);
  EXPECT_EQ(doc["examined"].num(), 6);
  EXPECT_FALSE(object_exists(stale.name()));
  EXPECT_FALSE(object_exists(reused.name()));
  for (const ObjectGuard* g : {&live, &orphan, &corrupt, &unfinished}) {
    EXPECT_TRUE(object_exists(g->name())) << g->name() << " must not be removed";
  }
  for (const JsonValue& r : doc["regions"].array()) {
    if (r["name"].str() == orphan.name()) {
      EXPECT_TRUE(
          contains(r["reason"].str(), "pid " + std::to_string(orphan_reader.pid()) + " still map"))
          << r["reason"].str();
    }
    if (r["name"].str() == live.name()) {
      EXPECT_EQ(r["reason"].str(),
                "its creator (pid " + std::to_string(live_creator.pid()) + ") is still running");
    }
  }

  // Once its last reader is gone, the orphan is stale as well; the live one stays.
  orphan_reader.kill_hard();
  Result again = run_zinc({"gc", "--prefix", base});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(contains(again.out, "gc: removed 1 of 4 regions named '" + base + "...'"))
      << again.out;
  EXPECT_FALSE(object_exists(orphan.name()));
  EXPECT_TRUE(object_exists(live.name()));
  EXPECT_EQ(live_creator.call("notify"), "ok") << "the live creator carries on";
}

TEST(CliGc, NeverRemovesARegionThatALiveReaderStillMaps) {
  ObjectGuard g(unique_name("cli-gc-reader"));
  Peer creator, reader;
  ASSERT_EQ(creator.call("create " + g.name() + " " + kPageText), "rc 0");
  ASSERT_EQ(creator.call("write 0 42"), "ok");
  ASSERT_EQ(reader.call("open " + g.name()), "rc 0");
  creator.kill_hard();

  Result ls = run_zinc({"ls", "--prefix", g.name(), "--json"});
  const JsonValue entry = ls_entry(ls.out, g.name());
  EXPECT_EQ(entry["creator"].str(), "dead");
  EXPECT_EQ(entry["status"].str(), "orphaned");
  ASSERT_EQ(entry["mapped_by"].array().size(), 1u);
  EXPECT_EQ(entry["mapped_by"][0].num(), reader.pid());

  for (int round = 0; round < 2; ++round) {
    Result gc = run_zinc({"gc", "--prefix", g.name()});
    EXPECT_EQ(gc.exit_code, 0) << gc.err;
    EXPECT_TRUE(contains(gc.out, "kept")) << gc.out;
    EXPECT_TRUE(object_exists(g.name()));
  }
  EXPECT_EQ(reader.call("read 0"), "byte 42");
}

TEST(CliRm, RefusesALiveCreatorsRegionUnlessForced) {
  ObjectGuard g(unique_name("cli-rm-live"));
  Peer creator;
  ASSERT_EQ(creator.call("create " + g.name() + " " + kPageText), "rc 0");
  Result refused = run_zinc({"rm", g.name()});
  EXPECT_EQ(refused.exit_code, 5);
  EXPECT_EQ(refused.err, "zinc rm: region '" + g.name() + "': its creator (pid " +
                             std::to_string(creator.pid()) +
                             ") is still running; use --force to remove it anyway\n");
  EXPECT_TRUE(object_exists(g.name()));
  Result forced = run_zinc({"rm", "--force", g.name()});
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_EQ(forced.out, "removed region '" + g.name() + "'\n");
  EXPECT_FALSE(object_exists(g.name()));
}

TEST(CliRm, RemovesDeadCreatorsRegionsAndObjectsThatAreNotRegions) {
  const std::string base = unique_name("cli-rm") + "-";
  ObjectGuard dead(base + "dead"), corrupt(base + "corrupt"), foreign(base + "foreign");
  Peer creator;
  ASSERT_EQ(creator.call("create " + dead.name() + " " + kPageText), "rc 0");
  creator.kill_hard();
  write_corrupted(corrupt.name());
  write_foreign(foreign.name());
  Result rm = run_zinc({"rm", dead.name(), corrupt.name(), foreign.name(), "--json"});
  EXPECT_EQ(rm.exit_code, 0) << rm.err;
  const JsonValue removed = JsonValue::parse(rm.out)["removed"];
  ASSERT_EQ(removed.array().size(), 3u);
  EXPECT_EQ(removed[0].str(), dead.name());
  for (const ObjectGuard* g : {&dead, &corrupt, &foreign}) EXPECT_FALSE(object_exists(g->name()));
}

TEST(CliCreate, ReplaceStaleRestartsAfterTheCreatorWasKilled) {
  ObjectGuard g(unique_name("cli-restart"));
  Peer crashed;
  ASSERT_EQ(crashed.call("create " + g.name() + " " + kPageText), "rc 0");
  crashed.kill_hard();
  Result plain = run_zinc({"create", g.name(), kPageText, "--detach"});
  EXPECT_EQ(plain.exit_code, 5);
  EXPECT_EQ(plain.err, "zinc create: region '" + g.name() + "' already exists\n");
  Result replaced = run_zinc({"create", g.name(), kPageText, "--detach", "--replace-stale"});
  EXPECT_EQ(replaced.exit_code, 0) << replaced.err;
  ZincHeaderInfo info{};
  ASSERT_EQ(zinc_inspect(g.c_str(), &info), ZINC_OK);
  EXPECT_NE(info.owner_pid, crashed.pid()) << "a new region with a new creator";
}

TEST(CliCreate, ReplaceStaleNeverReplacesALiveCreatorsRegion) {
  ObjectGuard g(unique_name("cli-replace-live"));
  Peer owner;
  ASSERT_EQ(owner.call("create " + g.name() + " " + kPageText), "rc 0");
  Result refused = run_zinc({"create", g.name(), kPageText, "--detach", "--replace-stale"});
  EXPECT_EQ(refused.exit_code, 5);
  EXPECT_EQ(refused.err, "zinc create: region '" + g.name() +
                             "' already exists and was not replaced: its creator (pid " +
                             std::to_string(owner.pid()) + ") is still running\n");
  ZincHeaderInfo info{};
  ASSERT_EQ(zinc_inspect(g.c_str(), &info), ZINC_OK);
  EXPECT_EQ(info.owner_pid, owner.pid());
}

}  // namespace
}  // namespace zinc::cli::test
