#include "liveness.hpp"

namespace zinc::core {

Creator judge_creator(int32_t owner_pid, uint64_t created_at, const posix::ProcessInfo& process,
                      const std::function<bool()>& maps_region) {
  if (owner_pid <= 0) return Creator::kUnknown;
  if (!process.exists || process.zombie) return Creator::kDead;
  if (!process.start_known) return Creator::kUnknown;
  if (process.start_ns <= created_at || process.start_ns - created_at <= kStartSlackNs) {
    return Creator::kAlive;
  }
  // A live creator maps its region for as long as the name is its own, so a
  // later-started process that maps it is the creator seen through a clock
  // that moved; one that does not (or whose maps we may not read) is not.
  return maps_region() ? Creator::kAlive : Creator::kPidReused;
}

Creator creator_of(const Inspection& region) {
  const int32_t pid = region.header.owner_pid;
  const posix::ProcessInfo process = posix::probe_process(pid);
  return judge_creator(pid, region.header.created_at, process, [&] {
    bool maps = false;
    return posix::process_maps(pid, region.id, &maps).is_ok() && maps;
  });
}

}  // namespace zinc::core
