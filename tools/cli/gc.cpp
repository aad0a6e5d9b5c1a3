// zinc gc: remove stale regions, those whose creator is dead and that no
// live process maps. The decision and the removal are the library's
// (zinc_remove_stale with ZINC_REMOVE_IF_UNMAPPED), so gc and a restarting
// creator using ZINC_CREATE_REPLACE_STALE never remove the same region twice.
#include <cstdio>
#include <string>
#include <vector>

#include "command.hpp"
#include "json.hpp"
#include "regions.hpp"

namespace zinc::cli {
namespace {

struct Outcome {
  std::string name;
  std::string action;  // removed, would_remove, kept, skipped, gone, failed
  std::string reason;
  int32_t code = 0;
};

Outcome collect(const std::string& name, bool dry_run) {
  Outcome outcome{name, "", "", 0};
  // Read first, for the reason shown when it goes.
  ZincHeaderInfo header{};
  const bool valid = zinc_inspect(name.c_str(), &header) == ZINC_OK;
  const int32_t creator = valid ? zinc_creator_state(name.c_str()) : -1;

  uint32_t flags = ZINC_REMOVE_IF_UNMAPPED;
  if (dry_run) flags |= ZINC_REMOVE_DRY_RUN;
  outcome.code = zinc_remove_stale(name.c_str(), flags);
  switch (outcome.code) {
    case ZINC_OK:
      outcome.action = dry_run ? "would_remove" : "removed";
      outcome.reason =
          "creator pid " + std::to_string(header.owner_pid) +
          (creator == ZINC_CREATOR_PID_REUSED ? " is dead (its pid was reused)" : " is dead") +
          " and no process maps it";
      break;
    case ZINC_EBUSY:
      outcome.action = "kept";
      outcome.reason = without_region_prefix(name, zinc_last_error_message());
      break;
    case ZINC_EAGAIN:
    case ZINC_EBADMSG:
    case ZINC_EINVAL:
      outcome.action = "skipped";
      outcome.reason = without_region_prefix(name, zinc_last_error_message()) +
                       " (not a valid region; 'zinc inspect' explains, 'zinc rm' removes)";
      break;
    case ZINC_EPERM:
      // Another user's region (mode 0600): not ours to judge or remove.
      outcome.action = "skipped";
      outcome.reason = "permission denied: another user's region (run gc as that user or root)";
      break;
    case ZINC_ENOENT:
      outcome.action = "gone";
      outcome.reason = "removed by another process meanwhile";
      break;
    default:
      outcome.action = "failed";
      outcome.reason = without_region_prefix(name, zinc_last_error_message());
      break;
  }
  return outcome;
}

int run(const Invocation& call) {
  const bool dry_run = call.has("--dry-run");
  const std::string* prefix = call.value("--prefix");
  std::vector<std::string> names;
  std::string error;
  if (!list_region_names(prefix ? *prefix : "", &names, &error)) {
    return call.fail(kExitFailed, error);
  }
  std::vector<Outcome> outcomes;
  int result = kExitOk;
  size_t removed = 0;
  for (const std::string& name : names) {
    Outcome outcome = collect(name, dry_run);
    if (outcome.action == "removed" || outcome.action == "would_remove") ++removed;
    if (outcome.action == "failed" && result == kExitOk) result = exit_for(outcome.code);
    outcomes.push_back(std::move(outcome));
  }

  if (call.json()) {
    Json json;
    json.begin_object().key("dry_run").value(dry_run).key("regions").begin_array();
    for (const Outcome& o : outcomes) {
      json.begin_object().key("name").value(o.name).key("action").value(o.action);
      json.key("reason").value(o.reason).key("code").value(o.code).end_object();
    }
    json.end_array().key("removed").value(uint64_t{removed});
    json.key("examined").value(uint64_t{outcomes.size()}).end_object().print();
    return result;
  }
  size_t width = 0;
  for (const Outcome& o : outcomes) width = std::max(width, o.name.size());
  for (const Outcome& o : outcomes) {
    const std::string action = o.action == "would_remove" ? "would remove" : o.action;
    std::printf("%-12s %-*s  %s\n", action.c_str(), static_cast<int>(width), o.name.c_str(),
                o.reason.c_str());
  }
  std::printf("gc: %s %zu of %zu region%s%s\n", dry_run ? "would remove" : "removed", removed,
              outcomes.size(), outcomes.size() == 1 ? "" : "s",
              prefix ? (" named '" + *prefix + "...'").c_str() : "");
  return result;
}

}  // namespace

const Command kGc = {
    "gc",
    "zinc gc [--dry-run] [--prefix PREFIX] [--json]",
    "Remove stale regions: creator dead and no live process maps them.",
    R"(
For every zinc region in /dev/shm (with --prefix, only names starting with
PREFIX), removes it only if all of these hold:
  - it is a valid zinc region (corrupted objects, and anything that is not a
    regular file, are skipped: see 'zinc inspect', remove them with 'zinc rm'),
    or an unfinished one (empty, header unpublished) left unchanged for 10 s
    that no process maps or holds open: what a creator killed mid-create by
    an older or plain v2 implementation leaves;
  - its creator is dead: no process has its owner_pid, or that process is
    a zombie, or it started after the region was created (a reused pid);
  - no live process maps it, checked in /proc/*/maps (not the ref_count,
    which a crash leaves too high).
Removal is by identity: if the name was replaced meanwhile, the newer region
is left alone. Only the mappings of processes this user may inspect are
seen; regions are created mode 0600, so those are all processes that can map
them, except root's: run gc as root if root processes use zinc regions.

Each region gets one line: removed / would remove / kept / skipped / gone,
with the reason, then a summary line.

Options:
  --dry-run        decide and report, remove nothing
  --prefix PREFIX  only regions whose name starts with PREFIX
  --json           {"dry_run": b, "regions": [{"name", "action", "reason",
                   "code"}], "removed": n, "examined": n}

Another user's regions, which this user may not open, are skipped with
"permission denied".

Exit status: 0 (also when regions were kept or skipped); 7 if a removal
failed for another reason, or if /dev/shm cannot be read.
)",
    {{"--dry-run", nullptr}, {"--prefix", "PREFIX"}, {"--json", nullptr}},
    0,
    0,
    run,
};

}  // namespace zinc::cli
