// The participants of a stress scenario. Each runs the same code as a
// process (stress/worker.cpp) or as a thread of the driver.
#include <time.h>

#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

#include "stress_shared.hpp"

namespace zinc::stress {

int64_t now_ns() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return int64_t{t.tv_sec} * 1000000000 + t.tv_nsec;
}

std::atomic<uint32_t>* seq_word(ZincHandle h) {
  // The header is one page before the data; notify_seq is at offset 12.
  return reinterpret_cast<std::atomic<uint32_t>*>(zinc_ptr(h) - zinc_page_size() + 12);
}

uint64_t checksum(uint64_t round, const uint8_t* bytes, size_t length) {
  uint64_t hash = 0xcbf29ce484222325ULL ^ round;
  for (size_t i = 0; i < length; ++i) {
    hash ^= bytes[i];
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::vector<std::string> to_args(const Params& p) {
  return {std::to_string(static_cast<uint32_t>(p.role)),
          std::to_string(static_cast<uint32_t>(p.mode)),
          std::to_string(p.index),
          std::to_string(p.notifiers),
          std::to_string(p.waiters),
          std::to_string(p.rounds),
          std::to_string(p.burst),
          std::to_string(p.pause_us),
          std::to_string(p.timeout_ms),
          std::to_string(p.capacity),
          std::to_string(p.bound_ms),
          std::to_string(p.seed),
          std::to_string(p.shared_handle ? 1 : 0),
          std::to_string(p.plain ? 1 : 0)};
}

Params from_args(const std::vector<std::string>& a) {
  if (a.size() != 14) throw std::invalid_argument("expected 14 parameters");
  Params p;
  p.role = static_cast<Role>(std::stoul(a[0]));
  p.mode = static_cast<Mode>(std::stoul(a[1]));
  p.index = std::stoi(a[2]);
  p.notifiers = std::stoi(a[3]);
  p.waiters = std::stoi(a[4]);
  p.rounds = static_cast<uint32_t>(std::stoul(a[5]));
  p.burst = static_cast<uint32_t>(std::stoul(a[6]));
  p.pause_us = static_cast<uint32_t>(std::stoul(a[7]));
  p.timeout_ms = static_cast<uint32_t>(std::stoul(a[8]));
  p.capacity = static_cast<uint32_t>(std::stoul(a[9]));
  p.bound_ms = static_cast<uint32_t>(std::stoul(a[10]));
  p.seed = std::stoull(a[11]);
  p.shared_handle = a[12] == "1";
  p.plain = a[13] == "1";
  return p;
}

namespace {

void pause_us(uint32_t us) {
  if (us == 0) return;
  timespec t{static_cast<time_t>(us / 1000000), static_cast<long>(us % 1000000) * 1000};
  nanosleep(&t, nullptr);
}

// Polls `done` every 50 us until it holds or `limit_ms` passed.
template <typename Done>
bool poll_until(Done done, int64_t limit_ms) {
  const int64_t deadline = now_ns() + limit_ms * 1000000;
  while (!done()) {
    if (now_ns() > deadline) return false;
    pause_us(50);
  }
  return true;
}

class Participant {
 public:
  Participant(const Params& params, Context& context)
      : p_(params),
        c_(context),
        control_(context.shared->control),
        slot_(context.shared->slots[params.index]),
        rng_(params.seed * 1000003 + static_cast<uint64_t>(params.index)) {}

  void fail(const std::string& what) {
    if (slot_.failed.exchange(1) == 0) {
      std::snprintf(slot_.failure, sizeof slot_.failure, "%s", what.c_str());
    }
  }
  bool failed() const { return slot_.failed.load() != 0; }

  void log(Event event, int32_t rc, int64_t begin, int64_t end, uint32_t before, uint32_t after,
           uint32_t timeout_ms) {
    const uint32_t n = slot_.count.load(std::memory_order_relaxed);
    if (n >= kMaxRecords) return;
    slot_.records[n] = Record{event, rc, begin, end, before, after, timeout_ms, 0};
    slot_.count.store(n + 1, std::memory_order_release);
  }

  uint32_t seq() const { return c_.seq->load(std::memory_order_acquire); }

  int32_t try_wait() { return c_.plain ? c_.plain->try_wait() : zinc_try_wait(c_.handle); }

  void notify_logged() {
    const uint32_t before = seq();
    const int64_t begin = now_ns();
    slot_.in_call.store(1);
    if (c_.plain) {
      c_.plain->notify();
    } else {
      zinc_notify(c_.handle);
    }
    slot_.in_call.store(0);
    const int64_t end = now_ns();
    log(Event::kNotify, 0, begin, end, before, seq(), 0);
  }

  // A logged zinc_wait; *end_out gets the time it returned.
  int32_t wait_logged(uint32_t timeout_ms, int64_t* end_out = nullptr) {
    const uint32_t before = seq();
    const int64_t begin = now_ns();
    slot_.in_call.store(1);
    const int32_t rc = c_.plain ? c_.plain->wait(timeout_ms) : zinc_wait(c_.handle, timeout_ms);
    slot_.in_call.store(0);
    const int64_t end = now_ns();
    log(Event::kWait, rc, begin, end, before, seq(), timeout_ms);
    if (end_out != nullptr) *end_out = end;
    return rc;
  }

  // True for the end of a wait by the driver's close of our handle:
  // ZINC_ECANCELED, or ZINC_EINVAL when the close came between two calls.
  bool cancelled_by(int32_t rc) {
    if (!c_.cancellable || (rc != ZINC_ECANCELED && rc != ZINC_EINVAL)) return false;
    slot_.cancelled.store(1);
    return true;
  }

  void ready_and_wait_for_go() {
    slot_.phase.store(Phase::kReady);
    poll_until([&] { return control_.go.load() != 0; }, 60000);
  }

  // Finished: wait until the driver releases everyone (it may still kill or
  // check us), then close.
  void finish() {
    slot_.phase.store(Phase::kFinished);
    poll_until([&] { return control_.release.load() != 0; }, 120000);
    if (c_.plain) {
      c_.plain.reset();
    } else if (c_.owns_handle && !slot_.cancelled.load()) {
      zinc_close(c_.handle);
    }
    slot_.phase.store(Phase::kClosed);
  }

  // --- rounds mode -----------------------------------------------------
  void rounds_notifier() {
    ready_and_wait_for_go();
    for (uint32_t round = 1; round <= p_.rounds && !failed(); ++round) {
      if (static_cast<int>((round - 1) % p_.notifiers) != p_.index) continue;
      if (!poll_until([&] { return control_.round.load() == round - 1; }, 30000)) {
        fail("notifier " + std::to_string(p_.index) + ": round " + std::to_string(round - 1) +
             " was never notified");
        break;
      }
      if (!poll_until([&] { return all_acked(round - 1); }, 10000)) {
        fail("round " + std::to_string(round - 1) +
             " was not acknowledged within 10 s: a waiter missed its notification (lost wakeup)");
        break;
      }
      pause_us(rng_.below(p_.pause_us + 1));
      write_payload(round);
      notify_logged();
      control_.round.store(round);
    }
    finish();
  }

  bool all_acked(uint32_t round) const {
    if (p_.shared_handle) return control_.consumed_round.load() >= round;
    for (int w = 0; w < p_.waiters; ++w) {
      if (c_.shared->slots[p_.notifiers + w].acked_round.load() < round) return false;
    }
    return true;
  }

  void write_payload(uint32_t round) {
    auto* header = reinterpret_cast<PayloadHeader*>(c_.data);
    uint8_t* bytes = c_.data + sizeof(PayloadHeader);
    const uint32_t room = static_cast<uint32_t>(c_.capacity - sizeof(PayloadHeader));
    const uint32_t length = rng_.below(room + 1);
    Rng fill(p_.seed ^ (uint64_t{round} << 32));
    for (uint32_t i = 0; i < length; ++i) bytes[i] = static_cast<uint8_t>(fill.next());
    header->round = round;
    header->length = length;
    header->checksum = checksum(round, bytes, length);
    header->notified_ns = now_ns();
  }

  // Own handle: exactly one successful wait per round, for every round.
  // Shared handle: each round is reported to exactly one of the threads.
  void rounds_waiter() {
    ready_and_wait_for_go();
    uint32_t last_round = 0;
    for (;;) {
      if (p_.shared_handle) {
        slot_.in_call.store(1);  // before looking at stop: see the driver's close protocol
        if (control_.stop.load()) break;
      } else if (last_round == p_.rounds) {
        break;
      }
      int64_t end = 0;
      const int32_t rc = wait_logged(10000, &end);
      if (p_.shared_handle && (rc == ZINC_ECANCELED || rc == ZINC_EINVAL)) break;
      if (rc != ZINC_OK) {
        fail("waiter " + std::to_string(p_.index) + ": wait for round " +
             std::to_string(last_round + 1) + " returned " + std::to_string(rc) +
             " after 10 s: lost wakeup");
        break;
      }
      const auto* header = reinterpret_cast<const PayloadHeader*>(c_.data);
      const uint8_t* bytes = c_.data + sizeof(PayloadHeader);
      const uint64_t round = header->round;
      const std::string who =
          "waiter " + std::to_string(p_.index) + ", round " + std::to_string(round);
      if (header->length > c_.capacity - sizeof(PayloadHeader) ||
          checksum(round, bytes, header->length) != header->checksum) {
        fail(who +
             ": payload checksum mismatch: data written before notify not visible after wait");
        break;
      }
      const int64_t late_ms = (end - header->notified_ns) / 1000000;
      if (late_ms > p_.bound_ms) {
        fail(who + ": woken " + std::to_string(late_ms) + " ms after the notify");
        break;
      }
      if (p_.shared_handle) {
        // Exactly one thread of the handle reports each round.
        uint32_t expected = static_cast<uint32_t>(round) - 1;
        if (!control_.consumed_round.compare_exchange_strong(expected,
                                                             static_cast<uint32_t>(round))) {
          fail(who + ": reported to two threads of one handle, or a round skipped (last reported " +
               std::to_string(expected) + ")");
          break;
        }
      } else {
        if (round != last_round + 1) {
          fail(who + ": expected round " + std::to_string(last_round + 1) +
               (round == last_round ? " (phantom notification: wait returned 0 without a change)"
                                    : " (a round was skipped)"));
          break;
        }
        slot_.acked_round.store(static_cast<uint32_t>(round));
      }
      last_round = static_cast<uint32_t>(round);
    }
    slot_.in_call.store(0);
    if (!p_.shared_handle && !failed()) at_rest_checks();
    finish();
  }

  // Everything consumed and nobody notifies: nothing may be reported, and a
  // wait with a timeout times out within its bounds.
  void at_rest_checks() {
    const uint32_t before = seq();
    const int64_t begin = now_ns();
    const int32_t rc = try_wait();
    log(Event::kTryWait, rc, begin, now_ns(), before, seq(), 0);
    if (rc != ZINC_EAGAIN) {
      fail("waiter " + std::to_string(p_.index) + ": try_wait at rest returned " +
           std::to_string(rc) + " (phantom notification)");
      return;
    }
    const int32_t waited = wait_logged(20);
    if (waited != ZINC_ETIMEDOUT) {
      fail("waiter " + std::to_string(p_.index) + ": wait(20) at rest returned " +
           std::to_string(waited));
    }
  }

  // --- free mode -------------------------------------------------------
  void free_notifier() {
    ready_and_wait_for_go();
    while (control_.notifiers_stop.load() == 0) {
      const uint32_t burst = 1 + rng_.below(p_.burst);
      for (uint32_t i = 0; i < burst; ++i) notify_logged();
      pause_us(rng_.below(p_.pause_us + 1));
    }
    finish();
  }

  void free_waiter() {
    ready_and_wait_for_go();
    for (;;) {
      if (control_.stop.load() != 0) {
        // The driver announced the final value and notifies it (if it has
        // not yet); nobody notifies after it, so one try_wait then takes the
        // cursor to the final value.
        const uint32_t final_seq = control_.final_seq.load();
        poll_until([&] { return seq() == final_seq; }, 10000);
        const uint32_t before = seq();
        const int64_t begin = now_ns();
        const int32_t rc = try_wait();
        log(Event::kTryWait, rc, begin, now_ns(), before, seq(), 0);
        if (before != final_seq) {
          fail("notify_seq " + std::to_string(before) + " after the final notify " +
               std::to_string(final_seq));
        } else if (rc != ZINC_OK && rc != ZINC_EAGAIN && !cancelled_by(rc)) {
          fail("waiter " + std::to_string(p_.index) + ": try_wait returned " + std::to_string(rc));
        } else if (!slot_.cancelled.load()) {
          at_rest_checks();
        }
        break;
      }
      const int32_t rc = wait_logged(p_.timeout_ms);
      if (cancelled_by(rc)) break;
      if (rc != ZINC_OK && rc != ZINC_ETIMEDOUT) {
        fail("waiter " + std::to_string(p_.index) + ": wait returned " + std::to_string(rc));
        break;
      }
      pause_us(rng_.below(p_.pause_us + 1));
    }
    finish();
  }

  void creator() {
    ZincHandle h = nullptr;
    const int32_t rc = zinc_create(c_.subject_name.c_str(), p_.capacity, &h);
    if (rc != ZINC_OK) {
      fail(std::string("creator: zinc_create failed: ") + zinc_last_error_message());
      slot_.phase.store(Phase::kFinished);
      return;
    }
    c_.handle = h;
    c_.seq = seq_word(h);
    c_.data = zinc_ptr(h);
    c_.capacity = zinc_capacity(h);
    free_notifier();
  }

 private:
  const Params& p_;
  Context& c_;
  Control& control_;
  Slot& slot_;
  Rng rng_;
};

}  // namespace

void run_role(const Params& params, Context& context) {
  Participant participant(params, context);
  switch (params.role) {
    case Role::kCreator: participant.creator(); break;
    case Role::kNotifier:
      if (params.mode == Mode::kRounds) {
        participant.rounds_notifier();
      } else {
        participant.free_notifier();
      }
      break;
    case Role::kWaiter:
      if (params.mode == Mode::kRounds) {
        participant.rounds_waiter();
      } else {
        participant.free_waiter();
      }
      break;
  }
}

}  // namespace zinc::stress
