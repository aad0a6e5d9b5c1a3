// Wake and wait on a 32-bit word in shared memory.
//
// The futex is always a *shared* futex (never FUTEX_PRIVATE_FLAG): a private
// futex is keyed by address space, so a wake from one process would never
// reach a waiter in another.
#pragma once

#include <atomic>
#include <cstdint>

namespace zinc::core::futex {

// Monotonic clock in nanoseconds; the time base of every deadline.
int64_t monotonic_ns();

// Wakes every thread, in every process, sleeping on `word`.
void wake_all(std::atomic<uint32_t>* word);

// Sleeps while *word == expected, until a wake or the absolute monotonic
// `deadline_ns`. Returns 0 when the caller should re-check (woken, value
// already changed, EINTR, spurious wake or deadline passed) or -errno for an
// unexpected failure.
int wait_until(std::atomic<uint32_t>* word, uint32_t expected, int64_t deadline_ns);

}  // namespace zinc::core::futex
