// zinc rm NAME...: unlink regions by name (refusing a live creator's region
// unless --force).
#include <cstdint>
#include <cstdio>
#include <string>

#include "command.hpp"
#include "json.hpp"
#include "regions.hpp"

namespace zinc::cli {
namespace {

// Removes one name; returns 0 or an exit code after reporting. The check
// and the unlink are the library's (zinc_remove_stale), which unlinks only
// the object it judged: a region re-created under the name meanwhile stays.
int remove_one(const Invocation& call, const std::string& name, std::string* removed_what) {
  const int32_t inspected = zinc_inspect(name.c_str(), nullptr);
  if (inspected == ZINC_EINVAL || inspected == ZINC_ENOENT || inspected == ZINC_EPERM) {
    return call.fail_zinc(inspected);
  }
  uint32_t flags = ZINC_REMOVE_INVALID;
  if (call.has("--force")) flags |= ZINC_REMOVE_FORCE;
  const int32_t code = zinc_remove_stale(name.c_str(), flags);
  if (code == ZINC_EBUSY && inspected == ZINC_OK && !call.has("--force") &&
      zinc_creator_state(name.c_str()) != ZINC_CREATOR_DEAD) {
    return call.fail(kExitBusy, std::string(zinc_last_error_message()) +
                                    "; use --force to remove it anyway");
  }
  if (code != ZINC_OK) return call.fail_zinc(code);
  *removed_what = inspected == ZINC_OK       ? "region"
                  : inspected == ZINC_EAGAIN ? "unfinished object"
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
valid regions (corrupted, unfinished, or not a regular file at all, such as
a FIFO or a symlink, which is removed itself and never followed) are removed
too: that is how to clear them. The removal is by identity: if the name is
re-created between the check and the unlink, the newer region stays. A valid region whose creator still runs (or cannot be judged) is
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
