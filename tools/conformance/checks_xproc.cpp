// xproc.*: the candidate in two or more processes on one region (peers run
// this executable's --peer role on the candidate library).
#include <signal.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "check_support.hpp"
#include "peer.hpp"
#include "raw_object.hpp"

namespace zinc::conformance {
namespace {

void reader_in_another_process_shares_bytes(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  const uint64_t capacity = 2 * ctx.page();
  Handle owner = create_region(ctx, g.name(), capacity);
  fill_pattern(owner.data(), capacity, 7);
  auto peer = ctx.candidate_peer();
  require_answer(ctx, *peer, "open " + g.name(), rc_line(0));
  expect_answer(ctx, *peer, "capacity", "capacity " + std::to_string(capacity));
  expect_answer(ctx, *peer, "verify 7", "ok");  // the bytes this process wrote
  require_answer(ctx, *peer, "fill 9", "ok");
  ctx.expect_eq("bytes here that differ from what the peer wrote", 0,
                pattern_mismatches(owner.data(), capacity, 9));
}

void notify_here_wakes_a_waiter_there(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  auto peer = ctx.candidate_peer();
  require_answer(ctx, *peer, "open " + g.name(), rc_line(0));
  start_peer_wait(ctx, *peer, kLongWaitMs);
  owner.data()[3] = 33;
  ctx.zinc.notify(owner.get());
  int32_t rc = 0;
  if (peer_wait_result(ctx, *peer, "peer: zinc_wait(10000) after a notify in this process",
                       "returns within 2 s", kWakeLimitMs, &rc)) {
    ctx.expect_code("peer: zinc_wait(10000)", 0, rc);
    expect_answer(ctx, *peer, "read 3 1", "bytes 21");  // 33, written before the notify
  }
}

void notify_there_wakes_a_waiter_here(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  auto peer = ctx.candidate_peer();
  require_answer(ctx, *peer, "create " + g.name() + " " + std::to_string(ctx.page()), rc_line(0));
  Handle reader = open_region(ctx, g.name());
  BackgroundWait waiter(ctx.zinc, reader, kLongWaitMs);
  if (!waiter.asleep_within(2000)) ctx.note("the waiting thread was not seen asleep within 2 s");
  require_answer(ctx, *peer, "write 5 2a", "ok");
  require_answer(ctx, *peer, "notify", "ok");
  if (ctx.expect(waiter.returned_within(kWakeLimitMs),
                 "zinc_wait(10000) here after a notify in the peer", "returns within 2 s",
                 "still waiting")) {
    ctx.expect_code("zinc_wait(10000) here", 0, waiter.rc());
    ctx.expect_eq("byte 5 here (the peer wrote 42 before notifying)", 42, reader.data()[5]);
  }
}

void every_waiting_process_wakes(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  std::vector<std::unique_ptr<Peer>> peers;
  for (int i = 0; i < 3; ++i) {
    peers.push_back(ctx.candidate_peer());
    require_answer(ctx, *peers.back(), "open " + g.name(), rc_line(0));
  }
  for (auto& peer : peers) start_peer_wait(ctx, *peer, kLongWaitMs);
  ctx.zinc.notify(owner.get());
  const int64_t deadline = monotonic_ms() + kWakeLimitMs;
  for (size_t i = 0; i < peers.size(); ++i) {
    int32_t rc = 0;
    const std::string what = "peer " + std::to_string(i) + ": zinc_wait(10000) after one notify";
    const int64_t left = std::max<int64_t>(0, deadline - monotonic_ms());
    if (peer_wait_result(ctx, *peers[i], what, "returns within 2 s", static_cast<int>(left), &rc)) {
      ctx.expect_code(what, 0, rc);
    }
  }
}

void wait_times_out_in_another_process(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  auto peer = ctx.candidate_peer();
  require_answer(ctx, *peer, "open " + g.name(), rc_line(0));
  expect_answer(ctx, *peer, "try_wait", rc_line(ZINC_EAGAIN));
  peer->send("wait 200");
  const std::string ack = peer->read_line(5000);
  ctx.require(ack == "waiting", "peer: answer to 'wait 200'", "'waiting'", "'" + ack + "'");
  int32_t rc = 0;
  int64_t elapsed = 0;
  if (peer_wait_result(ctx, *peer, "peer: zinc_wait(200)", "returns within 5 s", 5000, &rc,
                       &elapsed)) {
    ctx.expect_code("peer: zinc_wait(200) with nothing pending", ZINC_ETIMEDOUT, rc);
    ctx.expect(elapsed >= 180 && elapsed <= 2200, "peer: time zinc_wait(200) took",
               "180 .. 2200 ms", std::to_string(elapsed) + " ms");
  }
}

void owner_close_in_another_process_unlinks(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  auto peer = ctx.candidate_peer();
  require_answer(ctx, *peer, "create " + g.name() + " " + std::to_string(ctx.page()), rc_line(0));
  require_answer(ctx, *peer, "fill 3", "ok");
  Handle reader = open_region(ctx, g.name());
  require_answer(ctx, *peer, "close", "ok");
  ctx.expect(!object_exists(g.name()), "the name after the owner's close in the peer", "unlinked",
             "still there");
  ZincHandle out = junk_handle();
  const int32_t rc = ctx.zinc.open(g.c_str(), &out);
  ctx.expect_code("zinc_open here after that", ZINC_ENOENT, rc);
  if (rc == 0) ctx.zinc.close(out);
  ctx.expect_eq("bytes of this reader's mapping that changed after the owner left", 0,
                pattern_mismatches(reader.data(), ctx.page(), 3));
}

void killed_creator_leaves_the_region_usable(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  auto creator = ctx.candidate_peer();
  require_answer(ctx, *creator, "create " + g.name() + " " + std::to_string(ctx.page()),
                 rc_line(0));
  require_answer(ctx, *creator, "fill 5", "ok");
  Handle reader = open_region(ctx, g.name());
  creator->kill_hard();
  ctx.expect(object_exists(g.name()), "the name after its creator was SIGKILLed",
             "still there (nobody unlinked it)", "gone");
  auto second = ctx.candidate_peer();
  require_answer(ctx, *second, "open " + g.name(), rc_line(0));
  expect_answer(ctx, *second, "verify 5", "ok");  // the dead creator's bytes
  expect_answer(ctx, *second, "try_wait", rc_line(ZINC_EAGAIN));
  start_peer_wait(ctx, *second, kLongWaitMs);
  ctx.zinc.notify(reader.get());
  int32_t rc = 0;
  if (peer_wait_result(ctx, *second, "the new peer: zinc_wait(10000) after a notify here",
                       "returns within 2 s", kWakeLimitMs, &rc)) {
    ctx.expect_code("the new peer: zinc_wait", 0, rc);
  }
}

// The creator exited without closing and its parent has not reaped it yet
// (a zombie: its pid still exists). Nothing about the region may depend on
// that: it stays, opens, keeps its bytes and wakes waiters.
void unreaped_creator_leaves_the_region_usable(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  auto creator = ctx.candidate_peer();
  require_answer(ctx, *creator, "create " + g.name() + " " + std::to_string(ctx.page()),
                 rc_line(0));
  require_answer(ctx, *creator, "fill 6", "ok");
  if (!creator->kill_unreaped()) {
    ctx.skip("the peer process is not this kit's child (--peer-command without exec)");
  }
  ctx.expect(object_exists(g.name()), "the name after its creator died unreaped",
             "still there (nobody unlinked it)", "gone");
  Handle reader = open_region(ctx, g.name());
  ctx.expect_eq("bytes that differ from what the unreaped creator wrote", 0,
                pattern_mismatches(reader.data(), ctx.page(), 6));
  ctx.expect_eq("ref_count (the creator never closed; this reader opened)", 2,
                read_header(g.name()).ref_count);
  auto waiter = ctx.candidate_peer();
  require_answer(ctx, *waiter, "open " + g.name(), rc_line(0));
  start_peer_wait(ctx, *waiter, kLongWaitMs);
  ctx.zinc.notify(reader.get());
  int32_t rc = 0;
  if (peer_wait_result(ctx, *waiter, "peer: zinc_wait(10000) after a notify here",
                       "returns within 2 s", kWakeLimitMs, &rc)) {
    ctx.expect_code("peer: zinc_wait", 0, rc);
  }
}

void owner_pid_is_the_creating_process(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  auto peer = ctx.candidate_peer();
  require_answer(ctx, *peer, "create " + g.name() + " " + std::to_string(ctx.page()), rc_line(0));
  ctx.expect_eq("owner_pid (i32 at 28) of a region the peer created",
                static_cast<uint64_t>(peer->pid()),
                static_cast<uint64_t>(read_header(g.name()).owner_pid));
  Handle reader = open_region(ctx, g.name());
  ctx.expect_eq("owner_pid after another process opened it", static_cast<uint64_t>(peer->pid()),
                static_cast<uint64_t>(read_header(g.name()).owner_pid));
}

const RegisterChecks registered({
    {.name = "xproc.reader_in_another_process_shares_bytes",
     .summary =
         "a reader process sees the creator's bytes and capacity; the creator sees its writes",
     .run = reader_in_another_process_shares_bytes},
    {.name = "xproc.notify_here_wakes_a_waiter_there",
     .summary = "a notify wakes a zinc_wait(10000) sleeping in another process within 2 s",
     .run = notify_here_wakes_a_waiter_there},
    {.name = "xproc.notify_there_wakes_a_waiter_here",
     .summary = "a notify in another process wakes a zinc_wait(10000) sleeping here within 2 s",
     .run = notify_there_wakes_a_waiter_here},
    {.name = "xproc.every_waiting_process_wakes",
     .summary = "one notify wakes waiters sleeping in three other processes",
     .run = every_waiting_process_wakes},
    {.name = "xproc.wait_times_out_in_another_process",
     .summary = "zinc_wait(200) in another process with nothing pending returns -110 after ~200 ms",
     .run = wait_times_out_in_another_process},
    {.name = "xproc.owner_close_in_another_process_unlinks",
     .summary =
         "the owner process's close unlinks; open here returns -2; this mapping keeps its bytes",
     .run = owner_close_in_another_process_unlinks},
    {.name = "xproc.killed_creator_leaves_the_region_usable",
     .summary =
         "after SIGKILL of the creator the name stays, opens, keeps its bytes and wakes waiters",
     .run = killed_creator_leaves_the_region_usable},
    {.name = "xproc.unreaped_creator_leaves_the_region_usable",
     .summary = "after the creator exits unreaped (a zombie) the name stays, opens, keeps its "
                "bytes and wakes waiters",
     .run = unreaped_creator_leaves_the_region_usable},
    {.name = "xproc.owner_pid_is_the_creating_process",
     .summary = "owner_pid is the pid of the process that created the region",
     .run = owner_pid_is_the_creating_process},
});

}  // namespace
}  // namespace zinc::conformance
