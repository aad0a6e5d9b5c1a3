#include "futex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <ctime>

namespace zinc::core::futex {
namespace {

long futex_call(std::atomic<uint32_t>* word, int op, uint32_t value, const timespec* timeout,
                uint32_t bitset) {
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
  return syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), op, value, timeout, nullptr, bitset);
}

}  // namespace

int64_t monotonic_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000000000LL + now.tv_nsec;
}

void wake_all(std::atomic<uint32_t>* word) { futex_call(word, FUTEX_WAKE, INT_MAX, nullptr, 0); }

int wait_until(std::atomic<uint32_t>* word, uint32_t expected, int64_t deadline_ns) {
  // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline, so EINTR
  // and spurious wakes never stretch the total wait.
  const timespec deadline{static_cast<time_t>(deadline_ns / 1000000000LL),
                          static_cast<long>(deadline_ns % 1000000000LL)};
  if (testing::before_futex_wait_hook != nullptr) testing::before_futex_wait_hook();
  if (futex_call(word, FUTEX_WAIT_BITSET, expected, &deadline, FUTEX_BITSET_MATCH_ANY) == 0) {
    return 0;
  }
  const int err = errno;
  if (err == EAGAIN || err == EINTR || err == ETIMEDOUT) return 0;
  return -err;
}

}  // namespace zinc::core::futex
