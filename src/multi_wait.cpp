#include "multi_wait.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "posix.hpp"

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
void sleep_batch(Sleep& sleep, size_t index, bool* interrupted = nullptr) {
  futex::Watch words[futex::kMaxWatches];
  const size_t first = index * kWordsPerBatch;
  const size_t count = std::min(kWordsPerBatch, sleep.watches.size() - first);
  for (size_t i = 0; i < count; ++i) words[i] = sleep.watches[first + i];
  words[count] = sleep.control;
  words[count + 1] = {&sleep.stop, 0};
  int woken = -1;
  const int err = futex::wait_any(words, count + 2, sleep.deadline_ns, &woken, interrupted);
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
    static int32_t owner = 0;
    std::lock_guard lock(guard);
    if (pool == nullptr || owner != posix::process_id()) {
      pool = new Pool();  // never destroyed: its threads outlive statics
      owner = posix::process_id();
    }
    return *pool;
  }

  void post(std::function<void()> job) {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
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

  size_t idle() {
    std::lock_guard lock(mutex_);
    return idle_;
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      ++idle_;
      ready_.wait(lock, [this] { return !jobs_.empty(); });
      --idle_;
      std::function<void()> job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      job = nullptr;  // drops what it holds before the thread idles
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  size_t idle_ = 0;
  size_t threads_ = 0;
};

}  // namespace

int sleep_on_any(const std::vector<futex::Watch>& watches, futex::Watch control,
                 int64_t deadline_ns, int* woken, bool* interrupted) {
  *woken = -1;
  if (watches.size() + 1 <= futex::kMaxWatches) {
    futex::Watch words[futex::kMaxWatches];
    for (size_t i = 0; i < watches.size(); ++i) words[i] = watches[i];
    words[watches.size()] = control;
    const int err = futex::wait_any(words, watches.size() + 1, deadline_ns, woken, interrupted);
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
  for (size_t index = 1; index < batches; ++index) {
    pool.post([sleep, index] {
      sleep_batch(*sleep, index);
      if (sleep->pending.fetch_sub(1, std::memory_order_seq_cst) == 1) {
        futex::wake_all(&sleep->pending);
      }
    });
  }
  sleep_batch(*sleep, 0, interrupted);
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

size_t pool_threads_idle() {
  return Pool::instance().idle();
}

// What the batches of one Sleeper share with it, kept alive by each batch
// (a batch's thread may outlive its sleeper).
struct Sleeper::Wakes {
  // Bumped and woken when a batch's sleep ends other than by its stop.
  std::atomic<uint32_t> fired{0};
};

// A batch of member words asleep in a pool thread, for as long as the
// sleeper's calls keep watching the same words with the same values.
struct Sleeper::Batch {
  std::vector<futex::Watch> words;
  std::shared_ptr<Wakes> wakes;
  std::atomic<uint32_t> stop{0};   // bumped to end the sleep
  std::atomic<bool> asleep{true};  // false once the sleep ended
  std::atomic<int> woken{-1};      // the index in `words` of the word that woke it
  std::atomic<int> error{0};

  bool watches(const futex::Watch* first, size_t count) const {
    if (count != words.size()) return false;
    for (size_t i = 0; i < count; ++i) {
      if (words[i].word != first[i].word || words[i].expected != first[i].expected) return false;
    }
    return true;
  }

  void run() {
    futex::Watch all[futex::kMaxWatches];
    std::copy(words.begin(), words.end(), all);
    all[words.size()] = {&stop, 0};
    int index = -1;
    const int err = futex::wait_any(all, words.size() + 1, INT64_MAX, &index);
    if (index >= 0 && static_cast<size_t>(index) < words.size()) woken.store(index);
    error.store(err);
    asleep.store(false, std::memory_order_seq_cst);
    if (stop.load(std::memory_order_seq_cst) == 0) {
      wakes->fired.fetch_add(1, std::memory_order_seq_cst);
      futex::wake_all(&wakes->fired);
    }
  }

  void end() {
    stop.store(1, std::memory_order_seq_cst);
    futex::wake_all(&stop);
  }
};

Sleeper::Sleeper() : pid_(posix::process_id()), wakes_(std::make_shared<Wakes>()) {}

Sleeper::~Sleeper() {
  if (posix::process_id() == pid_) stop_from(0);
}

void Sleeper::stop_from(size_t first_batch) {
  for (size_t b = first_batch; b < batches_.size(); ++b) batches_[b]->end();
  batches_.resize(std::min(first_batch, batches_.size()));
}

int Sleeper::sleep(const std::vector<futex::Watch>& watches, futex::Watch control,
                   int64_t deadline_ns, int* woken, bool* interrupted) {
  std::unique_lock lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return sleep_on_any(watches, control, deadline_ns, woken, interrupted);
  if (posix::process_id() != pid_) {
    // A fork() child: the batches' threads are the parent's, and the
    // parent's batches must not be ended from here.
    pid_ = posix::process_id();
    batches_.clear();
    wakes_ = std::make_shared<Wakes>();
  }
  *woken = -1;
  if (watches.size() + 1 <= futex::kMaxWatches) {
    stop_from(0);
    return sleep_on_any(watches, control, deadline_ns, woken, interrupted);
  }
  // Read before looking at the batches: one that ends after the look
  // below bumps `fired` past this value, so the sleep returns at once.
  const uint32_t fired = wakes_->fired.load(std::memory_order_seq_cst);
  const size_t count = (watches.size() + kWordsPerBatch - 1) / kWordsPerBatch;
  stop_from(count);
  batches_.resize(count);
  Pool& pool = Pool::instance();
  for (size_t b = 0; b < count; ++b) {
    const size_t first = b * kWordsPerBatch;
    const size_t size = std::min(kWordsPerBatch, watches.size() - first);
    std::shared_ptr<Batch>& batch = batches_[b];
    if (batch != nullptr && batch->asleep.load(std::memory_order_seq_cst) &&
        batch->watches(&watches[first], size)) {
      continue;  // still asleep on exactly these words and values
    }
    if (batch != nullptr) batch->end();
    batch = std::make_shared<Batch>();
    batch->words.assign(watches.begin() + static_cast<ptrdiff_t>(first),
                        watches.begin() + static_cast<ptrdiff_t>(first + size));
    batch->wakes = wakes_;
    started_.fetch_add(1, std::memory_order_relaxed);
    pool.post([batch] { batch->run(); });
  }
  futex::Watch own[2] = {control, {&wakes_->fired, fired}};
  int index = -1;
  int err = futex::wait_any(own, 2, deadline_ns, &index, interrupted);
  // Report the first batch that ended (it is set up again by the next
  // call); the ones still asleep stay so.
  for (size_t b = 0; b < count; ++b) {
    const Batch& batch = *batches_[b];
    if (batch.asleep.load(std::memory_order_seq_cst)) continue;
    if (err == 0) err = batch.error.load();
    const int word = batch.woken.load();
    if (word >= 0 && *woken < 0) *woken = static_cast<int>(b * kWordsPerBatch) + word;
  }
  return err;
}

}  // namespace zinc::core::multi_wait
