// How long a wait spins on the notify word before it sleeps in the futex.
//
// A sleeping wait costs tens of microseconds to wake (two context switches),
// while a waiter that is already polling sees a notification within a cache
// line transfer. So a wait first polls for a bounded, per-handle budget and
// only then sleeps. The budget adapts to what recent waits saw: notifications
// that arrive soon after the spin ended grow it (up to the handle's limit),
// waits that had nothing to catch halve it, so an idle waiter stops burning
// CPU after a few waits while a busy ping-pong keeps its low latency.
#pragma once

#include <atomic>
#include <cstdint>

#include "zinc.h"

namespace zinc::core {

// Default spin limit: about two blocking wake-ups on a typical VM.
inline constexpr uint32_t kDefaultSpinUs = ZINC_DEFAULT_SPIN_US;
// Largest accepted limit: spinning for longer than this is never useful.
inline constexpr uint32_t kMaxSpinUs = ZINC_MAX_SPIN_US;
// The budget never decays below this (unless the limit is smaller), so a
// handle whose budget decayed still notices a peer that became fast again.
inline constexpr int64_t kMinSpinNs = 1000;

// Parses a spin limit as ZINC_SPIN_US gives it: decimal microseconds in
// [0, kMaxSpinUs], digits only. Anything else yields `fallback`.
uint32_t parse_spin_us(const char* text, uint32_t fallback);

// The limit new handles start with: ZINC_SPIN_US as read at first use, or
// kDefaultSpinUs when it is unset or invalid.
uint32_t default_spin_us();

// After this long, a polling wait offers its CPU between polls (see
// yield_cpu): enough for a peer on another CPU that answers at once.
inline constexpr int64_t kPollAloneNs = 1000;

// Gives the CPU to another runnable thread, if this CPU has one; returns at
// once otherwise. A notifier that shares the waiter's CPU (two processes
// pinned together, or placed together by the scheduler) cannot run while the
// waiter polls, so after kPollAloneNs the poll loop yields between polls.
void yield_cpu();

// A yield that took longer than this let another thread run: one that
// returns at once takes about 0.2 us on a KVM guest, one that switches to a
// peer and back at least 1.1 us.
inline constexpr int64_t kYieldRanOtherNs = 700;

// One iteration's pause of a polling loop (PAUSE on x86, YIELD on ARM):
// lets a sibling hyperthread run and saves power while polling.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// Per-handle adaptive spin budget. Threads sharing a handle share it; the
// updates are relaxed because any interleaving leaves a valid budget.
class SpinPolicy {
 public:
  SpinPolicy() : SpinPolicy(default_spin_us()) {}
  explicit SpinPolicy(uint32_t limit_us) { set_limit_us(limit_us); }

  // Sets the limit (at most kMaxSpinUs; 0 disables spinning) and restarts
  // the budget from it.
  void set_limit_us(uint32_t limit_us);
  uint32_t limit_us() const {
    return static_cast<uint32_t>(limit_ns_.load(std::memory_order_relaxed) / 1000);
  }

  // How long the next wait may poll before sleeping.
  int64_t budget_ns() const { return budget_ns_.load(std::memory_order_relaxed); }

  // Feeds back one finished wait: `elapsed_ns` from its start until it saw
  // the notification, or until it gave up.
  void record(int64_t elapsed_ns);

  // Whether the last wait that saw its notification while polling found its
  // CPU shared: a yield there let another thread run (see kYieldRanOtherNs). A wait that starts with the hint set
  // yields from its first check instead of polling alone for kPollAloneNs,
  // which on a shared CPU only delays the notifier it waits for.
  bool cpu_shared() const { return cpu_shared_.load(std::memory_order_relaxed); }
  void set_cpu_shared(bool shared) {
    if (cpu_shared() != shared) cpu_shared_.store(shared, std::memory_order_relaxed);
  }

 private:
  std::atomic<int64_t> limit_ns_{0};
  std::atomic<int64_t> budget_ns_{0};
  std::atomic<bool> cpu_shared_{false};
};

}  // namespace zinc::core
