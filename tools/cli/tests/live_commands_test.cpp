// The commands that live with a region: create (hold, detach), notify, wait
// and watch, including how they end on signals.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "cli_runner.hpp"
#include "scenario.hpp"
#include "test_support.hpp"
#include "zinc.h"

namespace zinc::cli::test {
namespace {

using zinc::test::object_exists;
using zinc::test::ObjectGuard;
using zinc::test::unique_name;
using Clock = std::chrono::steady_clock;

// Waits (bounded) until the process has blocked `signal_number`, so that a
// signal sent now ends it through its clean path rather than the default.
void await_blocked(Background& process, int signal_number) {
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (!process.blocks(signal_number) && Clock::now() < deadline) usleep(1000);
  ASSERT_TRUE(process.blocks(signal_number));
}

TEST(CliCreate, HoldsTheRegionUntilASignalThenRemovesIt) {
  for (const int signal_number : {SIGINT, SIGTERM, SIGHUP}) {
    SCOPED_TRACE(signal_number);
    ObjectGuard g(unique_name("cli-hold"));
    Background holder({"create", g.name(), "8K"});
    const std::string created = holder.read_line();
    EXPECT_EQ(created, "created region '" + g.name() + "' (8192 bytes), pid " +
                           std::to_string(holder.pid()) + "; holding it until Ctrl-C or SIGTERM");
    ZincHeaderInfo info{};
    ASSERT_EQ(zinc_inspect(g.c_str(), &info), ZINC_OK);
    EXPECT_EQ(info.owner_pid, holder.pid());
    EXPECT_EQ(info.capacity, 8192u);
    EXPECT_EQ(zinc_creator_state(g.c_str()), ZINC_CREATOR_ALIVE);

    holder.signal(signal_number);
    const Result end = holder.finish();
    EXPECT_EQ(end.exit_code, 0) << end.err;
    EXPECT_EQ(end.out, "closed region '" + g.name() + "' and removed its name (signal " +
                           std::to_string(signal_number) + ")\n");
    EXPECT_FALSE(object_exists(g.name()));
  }
}

TEST(CliCreate, DetachLeavesARegionThatIsStaleByDesign) {
  ObjectGuard g(unique_name("cli-detach"));
  const Result created = run_zinc({"create", g.name(), kPageText, "--detach", "--json"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const JsonValue event = JsonValue::parse(created.out);
  EXPECT_EQ(event["event"].str(), "created");
  EXPECT_TRUE(event["detached"].boolean());
  EXPECT_EQ(event["capacity"].num(), double(kPage));
  ASSERT_TRUE(object_exists(g.name()));
  EXPECT_EQ(zinc_creator_state(g.c_str()), ZINC_CREATOR_DEAD);
  EXPECT_EQ(
      ls_entry(run_zinc({"ls", "--prefix", g.name(), "--json"}).out, g.name())["status"].str(),
      "stale");
  // Usable while it is there...
  ZincHandle reader = nullptr;
  ASSERT_EQ(zinc_open(g.c_str(), &reader), ZINC_OK);
  EXPECT_EQ(run_zinc({"gc", "--prefix", g.name()}).exit_code, 0);
  EXPECT_TRUE(object_exists(g.name())) << "kept while mapped";
  zinc_close(reader);
  // ...and gc's once nothing maps it.
  EXPECT_EQ(run_zinc({"gc", "--prefix", g.name()}).exit_code, 0);
  EXPECT_FALSE(object_exists(g.name()));
}

TEST(CliCreate, NoReserveLeavesThePagesUnallocatedAndRefusesPrefault) {
  ObjectGuard g(unique_name("cli-noreserve"));
  const Result created = run_zinc({"create", g.name(), "1M", "--detach", "--no-reserve"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  struct stat st{};
  ASSERT_EQ(stat(zinc::test::object_path(g.name()).c_str(), &st), 0);
  EXPECT_EQ(uint64_t(st.st_size), kPage + (1u << 20));
  EXPECT_EQ(zinc::test::allocated_bytes(g.name()), kPage) << "only the header's page";
  EXPECT_EQ(run_zinc({"rm", g.name()}).exit_code, 0);

  const Result both = run_zinc({"create", g.name(), "1M", "--no-reserve", "--prefault"});
  EXPECT_EQ(both.exit_code, 2) << both.err;
  EXPECT_EQ(both.err,
            "zinc create: ZINC_CREATE_PREFAULT allocates every page; it cannot be combined with "
            "ZINC_CREATE_NORESERVE\n");
  EXPECT_FALSE(object_exists(g.name()));
}

TEST(CliCreate, RefusesANameThatIsTaken) {
  ObjectGuard g(unique_name("cli-taken"));
  ZincHandle owner = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), kPage, &owner), ZINC_OK);
  const Result r = run_zinc({"create", g.name(), kPageText});
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_EQ(r.err, "zinc create: region '" + g.name() + "' already exists\n");
  zinc_close(owner);
}

TEST(CliNotify, BumpsTheSequenceAndWakesWaiters) {
  ObjectGuard g(unique_name("cli-notify"));
  ZincHandle owner = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), kPage, &owner), ZINC_OK);
  const Result once = run_zinc({"notify", g.name()});
  EXPECT_EQ(once.exit_code, 0) << once.err;
  EXPECT_EQ(once.out, "notified region '" + g.name() + "' 1 time; its sequence is now 1\n");
  const Result thrice = run_zinc({"notify", g.name(), "--count", "3", "--json"});
  EXPECT_EQ(thrice.exit_code, 0) << thrice.err;
  const JsonValue doc = JsonValue::parse(thrice.out);
  EXPECT_EQ(doc["notified"].num(), 3);
  EXPECT_EQ(doc["sequence"].num(), 4);
  EXPECT_EQ(zinc_try_wait(owner), ZINC_OK) << "the creator sees them (coalesced)";
  EXPECT_EQ(zinc_try_wait(owner), ZINC_EAGAIN);
  ZincHeaderInfo info{};
  ASSERT_EQ(zinc_inspect(g.c_str(), &info), ZINC_OK);
  EXPECT_EQ(info.ref_count, 1u) << "notify closes what it opened";
  zinc_close(owner);
}

TEST(CliWait, ReturnsOnTheNextNotification) {
  ObjectGuard g(unique_name("cli-wait"));
  ZincHandle owner = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), kPage, &owner), ZINC_OK);
  Background waiter({"wait", g.name(), "--timeout", "20000", "--json"});
  // wait ignores notifications from before it started, and prints nothing
  // until it returns: keep notifying until it does.
  const auto deadline = Clock::now() + std::chrono::seconds(15);
  while (!waiter.exited() && Clock::now() < deadline) {
    zinc_notify(owner);
    usleep(20000);
  }
  const Result r = waiter.finish();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const JsonValue doc = JsonValue::parse(r.out);
  EXPECT_TRUE(doc["notified"].boolean());
  EXPECT_GE(doc["sequence"].num(), 1);
  EXPECT_LT(doc["waited_ms"].num(), 20000);
  zinc_close(owner);
}

TEST(CliWait, IgnoresEarlierNotificationsAndTimesOutWithExitCode1) {
  ObjectGuard g(unique_name("cli-wait-timeout"));
  ZincHandle owner = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), kPage, &owner), ZINC_OK);
  for (int i = 0; i < 5; ++i) zinc_notify(owner);
  const auto start = Clock::now();
  const Result r = run_zinc({"wait", g.name(), "--timeout", "100"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, "timed out after 100 ms: no notification on region '" + g.name() + "'\n");
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  const Result json = run_zinc({"wait", g.name(), "--timeout", "0", "--json"});
  EXPECT_EQ(json.exit_code, 1);
  EXPECT_FALSE(JsonValue::parse(json.out)["notified"].boolean());
  EXPECT_EQ(JsonValue::parse(json.out)["sequence"].num(), 5);
  zinc_close(owner);
}

TEST(CliWait, EndsAtOnceOnASignalWith128PlusItsNumber) {
  for (const int signal_number : {SIGINT, SIGTERM}) {
    ObjectGuard g(unique_name("cli-wait-signal"));
    ZincHandle owner = nullptr;
    ASSERT_EQ(zinc_create(g.c_str(), kPage, &owner), ZINC_OK);
    Background waiter({"wait", g.name()});  // no timeout: for ever
    await_blocked(waiter, signal_number);
    waiter.signal(signal_number);
    const Result r = waiter.finish();
    EXPECT_EQ(r.exit_code, 128 + signal_number);
    EXPECT_EQ(r.err, "zinc wait: interrupted by signal " + std::to_string(signal_number) + "\n");
    ZincHeaderInfo info{};
    ASSERT_EQ(zinc_inspect(g.c_str(), &info), ZINC_OK);
    EXPECT_EQ(info.ref_count, 1u) << "the interrupted wait closed its handle";
    zinc_close(owner);
  }
}

TEST(CliWatch, PrintsEachNotificationWithItsSequenceAndTheRate) {
  ObjectGuard g(unique_name("cli-watch"));
  ZincHandle owner = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), kPage, &owner), ZINC_OK);
  zinc_notify(owner);  // before the watch: not shown
  Background watcher({"watch", g.name(), "--count", "5", "--json"});
  const JsonValue start = JsonValue::parse(watcher.read_line());
  EXPECT_EQ(start["event"].str(), "start");
  EXPECT_EQ(start["sequence"].num(), 1);
  for (int i = 0; i < 5; ++i) {
    zinc_notify(owner);
    usleep(2000);
  }
  const Result r = watcher.finish();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  double total = 0, last = 1;
  const auto lines = lines_of(r.out);
  ASSERT_GE(lines.size(), 2u) << r.out;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    const JsonValue event = JsonValue::parse(lines[i]);
    ASSERT_EQ(event["event"].str(), "notify") << lines[i];
    EXPECT_EQ(event["sequence"].num(), last + event["delta"].num()) << lines[i];
    EXPECT_GE(event["delta"].num(), 1);
    EXPECT_GT(event["rate_per_s"].num(), 0);
    last = event["sequence"].num();
    total += event["delta"].num();
  }
  EXPECT_EQ(total, 5);
  const JsonValue end = JsonValue::parse(lines.back());
  EXPECT_EQ(end["event"].str(), "end");
  EXPECT_EQ(end["reason"].str(), "count");
  EXPECT_EQ(end["notifications"].num(), 5);
  EXPECT_EQ(end["first_sequence"].num(), 1);
  EXPECT_EQ(end["last_sequence"].num(), 6);
  zinc_close(owner);
}

TEST(CliWatch, TextLinesAndCleanEndOnSigterm) {
  ObjectGuard g(unique_name("cli-watch-text"));
  ZincHandle owner = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), kPage, &owner), ZINC_OK);
  Background watcher({"watch", g.name()});
  EXPECT_EQ(watcher.read_line(),
            "watching region '" + g.name() + "' from sequence 0; Ctrl-C to stop");
  zinc_notify(owner);
  const std::string line = watcher.read_line();
  EXPECT_TRUE(contains(line, "s  seq 1  (+1)  rate ")) << line;
  EXPECT_TRUE(contains(line, "/s")) << line;
  watcher.signal(SIGTERM);
  const Result r = watcher.finish();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "1 notification in ")) << r.out;
  EXPECT_TRUE(contains(r.out, "; stopped: signal\n")) << r.out;
  zinc_close(owner);
}

TEST(CliWatch, EndsWhenTheCreatorClosesTheRegion) {
  ObjectGuard g(unique_name("cli-watch-gone"));
  ZincHandle owner = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), kPage, &owner), ZINC_OK);
  Background watcher({"watch", g.name(), "--json"});
  EXPECT_EQ(JsonValue::parse(watcher.read_line())["event"].str(), "start");
  zinc_close(owner);  // unlinks the name
  const Result r = watcher.finish();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(JsonValue::parse(lines_of(r.out).back())["reason"].str(), "removed") << r.out;
}

TEST(CliWatch, StopsAfterTheDuration) {
  ObjectGuard g(unique_name("cli-watch-duration"));
  ZincHandle owner = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), kPage, &owner), ZINC_OK);
  const auto start = Clock::now();
  const Result r = run_zinc({"watch", g.name(), "--duration", "200", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const JsonValue end = JsonValue::parse(lines_of(r.out).back());
  EXPECT_EQ(end["reason"].str(), "duration");
  EXPECT_GE(end["elapsed_s"].num(), 0.2);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(10));
  zinc_close(owner);
}

}  // namespace
}  // namespace zinc::cli::test
