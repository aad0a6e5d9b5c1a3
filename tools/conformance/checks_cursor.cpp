// cursor.*: the per-handle cursor (docs/spec.md §5.2, §5.3): where it
// starts, coalescing, own notifications, independence, wrap-around.
#include <atomic>
#include <thread>
#include <vector>

#include "check_support.hpp"
#include "raw_object.hpp"

namespace zinc::conformance {
namespace {

void try_wait_with_nothing_pending_is_eagain(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  Handle reader = open_region(ctx, g.name());
  ctx.expect_code("zinc_try_wait(owner) on a fresh region", ZINC_EAGAIN,
                  ctx.zinc.try_wait(owner.get()));
  ctx.expect_code("zinc_try_wait(reader) on a fresh region", ZINC_EAGAIN,
                  ctx.zinc.try_wait(reader.get()));
  ctx.zinc.notify(owner.get());
  ctx.expect_code("zinc_try_wait(reader) after a notify", 0, ctx.zinc.try_wait(reader.get()));
  ctx.expect_code("zinc_try_wait(reader) once that was consumed", ZINC_EAGAIN,
                  ctx.zinc.try_wait(reader.get()));
}

void own_notification_is_pending(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  ctx.zinc.notify(owner.get());
  ctx.expect_code("zinc_try_wait(owner) after its own notify", 0, ctx.zinc.try_wait(owner.get()));
  ctx.expect_code("zinc_try_wait(owner) again", ZINC_EAGAIN, ctx.zinc.try_wait(owner.get()));
  ctx.zinc.notify(owner.get());
  ctx.expect_code("zinc_wait(owner, 1000) after its own notify", 0,
                  ctx.zinc.wait(owner.get(), 1000));
}

void notifications_coalesce(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  Handle reader = open_region(ctx, g.name());
  for (int i = 0; i < 3; ++i) ctx.zinc.notify(owner.get());
  ctx.expect_code("zinc_try_wait(reader) after three notifies", 0, ctx.zinc.try_wait(reader.get()));
  ctx.expect_code("a second zinc_try_wait(reader): the three coalesced into one", ZINC_EAGAIN,
                  ctx.zinc.try_wait(reader.get()));
  ctx.expect_code("zinc_wait(reader, 0) after that", ZINC_ETIMEDOUT,
                  ctx.zinc.wait(reader.get(), 0));
}

void new_handle_sees_earlier_notifications_as_pending(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  ctx.zinc.notify(owner.get());
  ctx.zinc.notify(owner.get());
  Handle reader = open_region(ctx, g.name());
  ctx.expect_code("zinc_try_wait on a handle opened after two notifies (cursor starts at 0)", 0,
                  ctx.zinc.try_wait(reader.get()));
  ctx.expect_code("zinc_try_wait on it again", ZINC_EAGAIN, ctx.zinc.try_wait(reader.get()));
  Handle late = open_region(ctx, g.name());
  ctx.expect_code("zinc_wait(0) on another handle opened after them", 0,
                  ctx.zinc.wait(late.get(), 0));

  // A region someone else notified 7 times, opened fresh.
  ObjectGuard planted(ctx.unique_name());
  std::vector<uint8_t> page = valid_header_page(planted.name(), ctx.page());
  store_le(page.data() + offset::kNotifySeq, 4, 7);
  plant_object(planted.name(), page, 2 * ctx.page());
  Handle fresh = open_region(ctx, planted.name());
  ctx.expect_code("zinc_try_wait on a fresh handle to a region with notify_seq 7", 0,
                  ctx.zinc.try_wait(fresh.get()));
}

void handles_have_independent_cursors(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  Handle first = open_region(ctx, g.name());
  Handle second = open_region(ctx, g.name());
  ctx.zinc.notify(owner.get());
  ctx.expect_code("zinc_try_wait(first reader)", 0, ctx.zinc.try_wait(first.get()));
  ctx.expect_code("zinc_try_wait(first reader) again", ZINC_EAGAIN, ctx.zinc.try_wait(first.get()));
  ctx.expect_code("zinc_try_wait(second reader): its own cursor", 0,
                  ctx.zinc.try_wait(second.get()));
  ctx.expect_code("zinc_try_wait(owner): its own cursor", 0, ctx.zinc.try_wait(owner.get()));
}

void wait_and_try_wait_share_the_cursor(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  Handle reader = open_region(ctx, g.name());
  ctx.zinc.notify(owner.get());
  ctx.expect_code("zinc_wait(reader, 0) after a notify", 0, ctx.zinc.wait(reader.get(), 0));
  ctx.expect_code("zinc_try_wait(reader): the wait consumed it", ZINC_EAGAIN,
                  ctx.zinc.try_wait(reader.get()));
  ctx.zinc.notify(owner.get());
  ctx.expect_code("zinc_try_wait(reader) after another notify", 0, ctx.zinc.try_wait(reader.get()));
  ctx.expect_code("zinc_wait(reader, 0): the try_wait consumed it", ZINC_ETIMEDOUT,
                  ctx.zinc.wait(reader.get(), 0));
}

void wait_consumes_a_notification_published_before_the_call(CheckContext& ctx) {
  // The notify lands after the reader last looked and before it sleeps: the
  // wait must compare against its cursor, not the value it finds on entry.
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  Handle reader = open_region(ctx, g.name());
  for (int round = 1; round <= 3; ++round) {
    ctx.zinc.notify(owner.get());
    const int64_t start = monotonic_ms();
    const int32_t rc = ctx.zinc.wait(reader.get(), 1500);
    const int64_t elapsed = monotonic_ms() - start;
    ctx.expect_code("round " + std::to_string(round) +
                        ": zinc_wait(reader, 1500) after a notify it had not consumed",
                    0, rc);
    if (rc == 0) {
      ctx.expect(elapsed < 1000, "round " + std::to_string(round) + ": time to return",
                 "at once (< 1000 ms)", std::to_string(elapsed) + " ms");
    }
  }
}

void sequence_wraps_modulo_2_32(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  std::vector<uint8_t> seq(4);
  store_le(seq.data(), 4, 0xfffffffeu);
  patch_object(g.name(), offset::kNotifySeq, seq);
  Handle reader = open_region(ctx, g.name());
  ctx.expect_code("zinc_try_wait(reader) at notify_seq 0xfffffffe", 0,
                  ctx.zinc.try_wait(reader.get()));
  ctx.zinc.notify(owner.get());
  ctx.expect(read_header(g.name()).notify_seq == 0xffffffffu, "notify_seq after one notify",
             "0xffffffff", hex(read_header(g.name()).notify_seq));
  ctx.expect_code("zinc_try_wait(reader) at 0xffffffff", 0, ctx.zinc.try_wait(reader.get()));
  ctx.zinc.notify(owner.get());
  ctx.expect_eq("notify_seq after the notify that wraps", 0, read_header(g.name()).notify_seq);
  ctx.expect_code("zinc_try_wait(reader) after the wrap to 0", 0, ctx.zinc.try_wait(reader.get()));
  ctx.expect_code("zinc_try_wait(reader) again", ZINC_EAGAIN, ctx.zinc.try_wait(reader.get()));
  ctx.zinc.notify(owner.get());
  ctx.expect_code("zinc_wait(reader, 1000) at 1 after the wrap", 0,
                  ctx.zinc.wait(reader.get(), 1000));
}

void one_change_is_reported_to_one_caller(CheckContext& ctx) {
  // Threads sharing a handle: each notification is consumed exactly once.
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  Handle shared = open_region(ctx, g.name());
  constexpr int kRounds = 300;
  constexpr int kThreads = 4;
  for (int round = 0; round < kRounds; ++round) {
    ctx.zinc.notify(owner.get());
    std::atomic<int> consumed{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        while (!go.load()) {
        }
        if (ctx.zinc.try_wait(shared.get()) == 0) consumed.fetch_add(1);
      });
    }
    go.store(true);
    for (auto& t : threads) t.join();
    if (!ctx.expect_eq(
            "round " + std::to_string(round) + ": try_waits that reported the one notification", 1,
            static_cast<uint64_t>(consumed.load()))) {
      break;
    }
  }
}

const RegisterChecks registered({
    {.name = "cursor.try_wait_with_nothing_pending_is_eagain",
     .summary = "zinc_try_wait returns -11 when nothing is pending and 0 when a notification is",
     .run = try_wait_with_nothing_pending_is_eagain},
    {.name = "cursor.own_notification_is_pending",
     .summary = "a handle sees its own notifications (try_wait 0, then -11)",
     .run = own_notification_is_pending},
    {.name = "cursor.notifications_coalesce",
     .summary = "three notifies before a try_wait are consumed by one try_wait",
     .run = notifications_coalesce},
    {.name = "cursor.new_handle_sees_earlier_notifications_as_pending",
     .summary = "a handle's cursor starts at 0, so a handle opened after notifies has one pending",
     .run = new_handle_sees_earlier_notifications_as_pending},
    {.name = "cursor.handles_have_independent_cursors",
     .summary = "consuming on one handle leaves the notification pending on the others",
     .run = handles_have_independent_cursors},
    {.name = "cursor.wait_and_try_wait_share_the_cursor",
     .summary = "what zinc_wait consumed zinc_try_wait does not see again, and the other way round",
     .run = wait_and_try_wait_share_the_cursor},
    {.name = "cursor.wait_consumes_a_notification_published_before_the_call",
     .summary =
         "a notify that lands before the waiter sleeps is not lost: zinc_wait returns 0 at once",
     .run = wait_consumes_a_notification_published_before_the_call},
    {.name = "cursor.sequence_wraps_modulo_2_32",
     .summary = "notify_seq wraps from 0xffffffff to 0 and the cursor follows it",
     .run = sequence_wraps_modulo_2_32},
    {.name = "cursor.one_change_is_reported_to_one_caller",
     .requirement = Requirement::kExtension,
     .summary = "threads racing try_wait on one handle: each notification is reported exactly once",
     .run = one_change_is_reported_to_one_caller},
});

}  // namespace
}  // namespace zinc::conformance
