#include "stale.hpp"

#include <string>
#include <vector>

#include "inspect.hpp"
#include "liveness.hpp"
#include "name.hpp"
#include "posix.hpp"
#include "zinc.h"

namespace zinc::core {
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

}  // namespace

Status remove_stale(std::string_view name, uint32_t flags) {
  constexpr uint32_t kKnown = ZINC_REMOVE_IF_UNMAPPED | ZINC_REMOVE_DRY_RUN;
  if ((flags & ~kKnown) != 0) {
    return Status::error(ZINC_EINVAL, "unknown remove flags " + std::to_string(flags));
  }
  Inspection region;
  if (Status s = inspect_object(name, &region); !s.is_ok()) return s;

  const std::string pid = std::to_string(region.header.owner_pid);
  switch (creator_of(region)) {
    case Creator::kAlive:
      return busy(name, "its creator (pid " + pid + ") is still running");
    case Creator::kUnknown:
      return busy(name, "cannot tell whether its creator (pid " + pid + ") is still running");
    case Creator::kDead:
    case Creator::kPidReused:
      break;
  }
  if ((flags & ZINC_REMOVE_IF_UNMAPPED) != 0) {
    std::vector<int32_t> pids;
    if (Status s = posix::find_mappers(region.id, &pids); !s.is_ok()) return s;
    if (!pids.empty()) {
      return busy(name, "its creator (pid " + pid + ") is gone, but " +
                            (pids.size() == 1 ? "pid " : "pids ") + pid_list(pids) +
                            (pids.size() == 1 ? " still maps it" : " still map it"));
    }
  }
  if ((flags & ZINC_REMOVE_DRY_RUN) != 0) return Status::ok();

  // The lock lives on the judged object, so two removers of the same stale
  // region take turns; the one that comes second finds the name gone or
  // pointing at a newer region below and leaves it alone.
  if (Status s = posix::try_lock(region.fd.get()); !s.is_ok()) {
    if (s.code == ZINC_EBUSY) return busy(name, "another process is removing or replacing it");
    return s;
  }
  const std::string object = object_name(name);
  posix::Fd current;
  uint64_t size = 0;
  posix::ObjectId current_id;
  Status s = posix::open_object(object, true, &current);
  if (s.is_ok()) s = posix::stat_object(current.get(), &size, &current_id);
  if (s.is_ok() && current_id != region.id) {
    return busy(name, "it was replaced by a newer region meanwhile");
  }
  if (s.is_ok()) s = posix::unlink_object(object);
  if (s.code == ZINC_ENOENT) {
    return Status::error(
        ZINC_ENOENT, "region '" + std::string(name) + "' was removed by another process meanwhile");
  }
  return s;
}

}  // namespace zinc::core
