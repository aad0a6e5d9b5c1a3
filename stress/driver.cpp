// zinc_stress: notify/wait under load, across processes (fork/exec of
// zinc_stress_worker) and across threads, with fault injection. rapidcheck
// generates the scenarios (stress/scenario.hpp); every run is checked for
//   no lost wakeup     a notify that completes while a wait is in progress
//                      ends that wait within the bound;
//   no phantom         a wait reports 0 only if notify_seq changed since the
//                      handle last consumed it (and never more often than it
//                      changed; at rest try_wait says nothing is pending);
//   timeouts honoured  a timed-out wait lasted at least its timeout and at
//                      most timeout + bound, and no wait outlives its timeout
//                      by more than the bound;
//   publish ordering   rounds: the checksummed payload written before notify
//                      is intact after the matching wait;
//   survival           after kill -9 of participants (mid-wait, mid-notify)
//                      and of the creator, or closes that cancel waits, the
//                      others finish, nothing hangs, ref_count adds up.
//
//   zinc_stress [--kind K] [--cases N] [--minutes M] [--seed S] [--bound-ms B]
// K: rounds, free, faults, thread-rounds, thread-free, processes, threads, all.
// With --minutes, runs rapidcheck batches of N cases per kind until the time
// is up (a soak). Prints the counts at the end; exit status 1 on a violation.
#include <rapidcheck.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "scenario.hpp"
#include "stress_shared.hpp"
#include "zinc.h"
#include "program_paths.hpp"

namespace zinc::stress {
namespace {

uint32_t g_bound_ms = 2000;
constexpr int kDriverSlot = kMaxParticipants;

struct Counters {
  uint64_t scenarios = 0;
  uint64_t processes = 0;
  uint64_t threads = 0;
  uint64_t notifies = 0;
  uint64_t waits_ok = 0;
  uint64_t waits_timed_out = 0;
  uint64_t waits_cancelled = 0;
  uint64_t rounds = 0;
  uint64_t kills_mid_wait = 0;
  uint64_t kills_mid_notify = 0;
  uint64_t kills_elsewhere = 0;
  uint64_t creator_crashes = 0;
  uint64_t owner_closes = 0;
  int64_t worst_wake_ns = 0;     // notify done -> wait returned, for waits a notify ended
  int64_t worst_overrun_ns = 0;  // timed-out wait beyond its timeout

  void print() const {
    std::printf(
        "zinc_stress: %" PRIu64 " scenarios, %" PRIu64 " processes, %" PRIu64
        " threads\n"
        "  %" PRIu64 " notifies, %" PRIu64 " rounds; waits: %" PRIu64 " woken, %" PRIu64
        " timed out, %" PRIu64
        " cancelled\n"
        "  kill -9: %" PRIu64 " mid-wait, %" PRIu64 " mid-notify, %" PRIu64 " elsewhere; %" PRIu64
        " creator crashes, %" PRIu64
        " owner closes\n"
        "  worst wake-up after a notify %.1f ms, worst timeout overrun %.1f ms (bound %u ms)\n",
        scenarios, processes, threads, notifies, rounds, waits_ok, waits_timed_out, waits_cancelled,
        kills_mid_wait, kills_mid_notify, kills_elsewhere, creator_crashes, owner_closes,
        worst_wake_ns / 1e6, worst_overrun_ns / 1e6, g_bound_ms);
  }
};
Counters g_counters;

std::string unique_name(const char* what) {
  static unsigned counter = 0;
  static const unsigned salt = std::random_device{}() % 100000;
  // "t<pid>-" first, so scripts/lib.sh sweeps what a crashed run left.
  return "t" + std::to_string(getpid()) + "-stress-" + what + "-" + std::to_string(counter++) +
         "-" + std::to_string(salt);
}

bool object_exists(const std::string& name) {
  return access(("/dev/shm/zinc_" + name).c_str(), F_OK) == 0;
}

void sleep_ms(int64_t ms) {
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

int64_t ms_since(int64_t start_ns) {
  return (now_ns() - start_ns) / 1000000;
}

// Polls `done` every millisecond for up to `limit_ms`.
bool wait_for(const std::function<bool()>& done, int64_t limit_ms) {
  const int64_t start = now_ns();
  while (!done()) {
    if (ms_since(start) > limit_ms) return false;
    sleep_ms(1);
  }
  return true;
}

uint32_t header_ref_count(ZincHandle h) {
  auto* word = reinterpret_cast<std::atomic<uint32_t>*>(zinc_ptr(h) - zinc_page_size() + 24);
  return word->load();
}

// The waiter-count block (docs/spec.md §9) after a run: counted handles
// equal the libzinc handles still attached (`counted`), and only killed
// sleepers can remain registered (at most `killed_waiters`).
void check_waiter_count_block(ZincHandle h, uint32_t counted, uint32_t killed_waiters,
                              std::vector<std::string>& violations) {
  const uint8_t* object = zinc_ptr(h) - zinc_page_size();
  const auto load64 = [&](size_t at) {
    return reinterpret_cast<const std::atomic<uint64_t>*>(object + at)->load();
  };
  const uint64_t word = load64(72);
  const uint32_t sleepers = reinterpret_cast<const std::atomic<uint32_t>*>(object + 80)->load();
  if (load64(64) != (0x5A494E435F574354ULL ^ load64(32))) {
    violations.push_back("the waiter-count block was switched off (damaged) during the run");
  } else if (static_cast<uint32_t>(word) != counted) {
    violations.push_back("counted_handles " + std::to_string(static_cast<uint32_t>(word)) +
                         " after the run; expected " + std::to_string(counted));
  }
  if (sleepers > killed_waiters) {
    violations.push_back("sleepers " + std::to_string(sleepers) + " after the run; at most " +
                         std::to_string(killed_waiters) + " (killed waiters) may remain");
  }
}

// --- checks over the logs -------------------------------------------------

struct Member {
  Params params;
  bool gone = false;  // killed, or its handle closed by the driver
};

void check_logs(const Scenario& s, Shared& shared, const std::vector<Member>& members,
                uint32_t final_seq, std::vector<std::string>& violations) {
  // Every logged notify as (begin, end); the increment happened in between.
  std::vector<std::pair<int64_t, int64_t>> notifies;
  for (int i = 0; i <= kDriverSlot; ++i) {
    const Slot& slot = shared.slots[i];
    const uint32_t n = std::min(slot.count.load(std::memory_order_acquire), kMaxRecords);
    for (uint32_t r = 0; r < n; ++r) {
      const Record& rec = slot.records[r];
      if (rec.event == Event::kNotify) notifies.emplace_back(rec.begin_ns, rec.end_ns);
    }
  }
  std::sort(notifies.begin(), notifies.end());
  g_counters.notifies += notifies.size();
  // earliest_end[k]: the first completion among the notifies from k on (by begin).
  std::vector<int64_t> earliest_end(notifies.size() + 1, INT64_MAX);
  for (size_t k = notifies.size(); k-- > 0;) {
    earliest_end[k] = std::min(earliest_end[k + 1], notifies[k].second);
  }
  const int64_t bound_ns = int64_t{g_bound_ms} * 1000000;
  const bool cursor_per_waiter = !s.shared_handle;

  for (size_t i = 0; i < members.size(); ++i) {
    const Slot& slot = shared.slots[i];
    const std::string who = "participant " + std::to_string(i);
    if (slot.failed.load()) violations.push_back(who + ": " + slot.failure);
    const uint32_t n = std::min(slot.count.load(std::memory_order_acquire), kMaxRecords);
    // Bounds of the handle's cursor (notify_seq only grows in these runs):
    // after a call it is a value notify_seq had during the call.
    uint32_t lower_bound_of_cursor = 0;
    uint32_t upper_bound_of_cursor = 0;
    uint64_t reported = 0;
    for (uint32_t r = 0; r < n; ++r) {
      const Record& rec = slot.records[r];
      if (rec.event == Event::kNotify) continue;
      const int64_t took = rec.end_ns - rec.begin_ns;
      const std::string what = who + " record " + std::to_string(r) + ": ";
      if (rec.event == Event::kWait) {
        if (rec.rc == ZINC_OK) ++g_counters.waits_ok;
        if (rec.rc == ZINC_ETIMEDOUT) ++g_counters.waits_timed_out;
        if (rec.rc == ZINC_ECANCELED || rec.rc == ZINC_EINVAL) {
          ++g_counters.waits_cancelled;
          continue;
        }
        const int64_t timeout_ns = int64_t{rec.timeout_ms} * 1000000;
        if (rec.rc == ZINC_ETIMEDOUT) {
          if (took < timeout_ns) {
            violations.push_back(what + "wait(" + std::to_string(rec.timeout_ms) +
                                 ") timed out after only " + std::to_string(took / 1000) + " us");
          }
          g_counters.worst_overrun_ns = std::max(g_counters.worst_overrun_ns, took - timeout_ns);
        }
        if (took > timeout_ns + bound_ns) {
          violations.push_back(what + "wait(" + std::to_string(rec.timeout_ms) + ") took " +
                               std::to_string(took / 1000000) + " ms");
        }
        // A notify that began after this wait began must end it promptly
        // (one that began earlier may have been consumed by the last call).
        const size_t k =
            static_cast<size_t>(std::lower_bound(notifies.begin(), notifies.end(),
                                                 std::make_pair(rec.begin_ns, INT64_MIN)) -
                                notifies.begin());
        if (cursor_per_waiter && earliest_end[k] < rec.end_ns) {
          const int64_t late = rec.end_ns - earliest_end[k];
          if (late > bound_ns) {
            violations.push_back(what + "a notify completed during this wait, which returned " +
                                 std::to_string(rec.rc) + " only " +
                                 std::to_string(late / 1000000) + " ms later (lost wakeup; " +
                                 "notify_seq " + std::to_string(rec.seq_before) + " before, " +
                                 std::to_string(rec.seq_after) + " after)");
          }
          if (rec.rc == ZINC_OK) {
            g_counters.worst_wake_ns = std::max(g_counters.worst_wake_ns, late);
          }
        }
      }
      if (!cursor_per_waiter) continue;
      // A change that was already pending must be reported, at once.
      if (rec.seq_before > upper_bound_of_cursor && (rec.rc != ZINC_OK || took > bound_ns)) {
        violations.push_back(what + "notify_seq was " + std::to_string(rec.seq_before) +
                             " and this handle had consumed at most " +
                             std::to_string(upper_bound_of_cursor) + ", yet the call returned " +
                             std::to_string(rec.rc) + " after " + std::to_string(took / 1000000) +
                             " ms (a pending notification not reported)");
      }
      if (rec.rc == ZINC_OK) {
        ++reported;
        if (rec.seq_after <= lower_bound_of_cursor) {
          violations.push_back(what + "returned 0 but notify_seq stayed at " +
                               std::to_string(rec.seq_after) +
                               ", which this handle had consumed (phantom notification)");
        }
      }
      lower_bound_of_cursor = rec.seq_before;
      upper_bound_of_cursor = rec.seq_after;
    }
    if (cursor_per_waiter && reported > final_seq) {
      violations.push_back(who + ": " + std::to_string(reported) + " notifications reported, but " +
                           "notify_seq only changed " + std::to_string(final_seq) + " times");
    }
  }
}

// --- one scenario -------------------------------------------------------------

// What the process and thread forms have in common: the members, the
// control block, and the timeline of a free-mode run.
class Run {
 public:
  explicit Run(const Scenario& s) : s_(s) {
    for (int i = 0; i < s.notifiers + s.waiters; ++i) {
      Member m;
      Params& p = m.params;
      p.role = i < s.notifiers ? Role::kNotifier : Role::kWaiter;
      p.mode =
          (s.kind == Kind::kRounds || s.kind == Kind::kThreadRounds) ? Mode::kRounds : Mode::kFree;
      p.index = i;
      p.notifiers = s.notifiers;
      p.waiters = s.waiters;
      p.rounds = s.rounds;
      p.burst = s.burst;
      p.pause_us = p.role == Role::kWaiter ? s.waiter_pause_us : s.pause_us;
      p.timeout_ms =
          p.role == Role::kWaiter && p.mode == Mode::kFree ? s.timeouts_ms[i - s.notifiers] : 0;
      p.capacity = s.capacity_pages * static_cast<uint32_t>(zinc_page_size());
      p.bound_ms = g_bound_ms;
      p.seed = s.seed;
      p.shared_handle = s.shared_handle;
      p.plain = i < static_cast<int>(s.plain.size()) && s.plain[i];
      members_.push_back(m);
    }
  }
  virtual ~Run() = default;

  std::vector<std::string> violations;

 protected:
  void fail(const std::string& what) { violations.push_back(what); }
  Slot& slot(int i) { return shared_->slots[i]; }
  bool is_waiter(int i) const { return members_[i].params.role == Role::kWaiter; }

  // Alive means: not taken out by a fault, and (processes) not exited.
  virtual bool alive(int i) = 0;

  bool all_reached(Phase phase, const std::function<bool(int)>& which, int64_t limit_ms) {
    return wait_for(
        [&] {
          for (size_t i = 0; i < members_.size(); ++i) {
            const int n = static_cast<int>(i);
            if (!which(n) || members_[i].gone) continue;
            // One that died is reported by the exit-status check.
            if (slot(n).phase.load() < phase && alive(n)) return false;
          }
          return true;
        },
        limit_ms);
  }

  // The free-mode timeline after go: faults during run_ms, then stop the
  // notifiers, a quiet pause, the driver's final notify, and stop.
  template <typename TakeOut>
  bool free_timeline(int64_t go_ns, ZincHandle driver, TakeOut take_out) {
    size_t next = 0;
    while (ms_since(go_ns) < s_.run_ms) {
      while (next < s_.faults.size() && ms_since(go_ns) >= s_.faults[next].at_ms) {
        take_out(s_.faults[next].victim);
        ++next;
      }
      on_tick(go_ns);
      sleep_ms(1);
    }
    for (; next < s_.faults.size(); ++next) take_out(s_.faults[next].victim);
    shared_->control.notifiers_stop.store(1);
    if (!all_reached(
            Phase::kFinished, [&](int i) { return !is_waiter(i); }, 30000)) {
      fail("a notifier did not stop within 30 s (hang)");
      return false;
    }
    on_notifiers_stopped();
    sleep_ms(s_.quiet_ms);
    // Announce the final value, then notify: the notify wakes every waiter
    // (even one whose wake was lost to a notifier killed between its
    // increment and its wake) and each finds stop set.
    std::atomic<uint32_t>* seq = seq_word(driver);
    const uint32_t final_seq = seq->load() + 1;  // nobody else notifies now
    shared_->control.final_seq.store(final_seq);
    shared_->control.stop.store(1);
    Slot& mine = slot(kDriverSlot);
    const int64_t begin = now_ns();
    zinc_notify(driver);
    mine.records[0] = Record{Event::kNotify, 0, begin, now_ns(), final_seq - 1, seq->load(), 0, 0};
    mine.count.store(1, std::memory_order_release);
    final_seq_ = final_seq;
    uint32_t longest = 0;
    for (uint32_t t : s_.timeouts_ms) longest = std::max(longest, t);
    if (!all_reached(
            Phase::kFinished, [&](int i) { return is_waiter(i); }, longest + g_bound_ms + 10000)) {
      fail("a waiter did not consume the final notification (hang or lost wakeup)");
      return false;
    }
    return true;
  }
  virtual void on_tick(int64_t /*go_ns*/) {}
  virtual void on_notifiers_stopped() {}

  void count_rounds() {
    if (s_.rounds != 0) g_counters.rounds += s_.rounds;
  }

  const Scenario& s_;
  std::vector<Member> members_;
  Shared* shared_ = nullptr;
  uint32_t final_seq_ = 0;
};

// Participants as processes; faults are kill -9.
class ProcessRun : public Run {
 public:
  explicit ProcessRun(const Scenario& s)
      : Run(s), log_name_(unique_name("log")), subject_(unique_name("subject")) {}

  ~ProcessRun() override {
    for (size_t i = 0; i < pids_.size(); ++i) {
      if (pids_[i] > 0 && !reaped_[i]) {
        kill(pids_[i], SIGKILL);
        waitpid(pids_[i], nullptr, 0);
      }
    }
    zinc_close(driver_);
    zinc_close(log_);
    shm_unlink(("/zinc_" + subject_).c_str());  // the crashed creator's leftover, if any
  }

  void run() {
    const size_t log_bytes =
        (sizeof(Shared) + zinc_page_size() - 1) / zinc_page_size() * zinc_page_size();
    if (zinc_create(log_name_.c_str(), log_bytes, &log_) != ZINC_OK) {
      return fail(std::string("cannot create the log region: ") + zinc_last_error_message());
    }
    shared_ = new (zinc_ptr(log_)) Shared;
    const uint32_t capacity = s_.capacity_pages * static_cast<uint32_t>(zinc_page_size());
    if (s_.creator_crash) {
      Params creator = members_[0].params;
      creator.role = Role::kCreator;
      creator.plain = false;
      creator.mode = Mode::kFree;
      creator.index = static_cast<int>(members_.size());
      creator.capacity = capacity;
      members_.push_back(Member{creator, false});
      spawn(members_.size() - 1);
      if (!wait_for(
              [&] {
                return slot(creator.index).phase.load() >= Phase::kReady || !alive(creator.index);
              },
              20000) ||
          slot(creator.index).failed.load()) {
        return fail("the creator process did not create the region");
      }
      if (zinc_open(subject_.c_str(), &driver_) != ZINC_OK) {
        return fail(std::string("cannot open the creator's region: ") + zinc_last_error_message());
      }
    } else if (zinc_create(subject_.c_str(), capacity, &driver_) != ZINC_OK) {
      return fail(std::string("cannot create the region: ") + zinc_last_error_message());
    }
    for (size_t i = 0; i < members_.size(); ++i) {
      if (members_[i].params.role != Role::kCreator) spawn(i);
    }
    if (!all_reached(
            Phase::kReady, [](int) { return true; }, 30000)) {
      return fail("a participant did not start within 30 s");
    }
    shared_->control.go.store(1);
    const int64_t go_ns = now_ns();

    if (s_.kind == Kind::kRounds) {
      const int64_t limit = int64_t{s_.rounds} * (s_.pause_us / 1000 + g_bound_ms) + 30000;
      if (!all_reached(
              Phase::kFinished, [](int) { return true; }, limit)) {
        fail("the rounds did not finish (hang)");
      }
      final_seq_ = s_.rounds;
    } else {
      free_timeline(go_ns, driver_, [&](int victim) { kill_hard(victim); });
    }
    shared_->control.release.store(1);
    reap_all();
    count_rounds();
    check_logs(s_, *shared_, members_, final_seq_, violations);
    check_region_after_exit();
  }

 private:
  bool alive(int i) override {
    if (reaped_[i]) return false;
    int status = 0;
    if (waitpid(pids_[i], &status, WNOHANG) == pids_[i]) {
      reaped_[i] = true;
      statuses_[i] = status;
      return false;
    }
    return true;
  }

  void spawn(size_t i) {
    pids_.resize(members_.size(), -1);
    reaped_.resize(members_.size(), false);
    statuses_.resize(members_.size(), 0);
    std::vector<std::string> args = {zinc::test::paths::kStressWorker, log_name_, subject_};
    for (const std::string& a : to_args(members_[i].params)) args.push_back(a);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
      execv(argv[0], argv.data());
      _exit(127);
    }
    if (pid < 0) {
      fail(std::string("fork failed: ") + std::strerror(errno));
      reaped_[i] = true;  // nothing to wait for
      return;
    }
    pids_[i] = pid;
    ++g_counters.processes;
  }

  void kill_hard(int victim) {
    Member& m = members_[victim];
    if (m.gone || !alive(victim)) return;
    // Aim at the moment it is inside zinc_wait or zinc_notify: spin, since
    // a notify lasts microseconds.
    const int64_t give_up = now_ns() + 100 * 1000000;
    while (slot(victim).in_call.load() == 0 && now_ns() < give_up) {
    }
    const bool in_call = slot(victim).in_call.load() != 0;
    kill(pids_[victim], SIGKILL);
    waitpid(pids_[victim], nullptr, 0);
    reaped_[victim] = true;
    m.gone = true;
    if (!in_call) {
      ++g_counters.kills_elsewhere;
    } else if (m.params.role == Role::kWaiter) {
      ++g_counters.kills_mid_wait;
    } else {
      ++g_counters.kills_mid_notify;
    }
  }

  void on_tick(int64_t go_ns) override {
    if (s_.creator_crash && !creator_killed_ && ms_since(go_ns) >= s_.creator_kill_ms) {
      kill_hard(static_cast<int>(members_.size()) - 1);
      creator_killed_ = true;
      ++g_counters.creator_crashes;
    }
  }
  void on_notifiers_stopped() override { on_tick(0); }

  void reap_all() {
    const bool all_exited = wait_for(
        [&] {
          for (size_t i = 0; i < members_.size(); ++i) {
            if (alive(static_cast<int>(i))) return false;
          }
          return true;
        },
        30000);
    if (!all_exited) fail("a participant did not exit within 30 s of its release (hang)");
    for (size_t i = 0; i < members_.size(); ++i) {
      if (members_[i].gone) continue;
      if (!reaped_[i]) continue;  // killed above by the destructor
      const int st = statuses_[i];
      if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fail("participant " + std::to_string(i) + " ended with " +
             (WIFEXITED(st) ? "exit status " + std::to_string(WEXITSTATUS(st))
                            : "signal " + std::to_string(WTERMSIG(st))) +
             " (a sanitizer report or a crash; see its output above)");
      }
    }
  }

  // Every killed participant keeps its reference; every other one released
  // it. A region whose creator was killed stays in /dev/shm and stays valid.
  void check_region_after_exit() {
    uint32_t killed = 0;
    for (const Member& m : members_) killed += m.gone ? 1 : 0;
    const uint32_t refs = header_ref_count(driver_);
    if (refs != 1 + killed) {
      fail("ref_count " + std::to_string(refs) + " after the run; expected 1 (driver) + " +
           std::to_string(killed) + " killed");
    }
    uint32_t killed_counted = 0, killed_counted_waiters = 0;
    for (const Member& m : members_) {
      if (!m.gone || m.params.plain) continue;
      ++killed_counted;
      if (m.params.role == Role::kWaiter) ++killed_counted_waiters;
    }
    check_waiter_count_block(driver_, 1 + killed_counted, killed_counted_waiters, violations);
    zinc_close(driver_);
    driver_ = nullptr;
    if (!s_.creator_crash) {
      if (object_exists(subject_)) fail("the owner's close left the region in /dev/shm");
      return;
    }
    if (!object_exists(subject_))
      return fail("the crashed creator's region vanished from /dev/shm");
    ZincHandle late = nullptr;
    const int32_t rc = zinc_open(subject_.c_str(), &late);
    if (rc != ZINC_OK) {
      fail("a new open of the crashed creator's region returned " + std::to_string(rc) + ": " +
           zinc_last_error_message());
    }
    zinc_close(late);
  }

  std::string log_name_;
  std::string subject_;
  ZincHandle log_ = nullptr;
  ZincHandle driver_ = nullptr;
  std::vector<pid_t> pids_;
  std::vector<bool> reaped_;
  std::vector<int> statuses_;
  bool creator_killed_ = false;
};

// Participants as threads of this process; faults are closes of a waiter's
// handle by the driver (its wait returns ZINC_ECANCELED) and the owner's close.
class ThreadRun : public Run {
 public:
  explicit ThreadRun(const Scenario& s)
      : Run(s), storage_(new Shared), subject_(unique_name("subject")), handles_(members_.size()) {
    shared_ = storage_.get();
  }

  ~ThreadRun() override {
    shared_->control.release.store(1);
    shared_->control.go.store(1);
    shared_->control.stop.store(1);
    shared_->control.notifiers_stop.store(1);
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
    zinc_close(common_);
    zinc_close(observer_);
    zinc_close(owner_);
    shm_unlink(("/zinc_" + subject_).c_str());
  }

  void run() {
    const uint32_t capacity = s_.capacity_pages * static_cast<uint32_t>(zinc_page_size());
    if (zinc_create(subject_.c_str(), capacity, &owner_) != ZINC_OK ||
        zinc_open(subject_.c_str(), &observer_) != ZINC_OK ||
        (s_.shared_handle && zinc_open(subject_.c_str(), &common_) != ZINC_OK)) {
      return fail(std::string("cannot set up the region: ") + zinc_last_error_message());
    }
    for (size_t i = 0; i < members_.size(); ++i) {
      threads_.emplace_back([this, i] { participant(i); });
      ++g_counters.threads;
    }
    if (!all_reached(
            Phase::kReady, [](int) { return true; }, 30000)) {
      return fail("a thread did not start within 30 s");
    }
    shared_->control.go.store(1);
    const int64_t go_ns = now_ns();
    if (s_.kind == Kind::kThreadRounds) {
      rounds_to_the_end();
    } else {
      free_timeline(go_ns, observer_, [&](int victim) { cancel(victim); });
    }
    shared_->control.release.store(1);
    if (!all_reached(
            Phase::kClosed, [](int) { return true; }, 30000)) {
      fail("a thread did not finish within 30 s of its release (hang)");
      std::fflush(stdout);
      std::abort();  // a hung thread cannot be killed; end here, loudly
    }
    for (std::thread& t : threads_) t.join();
    count_rounds();
    check_logs(s_, *shared_, members_, final_seq_, violations);
    check_region_after_exit();
  }

 private:
  bool alive(int) override { return true; }

  void participant(size_t i) {
    const Params& p = members_[i].params;
    Context c;
    c.shared = shared_;
    c.cancellable = p.role == Role::kWaiter;
    if (s_.shared_handle) {
      c.handle = common_;
      c.owns_handle = false;
      c.data = zinc_ptr(common_);  // same mapping as the handle: TSan sees the ordering
    } else {
      if (zinc_open(subject_.c_str(), &c.handle) != ZINC_OK) {
        Slot& own = slot(static_cast<int>(i));
        std::snprintf(own.failure, sizeof own.failure, "open failed: %s",
                      zinc_last_error_message());
        own.failed.store(1);
        own.phase.store(Phase::kClosed);
        return;
      }
      c.data = zinc_ptr(c.handle);
    }
    handles_[i].store(c.handle);
    // notify_seq is read through a handle nobody closes under us.
    c.seq = seq_word(observer_);
    c.capacity = s_.capacity_pages * zinc_page_size();
    run_role(p, c);
  }

  void rounds_to_the_end() {
    const int64_t limit = int64_t{s_.rounds} * (s_.pause_us / 1000 + g_bound_ms) + 30000;
    const bool done =
        s_.shared_handle
            ? all_reached(
                  Phase::kFinished, [&](int i) { return !is_waiter(i); }, limit) &&
                  wait_for([&] { return shared_->control.consumed_round.load() == s_.rounds; },
                           g_bound_ms + 10000)
            : all_reached(
                  Phase::kFinished, [](int) { return true; }, limit);
    if (!done) fail("the rounds did not finish (hang)");
    final_seq_ = s_.rounds;
    if (!s_.shared_handle) return;
    // Every thread of the shared handle is now in (or about to enter)
    // zinc_wait with nothing left to report: the close must cancel them all.
    shared_->control.stop.store(1);
    wait_for(
        [&] {
          for (size_t i = 0; i < members_.size(); ++i) {
            const int n = static_cast<int>(i);
            if (is_waiter(n) && slot(n).phase.load() < Phase::kFinished &&
                slot(n).in_call.load() == 0) {
              return false;
            }
          }
          return true;
        },
        10000);
    zinc_close(common_);
    common_ = nullptr;
    if (!all_reached(
            Phase::kFinished, [&](int i) { return is_waiter(i); }, g_bound_ms + 5000)) {
      fail("closing the shared handle did not end its waits (hang)");
    }
  }

  // Closes a waiter's handle, preferably while it is inside zinc_wait.
  void cancel(int victim) {
    Member& m = members_[victim];
    if (m.gone) return;
    wait_for([&] { return slot(victim).in_call.load() != 0; }, 100);
    zinc_close(handles_[victim].load());
    m.gone = true;
  }

  void on_tick(int64_t go_ns) override {
    if (s_.owner_close && owner_ != nullptr && ms_since(go_ns) >= s_.owner_close_ms) {
      zinc_close(owner_);
      owner_ = nullptr;
      ++g_counters.owner_closes;
      if (object_exists(subject_)) fail("the owner's close left the name while readers work");
    }
  }
  void on_notifiers_stopped() override { on_tick(0); }

  void check_region_after_exit() {
    const uint32_t expected = 1 + (owner_ != nullptr ? 1 : 0);  // the observer, the owner
    const uint32_t refs = header_ref_count(observer_);
    if (refs != expected) {
      fail("ref_count " + std::to_string(refs) + " after every thread closed; expected " +
           std::to_string(expected));
    }
    check_waiter_count_block(observer_, expected, 0, violations);
    zinc_close(observer_);
    observer_ = nullptr;
    zinc_close(owner_);
    owner_ = nullptr;
    if (object_exists(subject_)) fail("the owner's close left the region in /dev/shm");
  }

  std::unique_ptr<Shared> storage_;
  std::string subject_;
  ZincHandle owner_ = nullptr;
  ZincHandle observer_ = nullptr;
  ZincHandle common_ = nullptr;
  std::vector<std::atomic<ZincHandle>> handles_;
  std::vector<std::thread> threads_;
};

std::vector<std::string> run_scenario(const Scenario& s) {
  ++g_counters.scenarios;
  if (is_threaded(s.kind)) {
    ThreadRun run(s);
    run.run();
    return run.violations;
  }
  ProcessRun run(s);
  run.run();
  return run.violations;
}

// --- rapidcheck ---------------------------------------------------------------

bool check_kind(Kind kind, int cases, uint64_t seed) {
  rc::detail::TestMetadata metadata;
  metadata.id = std::string("stress/") + kind_name(kind);
  metadata.description = metadata.id;
  rc::detail::TestParams params;
  params.seed = seed;
  params.maxSuccess = cases;
  // A timing failure does not shrink reliably, and each case costs processes.
  params.disableShrinking = true;
  std::printf("%s: %d scenarios, seed %" PRIu64 "\n", kind_name(kind), cases, seed);
  std::fflush(stdout);
  const auto result = rc::detail::checkTestable(
      [kind] {
        const Scenario s = *scenario_gen(kind);
        const std::vector<std::string> violations = run_scenario(s);
        for (const std::string& v : violations) std::fprintf(stderr, "violation: %s\n", v.c_str());
        if (!violations.empty()) {
          std::ostringstream text;
          for (const std::string& v : violations) text << "\n  " << v;
          RC_FAIL(text.str());
        }
      },
      metadata, params);
  if (!result.template is<rc::detail::SuccessResult>()) {
    rc::detail::printResultMessage(result, std::cout);
    std::cout << "\nreproduce: zinc_stress --kind " << kind_name(kind) << " --cases " << cases
              << " --seed " << seed << std::endl;
    return false;
  }
  return true;
}

std::vector<Kind> kinds_named(const std::string& name) {
  const std::vector<Kind> processes = {Kind::kRounds, Kind::kFree, Kind::kFaults};
  const std::vector<Kind> threads = {Kind::kThreadRounds, Kind::kThreadFree};
  if (name == "processes") return processes;
  if (name == "threads") return threads;
  if (name == "all") {
    std::vector<Kind> all = processes;
    all.insert(all.end(), threads.begin(), threads.end());
    return all;
  }
  for (Kind k :
       {Kind::kRounds, Kind::kFree, Kind::kFaults, Kind::kThreadRounds, Kind::kThreadFree}) {
    if (name == kind_name(k)) return {k};
  }
  return {};
}

}  // namespace
}  // namespace zinc::stress

int main(int argc, char** argv) {
  using namespace zinc::stress;
  std::string kind = "all";
  int cases = 3;
  double minutes = 0;
  uint64_t seed = std::random_device{}();
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--kind") {
      kind = value;
    } else if (flag == "--cases") {
      cases = std::stoi(value);
    } else if (flag == "--minutes") {
      minutes = std::stod(value);
    } else if (flag == "--seed") {
      seed = std::stoull(value);
    } else if (flag == "--bound-ms") {
      g_bound_ms = static_cast<uint32_t>(std::stoul(value));
    } else {
      std::fprintf(stderr, "unknown option %s\n", flag.c_str());
      return 2;
    }
  }
  const std::vector<Kind> kinds = kinds_named(kind);
  if (kinds.empty() || (argc % 2) == 0) {
    std::fprintf(
        stderr,
        "usage: zinc_stress [--kind rounds|free|faults|thread-rounds|thread-free|processes|"
        "threads|all] [--cases N] [--minutes M] [--seed S] [--bound-ms B]\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  const int64_t start = now_ns();
  bool ok = true;
  // One batch per kind; with --minutes, keep going round the kinds until the
  // time is up (the batch under way finishes).
  for (uint64_t batch = 0; ok; ++batch) {
    const bool time_left = (now_ns() - start) / 1e9 < minutes * 60;
    if (batch >= kinds.size() && !time_left) break;
    ok = check_kind(kinds[batch % kinds.size()], cases, seed + batch);
  }
  g_counters.print();
  std::printf("zinc_stress: %s in %.1f s\n", ok ? "no violations" : "VIOLATIONS",
              (now_ns() - start) / 1e9);
  return ok ? 0 : 1;
}
