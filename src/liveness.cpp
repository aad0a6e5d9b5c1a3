#include "liveness.hpp"

#include "channel_layout.hpp"
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

namespace {

// A lock-protected role (§4.5): alive while another description holds the
// byte's lock; unknown when the kernel cannot be asked.
Creator judged_by_lock(int fd, uint64_t byte) {
  bool held = false;
  if (fd < 0 || !locks::held_by_other(fd, byte, &held).is_ok()) return Creator::kUnknown;
  return held ? Creator::kAlive : Creator::kDead;
}

// The pid rule (§4.4) for a holder that took its role at `since`.
Creator judged_by_pid(int32_t pid, uint64_t since, const posix::ObjectId& region) {
  const posix::ProcessInfo process = posix::probe_process(pid);
  return judge_creator(pid, since, process, [&] {
    bool maps = false;
    return posix::process_maps(pid, region, &maps).is_ok() && maps;
  });
}

bool uses_locks(const Inspection& region) {
  return (region.header.flags & locks::kRegionFlag) != 0;
}

}  // namespace

Creator creator_of(const Inspection& region) {
  if (uses_locks(region)) return judged_by_lock(region.fd.get(), locks::kCreatorByte);
  return judged_by_pid(region.header.owner_pid, region.header.created_at, region.id);
}

Status anyone_attached(const Inspection& region, bool* attached) {
  *attached = false;
  if (!uses_locks(region)) return Status::ok();
  if (region.fd.get() < 0) return Status::error(ZINC_EPERM, "the object could not be opened");
  return locks::held_by_other(region.fd.get(), locks::kAttachedByte, attached);
}

Creator role_state(const Inspection& region, uint64_t word, uint64_t joined_at, uint64_t lock_byte,
                   bool* free) {
  *free = owner_free(word);
  if (*free) return Creator::kDead;
  if (uses_locks(region)) return judged_by_lock(region.fd.get(), lock_byte);
  const int32_t pid = owner_pid(word);
  if (!owner_active(word)) {
    // Claiming: joined_at may be a previous occupant's (§10.3).
    const posix::ProcessInfo process = posix::probe_process(pid);
    return !process.exists || process.zombie ? Creator::kDead : Creator::kUnknown;
  }
  return judged_by_pid(pid, joined_at, region.id);
}

bool role_holder_alive(int fd, uint64_t byte) {
  // Never evict on doubt: a failed query counts as alive.
  return judged_by_lock(fd, byte) != Creator::kDead;
}

}  // namespace zinc::core
