// Is a region's creator still running? Judged from the header's owner_pid
// and created_at so that a recycled pid is not taken for the creator.
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

// Gathers the facts through /proc and judges the creator of an inspected
// region (one with a header).
Creator creator_of(const Inspection& region);

}  // namespace zinc::core
