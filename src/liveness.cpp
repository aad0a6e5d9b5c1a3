#include "liveness.hpp"

#include "locks.hpp"

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
  if ((region.header.flags & locks::kRegionFlag) != 0) {
    bool held = false;
    if (region.fd.get() < 0 ||
        !locks::held_by_other(region.fd.get(), locks::kCreatorByte, &held).is_ok()) {
      return Creator::kUnknown;
    }
    return held ? Creator::kAlive : Creator::kDead;
  }
  const int32_t pid = region.header.owner_pid;
  const posix::ProcessInfo process = posix::probe_process(pid);
  return judge_creator(pid, region.header.created_at, process, [&] {
    bool maps = false;
    return posix::process_maps(pid, region.id, &maps).is_ok() && maps;
  });
}

Status anyone_attached(const Inspection& region, bool* attached) {
  *attached = false;
  if ((region.header.flags & locks::kRegionFlag) == 0) return Status::ok();
  if (region.fd.get() < 0) return Status::error(ZINC_EPERM, "the object could not be opened");
  return locks::held_by_other(region.fd.get(), locks::kAttachedByte, attached);
}

Creator role_state(const Inspection& region, uint64_t word, uint64_t joined_at,
                   uint64_t lock_byte, bool* free) {
  const int32_t pid = static_cast<int32_t>(static_cast<uint32_t>(word));
  const bool active = (word & (uint64_t{1} << 32)) != 0;
  *free = pid == 0 && !active;
  if (*free) return Creator::kDead;
  if ((region.header.flags & locks::kRegionFlag) != 0) {
    bool held = false;
    if (region.fd.get() < 0 || !locks::held_by_other(region.fd.get(), lock_byte, &held).is_ok()) {
      return Creator::kUnknown;
    }
    return held ? Creator::kAlive : Creator::kDead;
  }
  const posix::ProcessInfo process = posix::probe_process(pid);
  if (!active) return !process.exists || process.zombie ? Creator::kDead : Creator::kUnknown;
  return judge_creator(pid, joined_at, process, [&] {
    bool maps = false;
    return posix::process_maps(pid, region.id, &maps).is_ok() && maps;
  });
}

bool role_holder_alive(int fd, uint64_t byte) {
  bool held = true;
  if (!locks::held_by_other(fd, byte, &held).is_ok()) return true;
  return held;
}

}  // namespace zinc::core
