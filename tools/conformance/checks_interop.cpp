// interop.*: the candidate (in the check process) and the reference (in a
// peer process) on one region, each way round: who creates, who opens,
// notifications both ways, data both ways, who unlinks.
#include <memory>

#include "check_support.hpp"
#include "peer.hpp"
#include "raw_object.hpp"

namespace zinc::conformance {
namespace {

// Asks the reference peer to zinc_inspect `name` and expects `code`. The
// reference may be a build without the additions (zinc_inspect among them):
// then it answers "rc none", nothing is expected, and the caller checks by
// other means. A port never fails because its peer lacks an addition.
bool reference_inspects(CheckContext& ctx, Peer& reference, const std::string& name, int32_t code) {
  const std::string answer = reference.call("inspect " + name);
  if (answer == "rc none") {
    ctx.note("the reference lacks zinc_inspect (an addition): checked with zinc_open instead");
    return false;
  }
  ctx.expect(answer == rc_line(code), "reference: inspect " + name, rc_line(code), answer);
  return true;
}

void candidate_creates_reference_opens(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  const uint64_t capacity = 3 * ctx.page();
  Handle owner = create_region(ctx, g.name(), capacity);
  fill_pattern(owner.data(), capacity, 11);
  auto reference = ctx.reference_peer();
  // The reference validates every header field it knows, name_hash included
  // (its open does too, so a reference without zinc_inspect still checks).
  reference_inspects(ctx, *reference, g.name(), 0);
  require_answer(ctx, *reference, "open " + g.name(), rc_line(0));
  expect_answer(ctx, *reference, "capacity", "capacity " + std::to_string(capacity));
  expect_answer(ctx, *reference, "verify 11", "ok");
  require_answer(ctx, *reference, "fill 12", "ok");
  ctx.expect_eq("bytes here that differ from what the reference wrote", 0,
                pattern_mismatches(owner.data(), capacity, 12));
  ctx.expect_eq("ref_count with the reference's handle open", 2, read_header(g.name()).ref_count);
}

void reference_creates_candidate_opens(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  const uint64_t capacity = 2 * ctx.page();
  auto reference = ctx.reference_peer();
  require_answer(ctx, *reference, "create " + g.name() + " " + std::to_string(capacity),
                 rc_line(0));
  require_answer(ctx, *reference, "fill 21", "ok");
  Handle reader = open_region(ctx, g.name());
  ctx.expect_eq("zinc_capacity here", capacity, ctx.zinc.capacity(reader.get()));
  ctx.expect_eq("bytes here that differ from what the reference wrote", 0,
                pattern_mismatches(reader.data(), capacity, 21));
  fill_pattern(reader.data(), capacity, 22);
  expect_answer(ctx, *reference, "verify 22", "ok");
  ctx.expect_eq("ref_count with this handle open", 2, read_header(g.name()).ref_count);
}

void candidate_notify_wakes_reference_waiter(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  auto reference = ctx.reference_peer();
  require_answer(ctx, *reference, "open " + g.name(), rc_line(0));
  start_peer_wait(ctx, *reference, kLongWaitMs);
  owner.data()[0] = 0x5a;
  ctx.zinc.notify(owner.get());
  int32_t rc = 0;
  if (peer_wait_result(ctx, *reference, "reference: zinc_wait(10000) after a candidate notify",
                       "returns within 2 s", kWakeLimitMs, &rc)) {
    ctx.expect_code("reference: zinc_wait(10000)", 0, rc);
    expect_answer(ctx, *reference, "read 0 1", "bytes 5a");
  }
}

void reference_notify_wakes_candidate_waiter(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  auto reference = ctx.reference_peer();
  require_answer(ctx, *reference, "create " + g.name() + " " + std::to_string(ctx.page()),
                 rc_line(0));
  Handle reader = open_region(ctx, g.name());
  BackgroundWait waiter(ctx.zinc, reader, kLongWaitMs);
  if (!waiter.asleep_within(2000)) ctx.note("the waiting thread was not seen asleep within 2 s");
  require_answer(ctx, *reference, "write 0 a5", "ok");
  require_answer(ctx, *reference, "notify", "ok");
  if (ctx.expect(waiter.returned_within(kWakeLimitMs),
                 "candidate zinc_wait(10000) after a reference notify", "returns within 2 s",
                 "still waiting")) {
    ctx.expect_code("candidate zinc_wait(10000)", 0, waiter.rc());
    ctx.expect_eq("byte 0 here (the reference wrote 0xa5)", 0xa5, reader.data()[0]);
  }
}

void cursors_agree_across_implementations(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  ctx.zinc.notify(owner.get());
  ctx.zinc.notify(owner.get());
  auto reference = ctx.reference_peer();
  require_answer(ctx, *reference, "open " + g.name(), rc_line(0));
  expect_answer(ctx, *reference, "try_wait", rc_line(0));  // cursor starts at 0
  expect_answer(ctx, *reference, "try_wait", rc_line(ZINC_EAGAIN));
  ctx.expect_code("candidate owner: zinc_try_wait (its own two notifies)", 0,
                  ctx.zinc.try_wait(owner.get()));
  require_answer(ctx, *reference, "notify", "ok");
  ctx.expect_code("candidate owner: zinc_try_wait after the reference's notify", 0,
                  ctx.zinc.try_wait(owner.get()));
  ctx.expect_code("candidate owner: zinc_try_wait again", ZINC_EAGAIN,
                  ctx.zinc.try_wait(owner.get()));
  expect_answer(ctx, *reference, "try_wait", rc_line(0));  // its own notify
  ctx.expect_eq("notify_seq after two candidate and one reference notify", 3,
                read_header(g.name()).notify_seq);
}

void candidate_owner_close_unlinks_for_the_reference(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  fill_pattern(owner.data(), ctx.page(), 31);
  auto reference = ctx.reference_peer();
  require_answer(ctx, *reference, "open " + g.name(), rc_line(0));
  owner.close();
  if (!reference_inspects(ctx, *reference, g.name(), ZINC_ENOENT)) {
    auto late = ctx.reference_peer();
    expect_answer(ctx, *late, "open " + g.name(), rc_line(ZINC_ENOENT));
  }
  expect_answer(ctx, *reference, "verify 31", "ok");  // its mapping survives
  ctx.expect(!object_exists(g.name()), object_path(g.name()) + " after the candidate owner's close",
             "unlinked", "still there");
}

void reference_owner_close_unlinks_for_the_candidate(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  auto reference = ctx.reference_peer();
  require_answer(ctx, *reference, "create " + g.name() + " " + std::to_string(ctx.page()),
                 rc_line(0));
  require_answer(ctx, *reference, "fill 41", "ok");
  Handle reader = open_region(ctx, g.name());
  require_answer(ctx, *reference, "close", "ok");
  ZincHandle out = junk_handle();
  const int32_t rc = ctx.zinc.open(g.c_str(), &out);
  ctx.expect_code("candidate zinc_open after the reference owner's close", ZINC_ENOENT, rc);
  if (rc == 0) ctx.zinc.close(out);
  ctx.expect_eq("bytes of the candidate's mapping that changed after the owner left", 0,
                pattern_mismatches(reader.data(), ctx.page(), 41));
}

const RegisterChecks registered({
    {.name = "interop.candidate_creates_reference_opens",
     .summary = "the reference inspects and opens a candidate-made region; data crosses both ways",
     .needs_reference = true,
     .run = candidate_creates_reference_opens},
    {.name = "interop.reference_creates_candidate_opens",
     .summary = "the candidate opens a reference-made region; data crosses both ways",
     .needs_reference = true,
     .run = reference_creates_candidate_opens},
    {.name = "interop.candidate_notify_wakes_reference_waiter",
     .summary = "a candidate notify wakes a reference zinc_wait(10000) sleeping in another process",
     .needs_reference = true,
     .run = candidate_notify_wakes_reference_waiter},
    {.name = "interop.reference_notify_wakes_candidate_waiter",
     .summary = "a reference notify in another process wakes a candidate zinc_wait(10000)",
     .needs_reference = true,
     .run = reference_notify_wakes_candidate_waiter},
    {.name = "interop.cursors_agree_across_implementations",
     .summary = "start-at-0 cursors, own notifications and coalescing agree between the two",
     .needs_reference = true,
     .run = cursors_agree_across_implementations},
    {.name = "interop.candidate_owner_close_unlinks_for_the_reference",
     .summary =
         "after a candidate owner's close the reference sees no region (-2) but keeps its mapping",
     .needs_reference = true,
     .run = candidate_owner_close_unlinks_for_the_reference},
    {.name = "interop.reference_owner_close_unlinks_for_the_candidate",
     .summary =
         "after a reference owner's close the candidate's open returns -2; its mapping survives",
     .needs_reference = true,
     .run = reference_owner_close_unlinks_for_the_candidate},
});

}  // namespace
}  // namespace zinc::conformance
