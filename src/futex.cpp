#include "futex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstddef>
#include <ctime>

namespace zinc::core::futex {
namespace {

// futex_waitv's ABI (Linux 5.16), spelled out so that older kernel headers
// build too; the call then fails with ENOSYS at run time.
constexpr long kSysFutexWaitv = 449;  // the same number on every architecture
constexpr uint32_t kFutexSize32 = 2;  // FUTEX2_SIZE_U32; no FUTEX2_PRIVATE: shared
struct WaitvEntry {
  uint64_t val;
  uint64_t uaddr;
  uint32_t flags;
  uint32_t reserved;
};

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

void wake_all(std::atomic<uint32_t>* word) {
  futex_call(word, FUTEX_WAKE, INT_MAX, nullptr, 0);
}

int wait_until(std::atomic<uint32_t>* word, uint32_t expected, int64_t deadline_ns,
               bool* interrupted) {
  // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline, so EINTR
  // and spurious wakes never stretch the total wait.
  const timespec deadline{static_cast<time_t>(deadline_ns / 1000000000LL),
                          static_cast<long>(deadline_ns % 1000000000LL)};
  if (testing::before_futex_wait_hook != nullptr) testing::before_futex_wait_hook();
  if (futex_call(word, FUTEX_WAIT_BITSET, expected, &deadline, FUTEX_BITSET_MATCH_ANY) == 0) {
    return 0;
  }
  const int err = errno;
  if (err == EINTR && interrupted != nullptr) *interrupted = true;
  if (err == EAGAIN || err == EINTR || err == ETIMEDOUT) return 0;
  return -err;
}

int wait_any(const Watch* watches, size_t count, int64_t deadline_ns, int* woken,
             bool* interrupted) {
  if (woken != nullptr) *woken = -1;
  if (count == 0 || count > kMaxWatches) return -EINVAL;
  WaitvEntry vector[kMaxWatches] = {};
  for (size_t i = 0; i < count; ++i) {
    vector[i].val = watches[i].expected;
    vector[i].uaddr = reinterpret_cast<uintptr_t>(watches[i].word);
    vector[i].flags = kFutexSize32;
  }
  const timespec deadline{static_cast<time_t>(deadline_ns / 1000000000LL),
                          static_cast<long>(deadline_ns % 1000000000LL)};
  if (testing::before_futex_wait_hook != nullptr) testing::before_futex_wait_hook();
  // futex_waitv(waiters, count, flags, absolute timeout, clock)
  const timespec* timeout = deadline_ns == INT64_MAX ? nullptr : &deadline;
  const long index = syscall(kSysFutexWaitv, vector, count, 0, timeout, CLOCK_MONOTONIC);
  if (index >= 0) {
    if (woken != nullptr) *woken = static_cast<int>(index);
    return 0;
  }
  const int err = errno;
  if (err == EINTR && interrupted != nullptr) *interrupted = true;
  if (err == EAGAIN || err == EINTR || err == ETIMEDOUT) return 0;
  return -err;
}

bool wait_any_available() {
  static const bool available = [] {
    // A word that differs from its expected value: a working call returns
    // EAGAIN at once; a missing or filtered one fails otherwise.
    std::atomic<uint32_t> word{0};
    WaitvEntry probe{1, reinterpret_cast<uintptr_t>(&word), kFutexSize32, 0};
    const long rc = syscall(kSysFutexWaitv, &probe, 1, 0, nullptr, CLOCK_MONOTONIC);
    return rc < 0 && errno == EAGAIN;
  }();
  return available;
}

}  // namespace zinc::core::futex
