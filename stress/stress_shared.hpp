// What the stress driver and its participants share: the control block and
// per-participant logs (in a zinc region for processes, on the heap for
// threads), the payload layout in the region under test, and the roles.
//
// Participants write one Record per notify or wait, with CLOCK_MONOTONIC
// times (comparable across processes), so the driver can check the timing
// properties afterwards, also for participants it killed: a record counts
// once `count` was bumped past it (release), so a half-written record is
// never read.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "plain_v2.hpp"
#include "zinc.h"

namespace zinc::stress {

constexpr int kMaxParticipants = 8;
constexpr uint32_t kMaxRecords = 8192;  // per participant; later events are not logged

enum class Role : uint32_t { kNotifier, kWaiter, kCreator };
enum class Mode : uint32_t {
  kRounds,  // lockstep: one notify per round, every waiter acknowledges it
  kFree,    // notifiers in bursts, waiters with timeouts, driver-timed phases
};

enum class Phase : uint32_t { kStarting, kReady, kFinished, kClosed };

enum class Event : uint32_t { kNotify, kWait, kTryWait };

struct Record {
  Event event;
  int32_t rc;
  int64_t begin_ns;     // just before the call
  int64_t end_ns;       // just after it returned
  uint32_t seq_before;  // notify_seq read before the call
  uint32_t seq_after;   // and after
  uint32_t timeout_ms;
  uint32_t unused;
};

// One participant's state and log.
struct Slot {
  std::atomic<Phase> phase{Phase::kStarting};
  std::atomic<uint32_t> in_call{0};      // 1 while inside zinc_wait / zinc_notify
  std::atomic<uint32_t> acked_round{0};  // rounds mode: last round read and checked
  std::atomic<uint32_t> cancelled{0};    // its wait was cancelled by a close
  std::atomic<uint32_t> count{0};        // records written
  std::atomic<uint32_t> failed{0};       // it detected a violation itself
  char failure[512];
  Record records[kMaxRecords];
};

struct Control {
  std::atomic<uint32_t> go{0};              // all participants start
  std::atomic<uint32_t> notifiers_stop{0};  // free mode: stop notifying
  std::atomic<uint32_t> final_seq{0};       // free mode: the last notify_seq, valid once stop
  std::atomic<uint32_t> stop{0};            // waiters finish once they consumed final_seq
  std::atomic<uint32_t> release{0};         // everyone may close and exit
  std::atomic<uint32_t> round{0};           // rounds mode: last round notified
  std::atomic<uint32_t> consumed_round{0};  // rounds mode, shared handle: last round reported
};

struct Shared {
  Control control;
  Slot slots[kMaxParticipants + 1];  // the last one is the driver's own log
};

// The start of the data area of the region under test in rounds mode. The
// notifier writes it before notify; a waiter reads it after its wait.
struct PayloadHeader {
  uint64_t round;
  int64_t notified_ns;
  uint32_t length;  // bytes after this header
  uint32_t unused;
  uint64_t checksum;  // FNV-1a over round and the bytes
};

// One participant's instructions.
struct Params {
  Role role = Role::kWaiter;
  Mode mode = Mode::kFree;
  int index = 0;      // its slot
  int notifiers = 0;  // for turn taking and acks
  int waiters = 0;
  uint32_t rounds = 0;        // rounds mode
  uint32_t burst = 1;         // free mode notifier: notifies per burst
  uint32_t pause_us = 0;      // max random pause between bursts / rounds / waits
  uint32_t timeout_ms = 100;  // free mode waiter
  uint32_t capacity = 0;      // creator: region capacity
  uint32_t bound_ms = 2000;   // "promptly"
  uint64_t seed = 1;
  bool shared_handle = false;  // rounds with several threads on one handle
  bool plain = false;          // a plain v2 peer (tests/plain_v2.hpp), not libzinc
};

std::vector<std::string> to_args(const Params& p);
Params from_args(const std::vector<std::string>& args);

// What a role needs besides its Params.
struct Context {
  Shared* shared = nullptr;
  ZincHandle handle = nullptr;  // the handle under test
  // Or, for a plain v2 peer, that handle (the participant closes it).
  std::unique_ptr<zinc::test::PlainV2Handle> plain;
  // Where to read notify_seq, and the payload area: the same mapping as
  // `handle` except for threads that may have their handle closed under them.
  std::atomic<uint32_t>* seq = nullptr;
  uint8_t* data = nullptr;
  size_t capacity = 0;
  bool cancellable = false;  // the driver may close `handle` (threads only)
  bool owns_handle = true;   // close `handle` when done (not when shared)
  std::string subject_name;  // the creator creates the region under this name
};

void run_role(const Params& params, Context& context);

int64_t now_ns();
std::atomic<uint32_t>* seq_word(ZincHandle h);  // the header's notify_seq
uint64_t checksum(uint64_t round, const uint8_t* bytes, size_t length);

// splitmix64: small, seedable, good enough for delays and payload bytes.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint32_t below(uint32_t n) { return n == 0 ? 0 : static_cast<uint32_t>(next() % n); }

 private:
  uint64_t state_;
};

}  // namespace zinc::stress
