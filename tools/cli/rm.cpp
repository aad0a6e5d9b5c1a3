// zinc rm NAME...: unlink regions by name (refusing a live creator's region
// unless --force).
#include <sys/mman.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "command.hpp"
#include "json.hpp"
#include "regions.hpp"

namespace zinc::cli {
namespace {

// Removes one name; returns 0 or an exit code after reporting.
int remove_one(const Invocation& call, const std::string& name, std::string* removed_what) {
  ZincHeaderInfo header{};
  const int32_t code = zinc_inspect(name.c_str(), &header);
  if (code == ZINC_EINVAL || code == ZINC_ENOENT || code == ZINC_EPERM) return call.fail_zinc(code);
  if (code == ZINC_OK && !call.has("--force")) {
    const int32_t creator = zinc_creator_state(name.c_str());
    if (creator == ZINC_CREATOR_ALIVE || creator == ZINC_CREATOR_UNKNOWN) {
      const std::string pid = std::to_string(header.owner_pid);
      return call.fail(kExitBusy,
                       "region '" + name + "': " +
                           (creator == ZINC_CREATOR_ALIVE
                                ? "its creator (pid " + pid + ") is still running"
                                : "cannot tell whether its creator (pid " + pid + ") is running") +
                           "; use --force to remove it anyway");
    }
  }
  // Only names that passed the zinc name rule get here: nothing outside
  // the zinc_ namespace can be removed.
  if (shm_unlink(("/zinc_" + name).c_str()) != 0) {
    const int err = errno;
    const int exit_code = err == ENOENT                   ? kExitNoRegion
                          : err == EACCES || err == EPERM ? kExitDenied
                                                          : kExitFailed;
    return call.fail(exit_code, "region '" + name + "': shm_unlink: " + std::strerror(err));
  }
  *removed_what = code == ZINC_OK       ? "region"
                  : code == ZINC_EAGAIN ? "unfinished object"
                                        : "invalid object";
  return kExitOk;
}

int run(const Invocation& call) {
  int result = kExitOk;
  Json json;
  json.begin_object().key("removed").begin_array();
  for (const std::string& name : call.args) {
    std::string what;
    const int exit_code = remove_one(call, name, &what);
    if (exit_code != kExitOk) {
      if (result == kExitOk) result = exit_code;
      continue;
    }
    if (call.json()) {
      json.value(name);
    } else {
      std::printf("removed %s '%s'\n", what.c_str(), name.c_str());
    }
  }
  if (call.json()) json.end_array().end_object().print();
  return result;
}

}  // namespace

const Command kRm = {
    "rm",
    "zinc rm NAME... [--force] [--json]",
    "Unlink regions by name.",
    R"(
Unlinks /dev/shm/zinc_NAME for each NAME. Processes that map the region keep
their mapping; new opens fail with "no such region". Objects that are not
valid regions (corrupted, unfinished) are removed too: that is how to clear
them. A valid region whose creator still runs (or cannot be judged) is
refused unless --force: its creator would carry on writing to a region
nobody can open any more.

Options:
  --force  remove even when the creator is alive
  --json   {"removed": [names removed]}; errors still go to stderr

Exit status: 0 all removed; otherwise the code of the first failure:
2 invalid name, 3 no such region, 5 creator alive (no --force),
6 permission denied, 7 other errors. The other names are still tried.
)",
    {{"--force", nullptr}, {"--json", nullptr}},
    1,
    SIZE_MAX,
    run,
};

}  // namespace zinc::cli
