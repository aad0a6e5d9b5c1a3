#include "spin_policy.hpp"

#include <sched.h>

#include <algorithm>
#include <cstdlib>

namespace zinc::core {

uint32_t parse_spin_us(const char* text, uint32_t fallback) {
  if (text == nullptr || *text == '\0') return fallback;
  uint64_t value = 0;
  for (const char* p = text; *p != '\0'; ++p) {
    if (*p < '0' || *p > '9') return fallback;
    value = value * 10 + static_cast<uint64_t>(*p - '0');
    if (value > kMaxSpinUs) return fallback;
  }
  return static_cast<uint32_t>(value);
}

uint32_t default_spin_us() {
  static const uint32_t value = parse_spin_us(std::getenv("ZINC_SPIN_US"), kDefaultSpinUs);
  return value;
}

void yield_cpu() { sched_yield(); }

void SpinPolicy::set_limit_us(uint32_t limit_us) {
  const int64_t limit = int64_t{std::min(limit_us, kMaxSpinUs)} * 1000;
  limit_ns_.store(limit, std::memory_order_relaxed);
  budget_ns_.store(limit, std::memory_order_relaxed);
}

void SpinPolicy::record(int64_t elapsed_ns) {
  const int64_t limit = limit_ns_.load(std::memory_order_relaxed);
  const int64_t budget = budget_ns_.load(std::memory_order_relaxed);
  const int64_t floor = std::min(limit, kMinSpinNs);
  int64_t next = budget;
  if (elapsed_ns <= limit) {
    // Caught while spinning, or a longer spin would have caught it: keep
    // twice the observed delay as headroom, within the limit.
    next = std::max(budget, std::min(2 * elapsed_ns, limit));
  } else {
    // The notification came later than any spin we allow: spinning was
    // wasted, so spin less next time.
    next = std::max(floor, budget / 2);
  }
  if (next != budget) budget_ns_.store(next, std::memory_order_relaxed);
}

}  // namespace zinc::core
