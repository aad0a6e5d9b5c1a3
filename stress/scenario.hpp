// Stress scenarios and their rapidcheck generators.
#pragma once

#include <rapidcheck.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace zinc::stress {

enum class Kind {
  kRounds,        // processes, lockstep rounds with checksummed payloads
  kFree,          // processes, bursts of notifies, waits with timeouts
  kFaults,        // kFree plus kill -9 of participants and of the creator
  kThreadRounds,  // threads, lockstep rounds; optionally all on one handle
  kThreadFree,    // threads, kFree plus closes that cancel waits, owner close
};

const char* kind_name(Kind kind);
bool is_threaded(Kind kind);

// A participant taken out during the run: kill -9 (processes) or a close of
// its handle by the driver (threads, waiters only).
struct Fault {
  int victim;      // participant index
  uint32_t at_ms;  // after go
};

struct Scenario {
  Kind kind = Kind::kFree;
  uint64_t seed = 1;
  int notifiers = 1;  // participants 0 .. notifiers-1
  int waiters = 1;    // then the waiters
  uint32_t capacity_pages = 1;
  uint32_t rounds = 0;                // rounds kinds
  bool shared_handle = false;         // kThreadRounds: every thread on one handle
  uint32_t run_ms = 0;                // free kinds: how long notifiers run
  uint32_t quiet_ms = 0;              // then a pause with no notifies
  uint32_t burst = 1;                 // max notifies per burst
  uint32_t pause_us = 0;              // max pause between bursts or rounds
  uint32_t waiter_pause_us = 0;       // max pause between waits
  std::vector<uint32_t> timeouts_ms;  // per waiter (free kinds)
  std::vector<bool> plain;            // per participant: a plain v2 peer (process kinds)
  std::vector<Fault> faults;
  bool creator_crash = false;  // kFaults: a participant creates the region and is killed
  uint32_t creator_kill_ms = 0;
  bool owner_close = false;  // kThreadFree: the owner closes while others work
  uint32_t owner_close_ms = 0;
};

void showValue(const Scenario& s, std::ostream& os);

rc::Gen<Scenario> scenario_gen(Kind kind);

}  // namespace zinc::stress
