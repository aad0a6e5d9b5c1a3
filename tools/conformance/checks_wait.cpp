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
#include <memory>
#include <thread>
#include <vector>

#include "check_support.hpp"
#include "raw_object.hpp"

namespace zinc::conformance {
namespace {

constexpr uint32_t kLongWaitMs = 10000;
constexpr int kWakeLimitMs = 2000;
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

void kit_notify_wakes_a_candidate_waiter(CheckContext& ctx) {
  // The kit plays another implementation: it bumps the u32 at offset 12 of
  // its own mapping and FUTEX_WAKEs it as a shared futex.
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  Handle reader = open_region(ctx, g.name());
  HeaderMapping kit(g.name());
  BackgroundWait waiter(ctx.zinc, reader, kLongWaitMs);
  note_if_not_asleep(ctx, waiter.asleep_within(kAsleepLimitMs), "the candidate's waiting thread");
  __atomic_fetch_add(kit.notify_seq(), 1, __ATOMIC_RELEASE);
  futex_wake_shared(kit.notify_seq());
  if (ctx.expect(waiter.returned_within(kWakeLimitMs),
                 "candidate zinc_wait(10000) after the kit's seq++ and shared FUTEX_WAKE",
                 "returns within 2 s",
                 "still waiting (is the futex private, or not at offset 12?)")) {
    ctx.expect_code("candidate zinc_wait(10000)", 0, waiter.rc());
  }
}

void candidate_notify_wakes_a_kit_waiter(CheckContext& ctx) {
  // The kit sleeps in a shared FUTEX_WAIT on its own mapping of the word.
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  HeaderMapping kit(g.name());
  uint32_t* word = kit.notify_seq();
  const uint32_t start_seq = __atomic_load_n(word, __ATOMIC_ACQUIRE);
  std::atomic<pid_t> tid{0};
  std::atomic<bool> woke{false};
  std::atomic<bool> done{false};
  std::thread sleeper([&] {
    tid.store(current_tid());
    woke.store(futex_wait_shared(word, start_seq, kLongWaitMs));
    done.store(true);
  });
  while (tid.load() == 0) usleep(100);
  wait_until_asleep(getpid(), tid.load(), kAsleepLimitMs);
  ctx.zinc.notify(owner.get());
  const int64_t deadline = monotonic_ms() + kWakeLimitMs;
  while (!done.load() && monotonic_ms() < deadline) usleep(500);
  const bool in_time = done.load();
  const uint32_t seq_after = read_header(g.name()).notify_seq;
  if (!in_time) {
    // Release the kit's own sleeper before judging.
    __atomic_fetch_add(word, 1, __ATOMIC_RELEASE);
    futex_wake_shared(word);
  }
  sleeper.join();
  ctx.expect(in_time && woke.load(), "the kit's shared FUTEX_WAIT on offset 12 after zinc_notify",
             "woken within 2 s", "still asleep after 2 s (private futex, or another word?)");
  ctx.expect_eq("notify_seq after one zinc_notify", start_seq + 1u, seq_after);
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
         "zinc_notify wakes a shared FUTEX_WAIT the kit sleeps in on offset 12 of its own mapping",
     .run = candidate_notify_wakes_a_kit_waiter},
});

}  // namespace
}  // namespace zinc::conformance
