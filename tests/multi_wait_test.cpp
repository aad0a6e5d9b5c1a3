// multi_wait::Sleeper: a wait set's sleeps on more words than one
// futex_waitv takes, whose batches stay asleep from one call to the next
// while their words and values are unchanged. Process-private words serve:
// the futex calls are the shared kind, which works on private memory too.
#include "multi_wait.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <functional>
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

// What every scenario has: 300 words, a control word, a sleeper's last
// `woken`, and ways to sleep on them.
class SleeperTest : public ::testing::Test {
 protected:
  // Sleeps on `watches` until the deadline, or a wake; the time it took.
  int64_t sleep_on(Sleeper& sleeper, const std::vector<Watch>& watches, int64_t for_ns) {
    const int64_t start = monotonic_ns();
    EXPECT_EQ(sleeper.sleep(watches, {&control, control.load()}, start + for_ns, &woken), 0);
    return monotonic_ns() - start;
  }
  int64_t sleep(Sleeper& sleeper, int64_t for_ns) {
    return sleep_on(sleeper, words.watches(), for_ns);
  }
  // A first sleep to its deadline: the three batches start, and stay.
  void start_batches(Sleeper& sleeper) {
    EXPECT_GE(sleep(sleeper, kShortNs), kShortNs);
    EXPECT_EQ(sleeper.batches_started(), 3u);
  }
  // Sleeps on the words as they are now while another thread runs `wake`
  // (before or after the batches are in the kernel: either way the sleep
  // must end, since a word that already differs ends a futex_waitv at
  // once); true if it ended well before the long deadline.
  bool woken_by(Sleeper& sleeper, const std::function<void()>& wake) {
    const std::vector<Watch> before = words.watches();
    std::thread waker(wake);
    const int64_t slept = sleep_on(sleeper, before, kLongNs);
    waker.join();
    return slept < kLongNs / 2;
  }
  // Waits until every pool thread idles again (the pool is the process's;
  // other tests' batches ended with their sleepers).
  static bool pool_goes_idle() {
    const int64_t until = monotonic_ns() + kLongNs;
    while (zinc::core::multi_wait::pool_threads_idle() != zinc::core::multi_wait::pool_threads()) {
      if (monotonic_ns() > until) return false;
      std::this_thread::yield();
    }
    return true;
  }

  Words words;
  std::atomic<uint32_t> control{0};
  int woken = 0;
};

TEST_F(SleeperTest, batches_with_unchanged_words_and_values_stay_asleep_between_calls) {
  Sleeper sleeper;
  start_batches(sleeper);
  EXPECT_EQ(woken, -1);
  EXPECT_GE(sleep(sleeper, kShortNs), kShortNs);
  EXPECT_EQ(sleeper.batches_started(), 3u) << "a second identical sleep set its batches up again";
}

TEST_F(SleeperTest, a_wake_ends_the_sleep_and_only_the_woken_batch_starts_again) {
  Sleeper sleeper;
  start_batches(sleeper);
  EXPECT_TRUE(woken_by(sleeper, [&] { words.bump(200); }));
  EXPECT_TRUE(woken == 200 || woken == -1) << woken;
  // The next call watches word 200 at its new value: batch 1 again, alone.
  // (Once, or twice when the wake landed before the call above looked at
  // its batches: it then started batch 1 anew on the old value, and that
  // sleep ended at once. Never batch 0 or 2.)
  EXPECT_GE(sleep(sleeper, kShortNs), kShortNs);
  EXPECT_GE(sleeper.batches_started(), 4u);
  EXPECT_LE(sleeper.batches_started(), 5u) << "a wake on one batch's word restarted another";
}

TEST_F(SleeperTest, a_word_changed_between_calls_is_watched_at_its_new_value) {
  Sleeper sleeper;
  start_batches(sleeper);
  // Changed with no wake while no call was asleep: batch 0 sleeps on in
  // the kernel, on the old value; the next call, watching the new value,
  // must not keep it.
  words.change_silently(3);
  EXPECT_GE(sleep(sleeper, kShortNs), kShortNs);
  EXPECT_EQ(sleeper.batches_started(), 4u);
  // And a wake on that word still ends the sleep.
  EXPECT_TRUE(woken_by(sleeper, [&] { words.bump(3); }));
}

TEST_F(SleeperTest, the_control_word_ends_the_sleep_and_keeps_every_batch) {
  Sleeper sleeper;
  start_batches(sleeper);
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

TEST_F(SleeperTest, fewer_words_than_one_call_takes_end_the_kept_batches) {
  {
    Sleeper sleeper;
    start_batches(sleeper);
    std::vector<Watch> few = words.watches();
    few.resize(10);
    EXPECT_GE(sleep_on(sleeper, few, kShortNs), kShortNs);
  }
  EXPECT_TRUE(pool_goes_idle()) << "a batch of the sleeper is still asleep";
}

TEST_F(SleeperTest, destroying_it_ends_its_batches) {
  {
    Sleeper sleeper;
    start_batches(sleeper);
    ASSERT_LT(zinc::core::multi_wait::pool_threads_idle(), zinc::core::multi_wait::pool_threads());
  }
  EXPECT_TRUE(pool_goes_idle()) << "a batch of the destroyed sleeper is still asleep";
}

TEST_F(SleeperTest, a_fork_child_starts_batches_of_its_own) {
#if defined(__SANITIZE_THREAD__)
  // The child must start pool threads, which ThreadSanitizer refuses after
  // a fork of a process with threads; the release and ASan builds run it.
  GTEST_SKIP() << "ThreadSanitizer does not start threads in a fork child";
#endif
  Sleeper sleeper;
  start_batches(sleeper);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The parent's batches have no thread here: keeping them would sleep
    // through a wake. The child must start all three, and still wake.
    const bool slept = sleep(sleeper, kShortNs) >= kShortNs;
    const bool all_three = sleeper.batches_started() == 6;
    const bool woke = woken_by(sleeper, [&] { words.bump(250); });
    _exit(slept && all_three && woke ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  // The parent's batches were left alone by the child.
  EXPECT_GE(sleep(sleeper, kShortNs), kShortNs);
  EXPECT_EQ(sleeper.batches_started(), 3u);
}

}  // namespace
