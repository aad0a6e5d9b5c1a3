// wait.* and protocol.* rules that real ports broke while every other check
// passed: a signal storm during a wait (docs/spec.md §5.4), a spin that
// outlives the wait's deadline (§9.6), the guard of the sleeper count at its
// wrap (§9.4, §9.5 (4)), and two threads waiting on one handle (§5.3, §5.5).
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "check_support.hpp"
#include "raw_object.hpp"

namespace zinc::conformance {
namespace {

extern "C" void count_signal(int) {}

// A thread that waits on `handle` with `timeout_ms`, and stays alive (so its
// thread id stays valid for tgkill) until the check lets it go.
class SignalledWait {
 public:
  SignalledWait(const Api& api, ZincHandle handle, uint32_t timeout_ms) {
    thread_ = std::thread([this, &api, handle, timeout_ms] {
      tid_.store(current_tid());
      const int64_t start = monotonic_ms();
      rc_.store(api.wait(handle, timeout_ms));
      elapsed_ms_.store(monotonic_ms() - start);
      done_.store(true);
      while (!release_.load()) usleep(1000);
    });
    while (tid_.load() == 0) usleep(100);
  }
  SignalledWait(const SignalledWait&) = delete;
  SignalledWait& operator=(const SignalledWait&) = delete;
  ~SignalledWait() {
    release_.store(true);
    thread_.join();
  }

  // SIGUSR1 to the waiting thread every `period_us` until the wait returned
  // or `limit_ms` passed (or, with stop_after_ms >= 0, that long); returns
  // how many were sent.
  int storm(int period_us, int64_t limit_ms, int64_t stop_after_ms = -1) {
    const int64_t start = monotonic_ms();
    int sent = 0;
    while (!done_.load() && monotonic_ms() - start < limit_ms) {
      if (stop_after_ms >= 0 && monotonic_ms() - start >= stop_after_ms) break;
      if (syscall(SYS_tgkill, getpid(), tid_.load(), SIGUSR1) == 0) ++sent;
      usleep(static_cast<useconds_t>(period_us));
    }
    return sent;
  }
  bool returned_within(int64_t limit_ms) {
    const int64_t deadline = monotonic_ms() + limit_ms;
    while (!done_.load() && monotonic_ms() < deadline) usleep(500);
    return done_.load();
  }
  int32_t rc() const { return rc_.load(); }
  int64_t elapsed_ms() const { return elapsed_ms_.load(); }

 private:
  std::atomic<pid_t> tid_{0};
  std::atomic<bool> done_{false};
  std::atomic<bool> release_{false};
  std::atomic<int32_t> rc_{0};
  std::atomic<int64_t> elapsed_ms_{0};
  std::thread thread_;
};

// A handler without SA_RESTART: every signal interrupts the futex wait with
// EINTR, which a wait must treat as "look again", never as its result.
void install_signal_handler() {
  struct sigaction action {};
  action.sa_handler = count_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  if (sigaction(SIGUSR1, &action, nullptr) != 0) throw KitError("sigaction(SIGUSR1) failed");
}

void signal_storm_neither_ends_nor_stretches_a_wait(CheckContext& ctx) {
  install_signal_handler();
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  Handle reader = open_region(ctx, g.name());
  {
    constexpr uint32_t kTimeoutMs = 300;
    SignalledWait waiter(ctx.zinc, reader.get(), kTimeoutMs);
    const int sent = waiter.storm(2000, kTimeoutMs + 5000);
    ctx.require(waiter.returned_within(kWakeLimitMs),
                "zinc_wait(reader, 300) under SIGUSR1 every 2 ms", "returns",
                "still waiting 2 s after the storm");
    ctx.note(std::to_string(sent) + " signals during zinc_wait(reader, 300)");
    ctx.expect_code(
        "zinc_wait(reader, 300) with nothing pending, under SIGUSR1 every 2 ms "
        "(EINTR is not a result)",
        ZINC_ETIMEDOUT, waiter.rc());
    ctx.expect(
        waiter.elapsed_ms() >= kTimeoutMs * 9 / 10 && waiter.elapsed_ms() <= kTimeoutMs + 2000,
        "time that wait took", "between 270 and 2300 ms (the deadline kept)",
        std::to_string(waiter.elapsed_ms()) + " ms");
  }
  {
    // A notify in the middle of a storm is still the wait's result.
    SignalledWait waiter(ctx.zinc, reader.get(), kLongWaitMs);
    waiter.storm(2000, kLongWaitMs, 100);
    owner.data()[0] = 7;
    ctx.zinc.notify(owner.get());
    waiter.storm(2000, kWakeLimitMs);
    if (ctx.expect(waiter.returned_within(kWakeLimitMs),
                   "zinc_wait(reader, 10000) under a storm, notified after 100 ms",
                   "returns within 2 s of the notify", "still waiting")) {
      ctx.expect_code("zinc_wait(reader, 10000) under a storm, notified after 100 ms", 0,
                      waiter.rc());
    }
  }
}

void spin_stops_at_the_deadline(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  constexpr uint32_t kSpinUs = 1000000;  // the largest limit: 1 s
  ctx.require_code("zinc_set_spin(h, 1000000)", 0, ctx.zinc.set_spin(owner.get(), kSpinUs));
  if (ctx.zinc.get_spin != nullptr) {
    ctx.expect_eq("zinc_get_spin(h) after zinc_set_spin(h, 1000000)", kSpinUs,
                  ctx.zinc.get_spin(owner.get()));
  }
  for (uint32_t timeout : {10u, 50u, 10u}) {
    const int64_t start = monotonic_ms();
    const int32_t rc = ctx.zinc.wait(owner.get(), timeout);
    const int64_t elapsed = monotonic_ms() - start;
    const std::string label = "zinc_wait(h, " + std::to_string(timeout) + ") with a 1 s spin limit";
    ctx.expect_code(label + ", nothing pending", ZINC_ETIMEDOUT, rc);
    ctx.expect(elapsed <= timeout + 600, "time " + label + " took",
               "<= " + std::to_string(timeout + 600) + " ms (the spin ends at the deadline)",
               std::to_string(elapsed) + " ms");
  }
}

void sleeper_count_wrap_turns_the_extension_off(CheckContext& ctx) {
  // docs/spec.md §9.5 (4): a peer wrote 0xFFFFFFFF into `sleepers`; the next
  // registration wraps it to 0. Without the guard (clear the tag when the
  // increment finds >= 2^24) a notifier then reads sleepers == 0, skips the
  // wake, and the registered waiter sleeps to its timeout.
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  Handle reader = open_region(ctx, g.name());
  const std::vector<uint8_t> raw = read_object_range(g.name(), 0, kWaiterCountEnd);
  ctx.require(raw.size() == kWaiterCountEnd, "object size", ">= 128", std::to_string(raw.size()));
  const HeaderFields h = decode_header(raw.data());
  const WaiterCountFields before = decode_waiter_count(raw.data());
  if (before.tag != (kWaiterCountMagic ^ h.created_at)) {
    ctx.skip("the candidate's regions carry no waiter-count block (§9 is optional)");
  }
  HeaderMapping kit(g.name());
  auto* sleepers = reinterpret_cast<uint32_t*>(kit.bytes() + offset::kSleepers);
  __atomic_store_n(sleepers, 0xFFFFFFFFu, __ATOMIC_SEQ_CST);
  BackgroundWait waiter(ctx.zinc, reader, kLongWaitMs);
  if (!waiter.asleep_within(2000)) ctx.note("the waiting thread was not seen asleep within 2 s");
  const uint64_t tag =
      decode_waiter_count(read_object_range(g.name(), 0, kWaiterCountEnd).data()).tag;
  ctx.expect(tag == 0, "u64 at 64 (tag) after a waiter's registration wrapped sleepers to 0",
             "0 (the waiter cleared it: the extension is off)", hex(tag));
  ctx.zinc.notify(owner.get());
  if (ctx.expect(waiter.returned_within(kWakeLimitMs),
                 "zinc_wait(reader, 10000) registered at the wrap, after zinc_notify(owner)",
                 "returns within 2 s",
                 "still asleep: the notify skipped FUTEX_WAKE (lost wake-up)")) {
    ctx.expect_code("zinc_wait(reader, 10000) after the notify", 0, waiter.rc());
  }
}

struct TwoWaiters {
  int returned_zero = 0;  // waits that reported the notification
  int still_waiting = 0;  // waits still waiting 2 s after their timeout
  int32_t codes[2] = {0, 0};
};

// Two threads wait (1500 ms) on one handle; one notify.
TwoWaiters two_waiters_one_notify(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  Handle reader = open_region(ctx, g.name());
  BackgroundWait first(ctx.zinc, reader, 1500);
  BackgroundWait second(ctx.zinc, reader, 1500);
  if (!first.asleep_within(1000) || !second.asleep_within(1000)) {
    ctx.note("a waiting thread was not seen asleep within 1 s; notified anyway");
  }
  ctx.zinc.notify(owner.get());
  TwoWaiters result;
  BackgroundWait* waits[] = {&first, &second};
  for (int i = 0; i < 2; ++i) {
    if (!waits[i]->returned_within(1500 + kWakeLimitMs)) {
      ++result.still_waiting;
      continue;
    }
    result.codes[i] = waits[i]->rc();
    if (waits[i]->rc() == 0) ++result.returned_zero;
  }
  return result;
}

void one_notify_reaches_two_waiters_on_one_handle(CheckContext& ctx) {
  const TwoWaiters r = two_waiters_one_notify(ctx);
  ctx.expect(
      r.returned_zero >= 1, "waits of two threads on one handle that returned 0 for one notify",
      "1 or 2 (the change is reported to at least one caller)", std::to_string(r.returned_zero));
  ctx.expect_eq("waits still waiting 3.5 s later (their timeout was 1.5 s)", 0, r.still_waiting);
}

void one_notify_is_reported_once_per_handle(CheckContext& ctx) {
  const TwoWaiters r = two_waiters_one_notify(ctx);
  ctx.expect_eq("waits of two threads on one handle that returned 0 for one notify", 1,
                static_cast<uint64_t>(r.returned_zero));
  const bool other_timed_out = r.codes[0] == ZINC_ETIMEDOUT || r.codes[1] == ZINC_ETIMEDOUT;
  ctx.expect(other_timed_out, "the other wait", "-110 at its timeout (it went back to waiting)",
             describe_code(r.codes[0]) + " / " + describe_code(r.codes[1]));
}

const RegisterChecks registered({
    {.name = "wait.signal_storm_neither_ends_nor_stretches_a_wait",
     .summary = "SIGUSR1 (no SA_RESTART) every 2 ms at a waiting thread: zinc_wait(300) still "
                "returns -110 after ~300 ms (never -4), and a notify during a storm returns 0",
     .section = "§5.4",
     .run = signal_storm_neither_ends_nor_stretches_a_wait},
    {.name = "wait.spin_stops_at_the_deadline",
     .requirement = Requirement::kExtension,
     .summary = "with zinc_set_spin(h, 1000000) (a 1 s spin limit) zinc_wait(h, 10 / 50) returns "
                "-110 within its timeout + 600 ms: the spin is bounded by the deadline",
     .section = "§9.6",
     .needs = {"zinc_set_spin"},
     .run = spin_stops_at_the_deadline},
    {.name = "protocol.sleeper_count_wrap_turns_the_extension_off",
     .requirement = Requirement::kExtension,
     .summary = "waiter count: with sleepers forged to 0xFFFFFFFF, a waiter's registration clears "
                "the tag, and a notify still wakes it",
     .section = "§9.4",
     .run = sleeper_count_wrap_turns_the_extension_off},
    {.name = "wait.one_notify_reaches_two_waiters_on_one_handle",
     .summary = "two threads wait (1500 ms) on one handle; one notify: at least one returns 0, "
                "and neither outlives its timeout",
     .section = "§5.3",
     .run = one_notify_reaches_two_waiters_on_one_handle},
    {.name = "wait.one_notify_is_reported_once_per_handle",
     .requirement = Requirement::kExtension,
     .summary = "two threads wait on one handle; one notify: exactly one returns 0, the other "
                "times out (the original reports it to both)",
     .section = "§5.3",
     .run = one_notify_is_reported_once_per_handle},
});

}  // namespace
}  // namespace zinc::conformance
