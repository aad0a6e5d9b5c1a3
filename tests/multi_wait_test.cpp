// multi_wait::Sleeper: a wait set's sleeps on more words than one
// futex_waitv takes, whose batches stay asleep from one call to the next
// while their words and values are unchanged. Process-private words serve:
// the futex calls are the shared kind, which works on private memory too.
#include "multi_wait.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "futex.hpp"

namespace {

using zinc::core::futex::monotonic_ns;
using zinc::core::futex::Watch;
using zinc::core::multi_wait::Sleeper;

// Three batches: 126 + 126 + 48 words.
constexpr size_t kWords = 300;
constexpr int64_t kShortNs = 20'000'000;
// A deadline that only a lost wake-up (or a hang) reaches.
constexpr int64_t kLongNs = 10'000'000'000;

class Words {
 public:
  Words() : words_(new std::atomic<uint32_t>[kWords]) {
    for (size_t i = 0; i < kWords; ++i) words_[i].store(0);
  }
  // Every word with the value it holds now, as a caller reads them.
  std::vector<Watch> watches() const {
    std::vector<Watch> all;
    for (size_t i = 0; i < kWords; ++i) all.push_back({&words_[i], words_[i].load()});
    return all;
  }
  void bump(size_t i) {
    words_[i].fetch_add(1);
    zinc::core::futex::wake_all(&words_[i]);
  }
  // As a notifier that saw no sleeper registered: no FUTEX_WAKE.
  void change_silently(size_t i) { words_[i].fetch_add(1); }

 private:
  std::unique_ptr<std::atomic<uint32_t>[]> words_;
};

// Sleeps on `watches` until the deadline, or a wake; the time it took.
int64_t timed_sleep(Sleeper& sleeper, const std::vector<Watch>& watches,
                    std::atomic<uint32_t>& control, int64_t for_ns, int* woken) {
  const int64_t start = monotonic_ns();
  EXPECT_EQ(sleeper.sleep(watches, {&control, control.load()}, start + for_ns, woken), 0);
  return monotonic_ns() - start;
}

int64_t timed_sleep(Sleeper& sleeper, const Words& words, std::atomic<uint32_t>& control,
                    int64_t for_ns, int* woken) {
  return timed_sleep(sleeper, words.watches(), control, for_ns, woken);
}

TEST(Sleeper, batches_with_unchanged_words_and_values_stay_asleep_between_calls) {
  Words words;
  std::atomic<uint32_t> control{0};
  Sleeper sleeper;
  int woken = 0;
  EXPECT_GE(timed_sleep(sleeper, words, control, kShortNs, &woken), kShortNs);
  EXPECT_EQ(woken, -1);
  EXPECT_EQ(sleeper.batches_started(), 3u);
  EXPECT_GE(timed_sleep(sleeper, words, control, kShortNs, &woken), kShortNs);
  EXPECT_EQ(sleeper.batches_started(), 3u) << "a second identical sleep set its batches up again";
}

TEST(Sleeper, a_wake_ends_the_sleep_and_only_the_woken_batch_starts_again) {
  Words words;
  std::atomic<uint32_t> control{0};
  Sleeper sleeper;
  int woken = -1;
  timed_sleep(sleeper, words, control, kShortNs, &woken);
  ASSERT_EQ(sleeper.batches_started(), 3u);
  // Before or after the batches are in the kernel: either way the sleep
  // must end (a word that already differs ends a futex_waitv at once).
  const std::vector<Watch> before = words.watches();
  std::thread waker([&] { words.bump(200); });
  EXPECT_LT(timed_sleep(sleeper, before, control, kLongNs, &woken), kLongNs / 2);
  waker.join();
  EXPECT_TRUE(woken == 200 || woken == -1) << woken;
  // The next call watches word 200 at its new value: batch 1 again, alone.
  EXPECT_GE(timed_sleep(sleeper, words, control, kShortNs, &woken), kShortNs);
  EXPECT_EQ(sleeper.batches_started(), 4u);
}

TEST(Sleeper, a_word_changed_between_calls_is_watched_at_its_new_value) {
  Words words;
  std::atomic<uint32_t> control{0};
  Sleeper sleeper;
  int woken = -1;
  timed_sleep(sleeper, words, control, kShortNs, &woken);
  // Changed with no wake while no call was asleep: batch 0 sleeps on in
  // the kernel, on the old value; the next call, watching the new value,
  // must not keep it.
  words.change_silently(3);
  EXPECT_GE(timed_sleep(sleeper, words, control, kShortNs, &woken), kShortNs);
  EXPECT_EQ(sleeper.batches_started(), 4u);
  // And a wake on that word still ends the sleep.
  const std::vector<Watch> before = words.watches();
  std::thread waker([&] { words.bump(3); });
  EXPECT_LT(timed_sleep(sleeper, before, control, kLongNs, &woken), kLongNs / 2);
  waker.join();
}

TEST(Sleeper, the_control_word_ends_the_sleep_and_keeps_every_batch) {
  Words words;
  std::atomic<uint32_t> control{0};
  Sleeper sleeper;
  int woken = -1;
  timed_sleep(sleeper, words, control, kShortNs, &woken);
  std::thread waker([&] {
    control.fetch_add(1);
    zinc::core::futex::wake_all(&control);
  });
  const int64_t start = monotonic_ns();
  EXPECT_EQ(sleeper.sleep(words.watches(), {&control, 0}, start + kLongNs, &woken), 0);
  EXPECT_LT(monotonic_ns() - start, kLongNs / 2);
  waker.join();
  EXPECT_EQ(woken, -1);
  EXPECT_EQ(sleeper.batches_started(), 3u);
}

TEST(Sleeper, fewer_words_than_one_call_takes_end_the_kept_batches) {
  Words words;
  std::atomic<uint32_t> control{0};
  {
    Sleeper sleeper;
    int woken = -1;
    timed_sleep(sleeper, words, control, kShortNs, &woken);
    std::vector<Watch> few = words.watches();
    few.resize(10);
    const int64_t start = monotonic_ns();
    EXPECT_EQ(sleeper.sleep(few, {&control, 0}, start + kShortNs, &woken), 0);
    EXPECT_GE(monotonic_ns() - start, kShortNs);
  }
  // Nothing of that sleeper is asleep any more: every pool thread goes
  // back to idling (the pool is the process's; other tests' batches ended
  // with their sleepers).
  const int64_t until = monotonic_ns() + kLongNs;
  while (zinc::core::multi_wait::pool_threads_idle() != zinc::core::multi_wait::pool_threads() &&
         monotonic_ns() < until) {
    std::this_thread::yield();
  }
  EXPECT_EQ(zinc::core::multi_wait::pool_threads_idle(), zinc::core::multi_wait::pool_threads());
}

TEST(Sleeper, destroying_it_ends_its_batches) {
  Words words;
  std::atomic<uint32_t> control{0};
  {
    Sleeper sleeper;
    int woken = -1;
    timed_sleep(sleeper, words, control, kShortNs, &woken);
    ASSERT_LT(zinc::core::multi_wait::pool_threads_idle(), zinc::core::multi_wait::pool_threads());
  }
  const int64_t until = monotonic_ns() + kLongNs;
  while (zinc::core::multi_wait::pool_threads_idle() != zinc::core::multi_wait::pool_threads() &&
         monotonic_ns() < until) {
    std::this_thread::yield();
  }
  EXPECT_EQ(zinc::core::multi_wait::pool_threads_idle(), zinc::core::multi_wait::pool_threads());
}

TEST(Sleeper, a_fork_child_starts_batches_of_its_own) {
#if defined(__SANITIZE_THREAD__)
  // The child must start pool threads, which ThreadSanitizer refuses after
  // a fork of a process with threads; the release and ASan builds run it.
  GTEST_SKIP() << "ThreadSanitizer does not start threads in a fork child";
#endif
  Words words;
  std::atomic<uint32_t> control{0};
  Sleeper sleeper;
  int woken = -1;
  timed_sleep(sleeper, words, control, kShortNs, &woken);
  ASSERT_EQ(sleeper.batches_started(), 3u);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The parent's batches have no thread here: keeping them would sleep
    // through a wake. The child must start all three, and still wake.
    const int64_t start = monotonic_ns();
    sleeper.sleep(words.watches(), {&control, control.load()}, start + kShortNs, &woken);
    const bool slept = monotonic_ns() - start >= kShortNs;
    const std::vector<Watch> before = words.watches();
    std::thread waker([&] { words.bump(250); });
    const int64_t again = monotonic_ns();
    sleeper.sleep(before, {&control, control.load()}, again + kLongNs, &woken);
    const bool woke = monotonic_ns() - again < kLongNs / 2;
    waker.join();
    _exit(slept && woke && sleeper.batches_started() == 6 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  // The parent's batches were left alone by the child.
  EXPECT_GE(timed_sleep(sleeper, words, control, kShortNs, &woken), kShortNs);
  EXPECT_EQ(sleeper.batches_started(), 3u);
}

}  // namespace
