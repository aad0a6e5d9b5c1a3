// wait.* and protocol.*: timeouts, wakes within a process, and the futex
// protocol itself spoken by the kit on its own mapping (docs/spec.md §5).
//
// A wake check first makes sure the waiter is asleep in the kernel, so a
// wake that does not reach it cannot pass by luck; bounds are generous
// (a woken waiter must return within 2 s of a 10 s wait).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "check_support.hpp"
#include "raw_object.hpp"

namespace zinc::conformance {
namespace {

constexpr int kAsleepLimitMs = 2000;

void note_if_not_asleep(CheckContext& ctx, bool asleep, const std::string& who) {
  if (!asleep)
    ctx.note(who + " was not seen asleep within 2 s (a spinning wait?); notified anyway");
}

void zero_timeout_checks_once(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  const int64_t start = monotonic_ms();
  const int32_t rc = ctx.zinc.wait(owner.get(), 0);
  const int64_t elapsed = monotonic_ms() - start;
  ctx.expect_code("zinc_wait(h, 0) with nothing pending", ZINC_ETIMEDOUT, rc);
  ctx.expect(elapsed < 1000, "time zinc_wait(h, 0) took", "< 1000 ms (no waiting)",
             std::to_string(elapsed) + " ms");
  ctx.zinc.notify(owner.get());
  ctx.expect_code("zinc_wait(h, 0) with one pending", 0, ctx.zinc.wait(owner.get(), 0));
}

void times_out_after_its_timeout(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  for (uint32_t timeout : {50u, 300u}) {
    const int64_t start = monotonic_ms();
    const int32_t rc = ctx.zinc.wait(owner.get(), timeout);
    const int64_t elapsed = monotonic_ms() - start;
    const std::string label = "zinc_wait(h, " + std::to_string(timeout) + ") with nothing pending";
    ctx.expect_code(label, ZINC_ETIMEDOUT, rc);
    ctx.expect(elapsed >= timeout * 9 / 10 && elapsed <= timeout + 2000, "time " + label + " took",
               "between " + std::to_string(timeout * 9 / 10) + " and " +
                   std::to_string(timeout + 2000) + " ms",
               std::to_string(elapsed) + " ms");
  }
}

void notify_from_another_thread_wakes_it(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  Handle reader = open_region(ctx, g.name());
  BackgroundWait waiter(ctx.zinc, reader, kLongWaitMs);
  note_if_not_asleep(ctx, waiter.asleep_within(kAsleepLimitMs), "the waiting thread");
  owner.data()[0] = 42;
  ctx.zinc.notify(owner.get());
  if (ctx.expect(waiter.returned_within(kWakeLimitMs), "zinc_wait(reader, 10000) after a notify",
                 "returns within 2 s", "still waiting after 2 s")) {
    ctx.expect_code("zinc_wait(reader, 10000) after a notify", 0, waiter.rc());
    ctx.expect_eq("reader's byte 0 (written before the notify)", 42, reader.data()[0]);
  }
}

void notify_wakes_every_waiting_handle(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  constexpr int kWaiters = 4;
  std::vector<std::unique_ptr<Handle>> readers;
  std::vector<std::unique_ptr<BackgroundWait>> waiters;
  for (int i = 0; i < kWaiters; ++i) {
    readers.push_back(std::make_unique<Handle>(open_region(ctx, g.name())));
    waiters.push_back(std::make_unique<BackgroundWait>(ctx.zinc, *readers.back(), kLongWaitMs));
  }
  for (int i = 0; i < kWaiters; ++i) {
    note_if_not_asleep(ctx, waiters[i]->asleep_within(kAsleepLimitMs),
                       "waiter " + std::to_string(i));
  }
  ctx.zinc.notify(owner.get());
  const int64_t deadline = monotonic_ms() + kWakeLimitMs;
  for (int i = 0; i < kWaiters; ++i) {
    const std::string label = "waiter " + std::to_string(i) + ": zinc_wait(own handle, 10000)";
    const int64_t left = std::max<int64_t>(0, deadline - monotonic_ms());
    if (ctx.expect(waiters[i]->returned_within(static_cast<int>(left)), label,
                   "returns within 2 s of one notify", "still waiting")) {
      ctx.expect_code(label, 0, waiters[i]->rc());
    }
  }
  waiters.clear();  // before the handles they wait on
}

uint32_t sleepers_of(const std::string& name) {
  const std::vector<uint8_t> raw = read_object_range(name, 0, kWaiterCountEnd);
  return raw.size() < kWaiterCountEnd ? 0 : decode_waiter_count(raw.data()).sleepers;
}

// A counted waiter registers in `sleepers` before its futex wait and leaves
// after it, however the wait ends (docs/spec.md §9.4): a timed-out wait that
// stayed counted would make every later notify wake for nobody.
void timed_out_wait_leaves_the_sleeper_count(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  Handle reader = open_region(ctx, g.name());
  const uint32_t before = sleepers_of(g.name());
  ctx.expect_eq("u32 at 80 (sleepers) with nobody waiting", 0, before);
  for (uint32_t timeout : {20u, 150u, 150u}) {
    const int32_t rc = ctx.zinc.wait(reader.get(), timeout);
    const std::string label = "zinc_wait(reader, " + std::to_string(timeout) + ")";
    ctx.expect_code(label + " with nothing pending", ZINC_ETIMEDOUT, rc);
    ctx.expect_eq("u32 at 80 (sleepers) after " + label + " timed out", before,
                  sleepers_of(g.name()));
  }
  // And one that is woken leaves it as well.
  BackgroundWait waiter(ctx.zinc, reader, kLongWaitMs);
  note_if_not_asleep(ctx, waiter.asleep_within(kAsleepLimitMs), "the waiting thread");
  ctx.zinc.notify(owner.get());
  if (ctx.expect(waiter.returned_within(kWakeLimitMs), "zinc_wait(reader, 10000) after a notify",
                 "returns within 2 s", "still waiting after 2 s")) {
    ctx.expect_eq("u32 at 80 (sleepers) after a woken wait", before, sleepers_of(g.name()));
  }
}

void wake_without_a_change_is_not_a_notification(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  Handle reader = open_region(ctx, g.name());
  HeaderMapping kit(g.name());
  BackgroundWait waiter(ctx.zinc, reader, 1200);
  note_if_not_asleep(ctx, waiter.asleep_within(1000), "the waiting thread");
  // FUTEX_WAKE on the word without changing it: spurious wakes.
  for (int i = 0; i < 5 && !waiter.returned_within(50); ++i) futex_wake_shared(kit.notify_seq());
  ctx.require(waiter.returned_within(5000), "zinc_wait(reader, 1200)", "returns by its timeout",
              "still waiting 5 s later");
  ctx.expect_code("zinc_wait(reader, 1200) woken 5 times without a notify", ZINC_ETIMEDOUT,
                  waiter.rc());
  ctx.expect(waiter.elapsed_ms() >= 1000, "time it took", ">= ~1200 ms (the full timeout)",
             std::to_string(waiter.elapsed_ms()) + " ms");
}

void close_from_another_thread_cancels_it(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  Handle reader = open_region(ctx, g.name());
  BackgroundWait waiter(ctx.zinc, reader, kLongWaitMs);
  note_if_not_asleep(ctx, waiter.asleep_within(kAsleepLimitMs), "the waiting thread");
  const ZincHandle h = reader.get();
  reader.leak();  // closed here, by hand
  const int64_t start = monotonic_ms();
  ctx.zinc.close(h);
  const int64_t close_ms = monotonic_ms() - start;
  if (ctx.expect(waiter.returned_within(kWakeLimitMs), "zinc_wait(h, 10000) while h is closed",
                 "returns within 2 s", "still waiting")) {
    ctx.expect_code("zinc_wait(h, 10000) while h is closed", ZINC_ECANCELED, waiter.rc());
  }
  ctx.expect(close_ms < kWakeLimitMs, "time zinc_close(h) took", "< 2000 ms",
             std::to_string(close_ms) + " ms");
}

void ping_pong_between_threads_loses_nothing(CheckContext& ctx) {
  // Two regions, strictly alternating, so every wait has exactly one
  // notification to wait for. A wake that does not arrive shows up as a wait
  // that times out or returns only at its deadline.
  ObjectGuard ping_name(ctx.unique_name());
  ObjectGuard pong_name(ctx.unique_name());
  Handle ping_w = create_region(ctx, ping_name.name(), ctx.page());
  Handle pong_w = create_region(ctx, pong_name.name(), ctx.page());
  Handle ping_r = open_region(ctx, ping_name.name());
  Handle pong_r = open_region(ctx, pong_name.name());
  constexpr uint32_t kRounds = 3000;
  constexpr uint32_t kWaitMs = 2000;
  // A wait that takes this long was not woken; it saw the change at its deadline.
  constexpr int64_t kSlowMs = 1000;
  std::atomic<bool> stop{false};
  std::thread echo([&] {
    for (uint32_t i = 1; i <= kRounds && !stop.load(); ++i) {
      if (ctx.zinc.wait(ping_r.get(), kWaitMs) != 0) return;
      uint32_t value;
      std::memcpy(&value, ping_r.data(), 4);
      std::memcpy(pong_w.data(), &value, 4);
      ctx.zinc.notify(pong_w.get());
    }
  });
  uint32_t round = 1;
  for (; round <= kRounds; ++round) {
    std::memcpy(ping_w.data(), &round, 4);
    ctx.zinc.notify(ping_w.get());
    const int64_t start = monotonic_ms();
    const int32_t rc = ctx.zinc.wait(pong_r.get(), kWaitMs);
    const int64_t elapsed = monotonic_ms() - start;
    if (rc != 0 || elapsed >= kSlowMs) {
      ctx.expect(false, "round " + std::to_string(round) + ": zinc_wait for the echo",
                 "0 within " + std::to_string(kSlowMs) + " ms",
                 describe_code(rc) + " after " + std::to_string(elapsed) + " ms");
      break;
    }
    uint32_t echoed;
    std::memcpy(&echoed, pong_r.data(), 4);
    if (!ctx.expect_eq("value echoed in round " + std::to_string(round), round, echoed)) break;
  }
  stop.store(true);
  ctx.zinc.notify(ping_w.get());  // lets the echo thread leave
  echo.join();
  if (round > kRounds) ctx.note(std::to_string(kRounds) + " rounds without a lost wake");
}

// The kit joins the region as a plain v2 peer (ref_count + 1, as an open);
// stops the check if the candidate's ref_count refuses it.
void join_as_plain_peer(CheckContext& ctx, PlainParticipant& kit) {
  uint32_t found = 0;
  ctx.require(kit.join(&found), "ref_count the kit found when it joined as a plain peer",
              "1 .. 2^32-2 (an open increments it)", std::to_string(found));
}

struct KitSleep {
  bool woken = false;       // the kit's FUTEX_WAIT returned within 2 s of the notify
  uint32_t seq_before = 0;  // notify_seq the kit slept on
  uint32_t seq_after = 0;   // notify_seq once the notify returned (or 2 s later)
};

// The kit sleeps in a shared FUTEX_WAIT on `word` (its own mapping of
// notify_seq), seen asleep in the kernel before `notify` runs. Its sleeper
// is released before this returns, woken or not.
KitSleep kit_sleeps_through(uint32_t* word, const std::function<void()>& notify) {
  KitSleep result;
  result.seq_before = __atomic_load_n(word, __ATOMIC_SEQ_CST);
  std::atomic<pid_t> tid{0};
  std::atomic<bool> woke{false};
  std::atomic<bool> done{false};
  std::thread sleeper([&] {
    tid.store(current_tid());
    woke.store(futex_wait_shared(word, result.seq_before, kLongWaitMs));
    done.store(true);
  });
  while (tid.load() == 0) usleep(100);
  wait_until_asleep(getpid(), tid.load(), kAsleepLimitMs);
  notify();
  const int64_t deadline = monotonic_ms() + kWakeLimitMs;
  while (!done.load() && monotonic_ms() < deadline) usleep(500);
  const bool in_time = done.load();
  result.seq_after = __atomic_load_n(word, __ATOMIC_SEQ_CST);
  if (!in_time) {
    // Release the kit's own sleeper before judging.
    __atomic_fetch_add(word, 1, __ATOMIC_SEQ_CST);
    futex_wake_shared(word);
  }
  sleeper.join();
  result.woken = in_time && woke.load();
  return result;
}

void kit_notify_wakes_a_candidate_waiter(CheckContext& ctx) {
  // The kit plays another implementation that opened the region: it bumps
  // the u32 at offset 12 of its own mapping and FUTEX_WAKEs it as a shared
  // futex.
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  Handle reader = open_region(ctx, g.name());
  PlainParticipant kit(g.name());
  join_as_plain_peer(ctx, kit);
  BackgroundWait waiter(ctx.zinc, reader, kLongWaitMs);
  note_if_not_asleep(ctx, waiter.asleep_within(kAsleepLimitMs), "the candidate's waiting thread");
  __atomic_fetch_add(kit.notify_seq(), 1, __ATOMIC_SEQ_CST);
  futex_wake_shared(kit.notify_seq());
  if (ctx.expect(waiter.returned_within(kWakeLimitMs),
                 "candidate zinc_wait(10000) after the kit's seq++ and shared FUTEX_WAKE",
                 "returns within 2 s",
                 "still waiting (is the futex private, or not at offset 12?)")) {
    ctx.expect_code("candidate zinc_wait(10000)", 0, waiter.rc());
  }
}

void candidate_notify_wakes_a_kit_waiter(CheckContext& ctx) {
  // The kit plays another implementation that opened the region (ref_count
  // + 1, as every participant has) and sleeps in a shared FUTEX_WAIT on its
  // own mapping of the word.
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  PlainParticipant kit(g.name());
  join_as_plain_peer(ctx, kit);
  const KitSleep sleep =
      kit_sleeps_through(kit.notify_seq(), [&] { ctx.zinc.notify(owner.get()); });
  ctx.expect(sleep.woken, "the kit's shared FUTEX_WAIT on offset 12 after zinc_notify",
             "woken within 2 s",
             "still asleep after 2 s (private futex, another word, or a skipped wake?)");
  ctx.expect_eq("notify_seq after one zinc_notify", sleep.seq_before + 1u, sleep.seq_after);
}

void notify_wakes_a_plain_peer_beside_counted_handles(CheckContext& ctx) {
  // docs/spec.md §9.5 (2): a plain v2 peer sleeps without registering in the
  // waiter-count block; only its ref_count increment tells a notifier it may
  // be asleep. Here both candidate handles are counted and no sleeper is
  // registered, so a notify that skipped FUTEX_WAKE on `sleepers == 0`
  // alone, or on counted handles alone, would leave the kit asleep.
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  Handle reader = open_region(ctx, g.name());
  PlainParticipant kit(g.name());
  join_as_plain_peer(ctx, kit);
  const std::vector<uint8_t> raw = read_object(g.name());
  ctx.require(raw.size() >= kWaiterCountEnd, "object size", ">= 128", std::to_string(raw.size()));
  const HeaderFields h = decode_header(raw.data());
  const WaiterCountFields w = decode_waiter_count(raw.data());
  ctx.require(w.tag == (kWaiterCountMagic ^ h.created_at), "u64 at 64 (waiter-count tag)",
              hex(kWaiterCountMagic ^ h.created_at) + " (the extension in force)", hex(w.tag));
  ctx.require(w.counted_handles == 2 && w.sleepers == 0 && h.ref_count == 3,
              "counted_handles, sleepers, ref_count before the kit sleeps",
              "2 (owner and reader), 0, 3 (the kit too)",
              std::to_string(w.counted_handles) + ", " + std::to_string(w.sleepers) + ", " +
                  std::to_string(h.ref_count));
  const std::pair<const char*, ZincHandle> notifiers[] = {{"owner", owner.get()},
                                                          {"reader", reader.get()}};
  for (const auto& notifier : notifiers) {
    // Not a structured binding: clang 14 cannot capture those in a lambda.
    const char* who = notifier.first;
    ZincHandle handle = notifier.second;
    const KitSleep sleep = kit_sleeps_through(kit.notify_seq(), [&] { ctx.zinc.notify(handle); });
    ctx.expect(sleep.woken,
               std::string("the kit's FUTEX_WAIT (in ref_count, not in the block) after "
                           "zinc_notify(") +
                   who + ")",
               "woken within 2 s",
               "still asleep after 2 s: the notify skipped FUTEX_WAKE although ref_count 3 > 2 "
               "counted handles");
  }
}

const RegisterChecks registered({
    {.name = "wait.zero_timeout_checks_once",
     .summary = "zinc_wait(h, 0): -110 at once when nothing is pending, 0 when something is",
     .run = zero_timeout_checks_once},
    {.name = "wait.times_out_after_its_timeout",
     .summary =
         "zinc_wait(h, 50 / 300) with nothing pending: -110 after ~the timeout (0.9x .. +2 s)",
     .run = times_out_after_its_timeout},
    {.name = "wait.notify_from_another_thread_wakes_it",
     .summary = "a sleeping zinc_wait(10000) returns 0 within 2 s of a notify, data visible",
     .run = notify_from_another_thread_wakes_it},
    {.name = "wait.notify_wakes_every_waiting_handle",
     .summary = "one notify wakes four sleeping waiters on four handles",
     .run = notify_wakes_every_waiting_handle},
    {.name = "wait.timed_out_wait_leaves_the_sleeper_count",
     .requirement = Requirement::kExtension,
     .summary = "waiter count: after zinc_wait(h, 20 / 150) times out, and after a woken wait, "
                "the sleepers word is what it was before",
     .run = timed_out_wait_leaves_the_sleeper_count},
    {.name = "wait.wake_without_a_change_is_not_a_notification",
     .summary = "FUTEX_WAKEs without a seq change do not end a wait: it times out with -110",
     .run = wake_without_a_change_is_not_a_notification},
    {.name = "wait.close_from_another_thread_cancels_it",
     .requirement = Requirement::kExtension,
     .summary = "zinc_close of a handle another thread waits on returns, and the wait returns -125",
     .run = close_from_another_thread_cancels_it},
    {.name = "wait.ping_pong_between_threads_loses_nothing",
     .summary =
         "3000 strictly alternating notify/wait rounds between two threads: every wait is woken",
     .run = ping_pong_between_threads_loses_nothing},
    {.name = "protocol.kit_notify_wakes_a_candidate_waiter",
     .summary =
         "seq++ and a shared FUTEX_WAKE on offset 12, done by the kit, wake the candidate's wait",
     .run = kit_notify_wakes_a_candidate_waiter},
    {.name = "protocol.candidate_notify_wakes_a_kit_waiter",
     .summary =
         "zinc_notify wakes a shared FUTEX_WAIT the kit (in ref_count, as every opener) sleeps in "
         "on offset 12 of its own mapping",
     .run = candidate_notify_wakes_a_kit_waiter},
    {.name = "protocol.notify_wakes_a_plain_peer_beside_counted_handles",
     .requirement = Requirement::kExtension,
     .summary = "waiter count: with both candidate handles counted and no sleeper registered, "
                "zinc_notify still wakes a kit waiter counted only in ref_count",
     .run = notify_wakes_a_plain_peer_beside_counted_handles},
});

}  // namespace
}  // namespace zinc::conformance
