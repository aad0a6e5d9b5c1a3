#include "scenario.hpp"

#include <algorithm>

namespace zinc::stress {

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::kRounds: return "rounds";
    case Kind::kFree: return "free";
    case Kind::kFaults: return "faults";
    case Kind::kThreadRounds: return "thread-rounds";
    case Kind::kThreadFree: return "thread-free";
  }
  return "?";
}

bool is_threaded(Kind kind) {
  return kind == Kind::kThreadRounds || kind == Kind::kThreadFree;
}

void showValue(const Scenario& s, std::ostream& os) {
  os << kind_name(s.kind) << " seed=" << s.seed << " notifiers=" << s.notifiers
     << " waiters=" << s.waiters << " capacity_pages=" << s.capacity_pages;
  if (s.rounds != 0) os << " rounds=" << s.rounds << (s.shared_handle ? " shared_handle" : "");
  if (s.run_ms != 0) {
    os << " run_ms=" << s.run_ms << " quiet_ms=" << s.quiet_ms << " burst=" << s.burst
       << " waiter_pause_us=" << s.waiter_pause_us << " timeouts_ms=[";
    for (size_t i = 0; i < s.timeouts_ms.size(); ++i) os << (i ? "," : "") << s.timeouts_ms[i];
    os << "]";
  }
  os << " pause_us=" << s.pause_us;
  for (size_t i = 0; i < s.plain.size(); ++i) {
    if (s.plain[i]) os << " plain_v2(participant " << i << ")";
  }
  for (const Fault& f : s.faults)
    os << " fault(participant " << f.victim << " at " << f.at_ms << " ms)";
  if (s.creator_crash) os << " creator_crash_at=" << s.creator_kill_ms << "ms";
  if (s.owner_close) os << " owner_close_at=" << s.owner_close_ms << "ms";
}

namespace {

// Faults on up to `max` distinct participants drawn from `candidates`.
std::vector<Fault> faults_among(std::vector<int> candidates, int max, uint32_t run_ms) {
  const int count =
      *rc::gen::inRange(1, std::min<int>(max, static_cast<int>(candidates.size())) + 1);
  std::vector<Fault> faults;
  for (int i = 0; i < count; ++i) {
    const size_t pick = *rc::gen::inRange<size_t>(0, candidates.size());
    faults.push_back({candidates[pick], *rc::gen::inRange<uint32_t>(0, run_ms)});
    candidates.erase(candidates.begin() + static_cast<long>(pick));
  }
  std::sort(faults.begin(), faults.end(),
            [](const Fault& a, const Fault& b) { return a.at_ms < b.at_ms; });
  return faults;
}

void free_part(Scenario& s, int min_notifiers, int min_waiters) {
  s.notifiers = *rc::gen::inRange(min_notifiers, 4);
  s.waiters = *rc::gen::inRange(min_waiters, 5);
  s.run_ms = *rc::gen::inRange<uint32_t>(50, 500);
  s.quiet_ms = *rc::gen::element<uint32_t>(0, 30, 200);
  s.burst = *rc::gen::inRange<uint32_t>(1, 21);
  s.pause_us = *rc::gen::element<uint32_t>(10, 100, 1000, 10000);
  s.waiter_pause_us = *rc::gen::element<uint32_t>(0, 100, 1000);
  // Short timeouts exercise timeout accuracy; the long one makes a lost
  // wakeup visible as a wait that outlives a notify by the bound.
  s.timeouts_ms = *rc::gen::container<std::vector<uint32_t>>(
      static_cast<size_t>(s.waiters), rc::gen::element<uint32_t>(1, 5, 20, 100, 5000));
}

// Which participants speak plain v2 (the original protocol: no waiter
// count, so counted notifiers must still wake them): none, a random quarter,
// or every waiter (so a sleeping plain waiter is often the only sleeper).
std::vector<bool> plain_mix(const Scenario& s) {
  const size_t n = static_cast<size_t>(s.notifiers + s.waiters);
  switch (*rc::gen::inRange(0, 3)) {
    case 0: return std::vector<bool>(n, false);
    case 1:
      return *rc::gen::container<std::vector<bool>>(n, rc::gen::element(false, false, false, true));
    default: {
      std::vector<bool> plain(n, false);
      for (size_t i = static_cast<size_t>(s.notifiers); i < n; ++i) plain[i] = true;
      return plain;
    }
  }
}

}  // namespace

rc::Gen<Scenario> scenario_gen(Kind kind) {
  // Full size for every case: inRange scales with rapidcheck's size, which
  // starts at 0, and a short profile of a few cases should still see the
  // whole parameter space.
  return rc::gen::resize(100, rc::gen::exec([kind] {
                           Scenario s;
                           s.kind = kind;
                           s.seed = *rc::gen::arbitrary<uint64_t>();
                           s.capacity_pages = *rc::gen::inRange<uint32_t>(1, 17);
                           switch (kind) {
                             case Kind::kRounds:
                             case Kind::kThreadRounds:
                               s.shared_handle =
                                   kind == Kind::kThreadRounds && *rc::gen::arbitrary<bool>();
                               s.notifiers = *rc::gen::inRange(1, 4);
                               s.waiters = *rc::gen::inRange(s.shared_handle ? 2 : 1, 5);
                               s.rounds = *rc::gen::inRange<uint32_t>(5, 41);
                               s.pause_us = *rc::gen::element<uint32_t>(0, 100, 1000, 5000);
                               break;
                             case Kind::kFree: free_part(s, 0, 1); break;
                             case Kind::kFaults: {
                               free_part(s, 1, 2);
                               // Kill notifiers and waiters, but leave at least one waiter.
                               std::vector<int> candidates;
                               for (int i = 0; i < s.notifiers + s.waiters - 1; ++i)
                                 candidates.push_back(i);
                               s.faults = faults_among(candidates, 2, s.run_ms);
                               s.creator_crash = *rc::gen::arbitrary<bool>();
                               s.creator_kill_ms = *rc::gen::inRange<uint32_t>(0, s.run_ms);
                               break;
                             }
                             case Kind::kThreadFree: {
                               free_part(s, 0, 2);
                               std::vector<int> waiters;  // cancel some waiters, never all
                               for (int w = 0; w < s.waiters - 1; ++w)
                                 waiters.push_back(s.notifiers + w);
                               if (*rc::gen::arbitrary<bool>())
                                 s.faults = faults_among(waiters, 2, s.run_ms);
                               s.owner_close = *rc::gen::arbitrary<bool>();
                               s.owner_close_ms = *rc::gen::inRange<uint32_t>(0, s.run_ms);
                               break;
                             }
                           }
                           if (!is_threaded(kind)) s.plain = plain_mix(s);
                           return s;
                         }));
}

}  // namespace zinc::stress
