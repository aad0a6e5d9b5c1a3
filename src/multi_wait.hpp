// Sleeping on any number of futex words at once: what a wait set needs from
// the kernel. futex_waitv takes at most 128 words, so a larger wait is
// split into batches, the calling thread sleeping on the first and threads
// of a process-wide pool on the others; whichever wakes first ends the
// others' sleeps, and the call returns once every batch is awake again.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
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
// `interrupted` (may be null) is set when a signal handler ended the
// caller's own sleep (futex::wait_any's).
int sleep_on_any(const std::vector<futex::Watch>& watches, futex::Watch control,
                 int64_t deadline_ns, int* woken, bool* interrupted = nullptr);

// How many pool threads exist, and how many of them wait for a batch to
// sleep on (for tests and benchmarks).
size_t pool_threads();
size_t pool_threads_idle();

// One caller's sleeps on many words, one after another (a wait set's).
// Past one futex_waitv call, every batch of words sleeps in a pool thread
// and the caller sleeps on its control word and on a word the batches bump
// when one of them wakes. Between two calls a batch is left asleep in the
// kernel if the next call watches the same words at the same places with
// the same expected values: a wake on one member then sets up that
// member's batch again, not every batch (setting up a futex_waitv on
// shared words costs a page-table walk per word, most of a large set's
// wake latency). Correct because a batch kept is exactly the sleep the
// new call would start: its words, its values, and the caller's own
// sleeper registrations read before the values.
//
// One caller at a time: a second, concurrent call falls back to
// sleep_on_any. A fork() child forgets the batches (their threads are the
// parent's). Destroying it ends every batch still asleep.
class Sleeper {
 public:
  Sleeper();
  Sleeper(const Sleeper&) = delete;
  Sleeper& operator=(const Sleeper&) = delete;
  ~Sleeper();

  // As sleep_on_any, with `watches` in a stable order from call to call
  // (batches are kept by position).
  int sleep(const std::vector<futex::Watch>& watches, futex::Watch control, int64_t deadline_ns,
            int* woken, bool* interrupted = nullptr);

  // Batches set up in the kernel by this sleeper's calls so far, kept ones
  // not counted again (for tests).
  uint64_t batches_started() const { return started_.load(std::memory_order_relaxed); }

 private:
  struct Batch;
  struct Wakes;

  void stop_from(size_t first_batch);

  std::mutex mutex_;  // held by the call in progress
  int32_t pid_;
  std::shared_ptr<Wakes> wakes_;
  std::vector<std::shared_ptr<Batch>> batches_;
  std::atomic<uint64_t> started_{0};
};

}  // namespace zinc::core::multi_wait
