// Is a region's creator, or a channel participant, still alive? The one
// place that decides (docs/spec.md §4.4, §4.5, §10.3).
//
// Regions with the liveness-lock flag are judged by the kernel: a holder
// keeps an OFD lock on its role's byte, so "locked" is "alive", exactly,
// across pid namespaces, exited main threads and pid reuse. Other regions
// (the original implementation's, plain v2 peers') fall back to the pid
// rule: owner_pid and created_at, so that a recycled pid is not taken for
// the creator; that rule cannot see a process in another pid namespace.
#pragma once

#include <cstdint>
#include <functional>

#include "inspect.hpp"
#include "posix.hpp"
#include "zinc.h"

namespace zinc::core {

enum class Creator : int32_t {
  kDead = ZINC_CREATOR_DEAD,
  kAlive = ZINC_CREATOR_ALIVE,
  kPidReused = ZINC_CREATOR_PID_REUSED,
  kUnknown = ZINC_CREATOR_UNKNOWN,
};

// How much later than created_at the process holding owner_pid may appear
// to have started and still count as the creator. The creator started
// before it wrote created_at, but the start time we can compute
// (/proc/stat btime + starttime ticks) has tick resolution, btime is whole
// seconds, and btime moves when the realtime clock is stepped.
inline constexpr uint64_t kStartSlackNs = 2'000'000'000;

// The rule, given what the OS said about process owner_pid:
//   pid <= 0                        -> kUnknown (not a process id)
//   no such process, or a zombie    -> kDead
//   start time unknown              -> kUnknown
//   started <= created_at + slack   -> kAlive
//   started later, but maps region  -> kAlive (the clock was stepped)
//   started later                   -> kPidReused
// `maps_region` is asked only in the last two cases.
Creator judge_creator(int32_t owner_pid, uint64_t created_at, const posix::ProcessInfo& process,
                      const std::function<bool()>& maps_region);

// Judges the creator of an inspected region (one with a header): by its
// lock when the region carries the flag, else through /proc.
Creator creator_of(const Inspection& region);

// Whether some handle is attached to a locking region (holds the shared
// lock on the attached byte). False for regions without the flag, whose
// plain handles take no lock: ask /proc (find_mappers) for those.
Status anyone_attached(const Inspection& region, bool* attached);

// A channel role holder (writer, or reader entry) in a region that uses
// locks: alive while the role's byte is locked by another description.
// `fd` is any descriptor of the object; `byte` is locks::writer_byte or
// locks::reader_byte. A failed query counts as alive (never evict on
// doubt).
bool role_holder_alive(int fd, uint64_t byte);

// The state of a channel role's holder in an inspected region: the owner
// word and joined_at were read from the object; `lock_byte` is the role's.
// kUnknown when the region has no locks and the word is only claiming.
Creator role_state(const Inspection& region, uint64_t word, uint64_t joined_at,
                   uint64_t lock_byte, bool* free);

}  // namespace zinc::core
