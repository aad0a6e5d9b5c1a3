// Wake and wait on a 32-bit word in shared memory.
//
// The futex is always a *shared* futex (never FUTEX_PRIVATE_FLAG): a private
// futex is keyed by address space, so a wake from one process would never
// reach a waiter in another.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace zinc::core {

namespace testing {
// Test seam for a race that timing cannot force: when set, wait_until calls
// it after the caller's last checks and just before the futex system call,
// in the waiting thread (tests/handle_close_test.cpp closes a handle exactly
// there). Null in every real use.
inline void (*before_futex_wait_hook)() = nullptr;
}  // namespace testing

namespace futex {

// Monotonic clock in nanoseconds; the time base of every deadline.
int64_t monotonic_ns();

// Wakes every thread, in every process, sleeping on `word`.
void wake_all(std::atomic<uint32_t>* word);

// Sleeps while *word == expected, until a wake or the absolute monotonic
// `deadline_ns`. Returns 0 when the caller should re-check (woken, value
// already changed, EINTR, spurious wake or deadline passed) or -errno for an
// unexpected failure. `interrupted` (may be null) is set when a signal
// handler ended the sleep (EINTR), for the callers that give up then.
int wait_until(std::atomic<uint32_t>* word, uint32_t expected, int64_t deadline_ns,
               bool* interrupted = nullptr);

// One word of a wait on several (wait_any).
struct Watch {
  std::atomic<uint32_t>* word;
  uint32_t expected;
};

// futex_waitv's limit on the words of one call (Linux 5.16+).
inline constexpr size_t kMaxWatches = 128;

// Sleeps while every watched word still holds its expected value, until a
// wake on any of them or the absolute monotonic `deadline_ns`, in one
// futex_waitv call (shared futexes, like wait_until). `count` is at most
// kMaxWatches. Returns 0 when the caller should re-check, or -errno for a
// failure (-ENOSYS where the kernel or a seccomp filter refuses the call).
// `woken` (may be null) receives the index of the word whose wake ended the
// sleep, or -1 (a word already differed, a timeout, a signal);
// `interrupted` (may be null) is set as wait_until's.
int wait_any(const Watch* watches, size_t count, int64_t deadline_ns, int* woken = nullptr,
             bool* interrupted = nullptr);

// Whether futex_waitv works here (asked once per process).
bool wait_any_available();

}  // namespace futex
}  // namespace zinc::core
