#include "multi_wait.hpp"

#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace zinc::core::multi_wait {
namespace {

// One call's sleep, shared by its batches: the batch that wakes first
// bumps `stop` and wakes it, which ends every other batch's sleep.
struct Sleep {
  std::vector<futex::Watch> watches;
  futex::Watch control{};
  int64_t deadline_ns = 0;
  std::atomic<uint32_t> stop{0};
  std::atomic<uint32_t> pending{0};  // pool batches still asleep
  std::atomic<int> error{0};         // the first batch's failure, if any
  std::atomic<int> woken{-1};        // the member word whose wake came first
};

// Sleeps on batch `index` of `sleep`, then stops the others.
void sleep_batch(Sleep& sleep, size_t index) {
  futex::Watch words[futex::kMaxWatches];
  const size_t first = index * kWordsPerBatch;
  const size_t count = std::min(kWordsPerBatch, sleep.watches.size() - first);
  for (size_t i = 0; i < count; ++i) words[i] = sleep.watches[first + i];
  words[count] = sleep.control;
  words[count + 1] = {&sleep.stop, 0};
  int woken = -1;
  const int err = futex::wait_any(words, count + 2, sleep.deadline_ns, &woken);
  if (woken >= 0 && static_cast<size_t>(woken) < count) {
    int none = -1;
    sleep.woken.compare_exchange_strong(none, static_cast<int>(first) + woken);
  }
  if (err != 0) {
    int none = 0;
    sleep.error.compare_exchange_strong(none, err);
  }
  uint32_t running = 0;
  if (sleep.stop.compare_exchange_strong(running, 1, std::memory_order_seq_cst)) {
    futex::wake_all(&sleep.stop);
  }
}

// Threads that sleep on the batches after the first. The pool grows to the
// most batches ever asleep at once and its threads idle on a condition
// variable. A fork() child starts a pool of its own (the parent's threads
// are not in it, and its mutex may have been held at the fork).
class Pool {
 public:
  static Pool& instance() {
    static std::mutex guard;
    static Pool* pool = nullptr;
    static pid_t owner = 0;
    std::lock_guard lock(guard);
    if (pool == nullptr || owner != getpid()) {
      pool = new Pool();  // never destroyed: its threads outlive statics
      owner = getpid();
    }
    return *pool;
  }

  void post(std::shared_ptr<Sleep> sleep, size_t index) {
    std::lock_guard lock(mutex_);
    jobs_.push_back({std::move(sleep), index});
    if (idle_ == 0) {
      ++threads_;
      std::thread([this] { run(); }).detach();
    } else {
      ready_.notify_one();
    }
  }

  size_t threads() {
    std::lock_guard lock(mutex_);
    return threads_;
  }

 private:
  struct Job {
    std::shared_ptr<Sleep> sleep;
    size_t index;
  };

  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      ++idle_;
      ready_.wait(lock, [this] { return !jobs_.empty(); });
      --idle_;
      Job job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      sleep_batch(*job.sleep, job.index);
      if (job.sleep->pending.fetch_sub(1, std::memory_order_seq_cst) == 1) {
        futex::wake_all(&job.sleep->pending);
      }
      job.sleep.reset();
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> jobs_;
  size_t idle_ = 0;
  size_t threads_ = 0;
};

}  // namespace

int sleep_on_any(const std::vector<futex::Watch>& watches, futex::Watch control,
                 int64_t deadline_ns, int* woken) {
  *woken = -1;
  if (watches.size() + 1 <= futex::kMaxWatches) {
    futex::Watch words[futex::kMaxWatches];
    for (size_t i = 0; i < watches.size(); ++i) words[i] = watches[i];
    words[watches.size()] = control;
    const int err = futex::wait_any(words, watches.size() + 1, deadline_ns, woken);
    if (*woken == static_cast<int>(watches.size())) *woken = -1;  // the control word
    return err;
  }
  auto sleep = std::make_shared<Sleep>();
  sleep->watches = watches;
  sleep->control = control;
  sleep->deadline_ns = deadline_ns;
  const size_t batches = (watches.size() + kWordsPerBatch - 1) / kWordsPerBatch;
  sleep->pending.store(static_cast<uint32_t>(batches - 1), std::memory_order_seq_cst);
  Pool& pool = Pool::instance();
  for (size_t index = 1; index < batches; ++index) pool.post(sleep, index);
  sleep_batch(*sleep, 0);
  // Every batch's words must stay valid until its sleep is over, and the
  // caller's registration must outlast it.
  for (uint32_t left = sleep->pending.load(std::memory_order_seq_cst); left != 0;
       left = sleep->pending.load(std::memory_order_seq_cst)) {
    futex::wait_until(&sleep->pending, left, INT64_MAX);
  }
  *woken = sleep->woken.load();
  return sleep->error.load();
}

size_t pool_threads() {
  return Pool::instance().threads();
}

}  // namespace zinc::core::multi_wait
