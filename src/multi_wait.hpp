// Sleeping on any number of futex words at once: what a wait set needs from
// the kernel. futex_waitv takes at most 128 words, so a larger wait is
// split into batches, the calling thread sleeping on the first and threads
// of a process-wide pool on the others; whichever wakes first ends the
// others' sleeps, and the call returns once every batch is awake again.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "futex.hpp"

namespace zinc::core::multi_wait {

// Member words per futex_waitv call: two of its 128 are the caller's
// control word and the batches' shared stop word.
inline constexpr size_t kWordsPerBatch = futex::kMaxWatches - 2;

// Sleeps while every word of `watches` and `control` holds its expected
// value, until a wake on any of them or the absolute monotonic
// `deadline_ns` (INT64_MAX: none). Returns 0 when the caller should
// re-check, or -errno (-ENOSYS: no futex_waitv; the caller falls back).
// `woken` receives the index in `watches` of the word whose wake ended the
// sleep, or -1: a hint of where to look first, not a promise.
int sleep_on_any(const std::vector<futex::Watch>& watches, futex::Watch control,
                 int64_t deadline_ns, int* woken);

// How many pool threads exist (for tests and benchmarks).
size_t pool_threads();

}  // namespace zinc::core::multi_wait
