#include "stale.hpp"

#include <string>
#include <vector>

#include "inspect.hpp"
#include "liveness.hpp"
#include "name.hpp"
#include "posix.hpp"
#include "removal.hpp"
#include "zinc.h"

namespace zinc::core {

namespace testing {
uint64_t unfinished_grace_ns = kUnfinishedGraceNs;
}  // namespace testing

namespace {

Status busy(std::string_view name, const std::string& why) {
  return Status::error(ZINC_EBUSY, "region '" + std::string(name) + "': " + why);
}

std::string pid_list(const std::vector<int32_t>& pids) {
  std::string text;
  for (size_t i = 0; i < pids.size() && i < 8; ++i) {
    text += (i == 0 ? "" : ", ") + std::to_string(pids[i]);
  }
  if (pids.size() > 8) text += " and " + std::to_string(pids.size() - 8) + " more";
  return text;
}

std::string maps_it(const std::vector<int32_t>& pids, const char* verb) {
  return (pids.size() == 1 ? "pid " : "pids ") + pid_list(pids) + " still " + verb +
         (pids.size() == 1 ? "s it" : " it");
}

// A valid region: stale when its creator is dead (and, with
// ZINC_REMOVE_IF_UNMAPPED, nobody maps it). ok() means removable.
Status judge_region(std::string_view name, const Inspection& region, uint32_t flags) {
  const std::string pid = std::to_string(region.header.owner_pid);
  if ((flags & ZINC_REMOVE_FORCE) == 0) {
    switch (creator_of(region)) {
      case Creator::kAlive: return busy(name, "its creator (pid " + pid + ") is still running");
      case Creator::kUnknown:
        return busy(name, "cannot tell whether its creator (pid " + pid + ") is still running");
      case Creator::kDead:
      case Creator::kPidReused: break;
    }
  }
  if ((flags & ZINC_REMOVE_IF_UNMAPPED) != 0) {
    std::vector<int32_t> pids;
    if (Status s = posix::find_mappers(region.id, &pids); !s.is_ok()) return s;
    if (!pids.empty()) {
      return busy(name, "its creator (pid " + pid + ") is gone, but " + maps_it(pids, "map"));
    }
    // /proc shows only this pid namespace's processes (and only those whose
    // maps we may read); handles of locking peers say so wherever they are.
    bool attached = false;
    if (Status s = anyone_attached(region, &attached); !s.is_ok()) return with_name(s, name);
    if (attached) {
      return busy(name, "its creator (pid " + pid +
                            ") is gone, but a process still has it open (in another pid "
                            "namespace, or one whose maps this process may not read)");
    }
  }
  return Status::ok();
}

// An unfinished object (empty, or its header not yet published): stale once
// it is older than the grace period and no process maps it or holds it open,
// which is what a creator killed mid-create leaves. `why` is inspect's
// verdict, kept when the object is not (yet) stale.
Status judge_unfinished(std::string_view name, const Inspection& object, const Status& why) {
  uint64_t changed = 0;
  if (!posix::changed_at(object.fd.get(), &changed).is_ok()) return why;
  const uint64_t now = posix::realtime_ns();
  const uint64_t grace = testing::unfinished_grace_ns;
  if (changed > now || now - changed < grace) {
    return Status::error(why.code, why.message + " (recoverable " +
                                       std::to_string(grace / 1000000000) +
                                       " s after its last change if nobody holds it)");
  }
  std::vector<int32_t> mappers;
  std::vector<int32_t> holders;
  if (Status s = posix::find_mappers(object.id, &mappers); !s.is_ok()) return s;
  if (Status s = posix::find_holders(object.id, &holders); !s.is_ok()) return s;
  std::erase(holders, posix::process_id());  // our own look at it
  if (!mappers.empty()) return busy(name, "unfinished, but " + maps_it(mappers, "map"));
  if (!holders.empty()) return busy(name, "unfinished, but " + maps_it(holders, "hold"));
  return Status::ok();
}

}  // namespace

Status remove_stale(std::string_view name, uint32_t flags) {
  constexpr uint32_t kKnown =
      ZINC_REMOVE_IF_UNMAPPED | ZINC_REMOVE_DRY_RUN | ZINC_REMOVE_INVALID | ZINC_REMOVE_FORCE;
  if ((flags & ~kKnown) != 0) {
    return Status::error(ZINC_EINVAL, "unknown remove flags " + std::to_string(flags));
  }
  Inspection object;
  const Status inspected = inspect_object(name, &object);
  if (inspected.code == ZINC_ENOENT || inspected.code == ZINC_EINVAL) return inspected;
  if (!object.identified) return inspected;  // nothing we could judge (EPERM, ...)
  if (inspected.is_ok()) {
    if (Status s = judge_region(name, object, flags); !s.is_ok()) return s;
  } else if ((flags & ZINC_REMOVE_INVALID) == 0) {
    // Only an unfinished regular object can be stale; corrupted or foreign
    // objects are for an explicit ZINC_REMOVE_INVALID.
    if (inspected.code != ZINC_EAGAIN || object.fd.get() < 0) return inspected;
    if (Status s = judge_unfinished(name, object, inspected); !s.is_ok()) return s;
  }
  if ((flags & ZINC_REMOVE_DRY_RUN) != 0) return Status::ok();

  const std::string object_path = object_name(name);
  Status s;
  if (object.fd.get() < 0) {
    // A symlink or socket: no descriptor to lock.
    s = unlink_unlockable(object_path, object.id);
  } else {
    // The lock lives on the judged object, so two removers (or a remover and
    // the owner's close) take turns; the one that comes second finds the
    // name gone or pointing at a newer object and leaves it alone.
    if (Status locked = posix::try_lock(object.fd.get()); !locked.is_ok()) {
      if (locked.code == ZINC_EBUSY) {
        return busy(name, "another process is removing or replacing it");
      }
      return with_name(locked, name);
    }
    s = unlink_locked(object_path, object.id);
  }
  if (s.code == ZINC_ENOENT) {
    return Status::error(
        ZINC_ENOENT, "region '" + std::string(name) + "' was removed by another process meanwhile");
  }
  if (s.code == ZINC_EBUSY) return busy(name, "it was replaced by a newer object meanwhile");
  return with_name(s, name);
}

}  // namespace zinc::core
