// zinc ls: every zinc region in /dev/shm, one line each.
#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include "channel_report.hpp"
#include "command.hpp"
#include "regions.hpp"

namespace zinc::cli {
namespace {

std::string pid_list(const RegionReport& r) {
  if (r.mapped_code < 0 || r.code == ZINC_EINVAL) return "?";
  return std::to_string(r.mapped_by.size());
}

std::vector<std::string> row(const RegionReport& r, uint64_t now) {
  std::string status = status_of(r);
  if (r.code != ZINC_OK && !r.error.empty()) {
    status += ": " + without_region_prefix(r.name, r.error);
  }
  if (r.code != ZINC_OK) {
    // Header fields of an invalid object mean nothing; the status says why.
    return {r.name, "-", "-", "-", "-", "-", "-", "-", pid_list(r), status};
  }
  const ZincHeaderInfo& h = r.header;
  if (looks_like_channel(r)) status += " (channel)";
  return {r.name,
          std::to_string(h.capacity),
          std::to_string(h.version),
          std::to_string(h.ref_count),
          std::to_string(h.owner_pid),
          creator_word(r.creator),
          format_age(h.created_at, now),
          std::to_string(h.notify_seq),
          pid_list(r),
          status};
}

int run(const Invocation& call) {
  const std::string* prefix = call.value("--prefix");
  std::vector<std::string> names;
  std::string error;
  if (!list_region_names(prefix ? *prefix : "", &names, &error)) {
    return call.fail(kExitFailed, error);
  }
  const uint64_t now = now_ns();
  std::vector<RegionReport> reports;
  for (const std::string& name : names) {
    RegionReport report = examine_region(name);
    if (report.code == ZINC_ENOENT) continue;  // removed while we listed
    reports.push_back(std::move(report));
  }

  if (call.json()) {
    Json json;
    json.begin_object().key("regions").begin_array();
    for (const RegionReport& r : reports) {
      json.begin_object();
      report_members(json, r, now);
      json.key("kind").value(looks_like_channel(r) ? "channel" : "region");
      json.end_object();
    }
    json.end_array().end_object().print();
    return kExitOk;
  }
  if (reports.empty()) {
    std::printf("no zinc regions%s in %s\n", prefix ? (" named '" + *prefix + "...'").c_str() : "",
                kShmDir);
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "CAPACITY", "VER", "REFS", "PID", "CREATOR", "AGE", "NOTIFIES", "MAPPED", "STATUS"}};
  for (const RegionReport& r : reports) rows.push_back(row(r, now));
  std::vector<size_t> widths(rows[0].size(), 0);
  for (const auto& cells : rows) {
    for (size_t i = 0; i < cells.size(); ++i) widths[i] = std::max(widths[i], cells[i].size());
  }
  for (const auto& cells : rows) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
      line += cells[i];
      if (i + 1 < cells.size()) line += std::string(widths[i] - cells[i].size() + 2, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
  return kExitOk;
}

}  // namespace

const Command kLs = {
    "ls",
    "zinc ls [--prefix PREFIX] [--json]",
    "List every zinc region in /dev/shm with its state.",
    R"(
Each zinc_* object in /dev/shm is read without opening it (zinc_inspect:
the ref_count is not touched) and shown with:
  NAME      the region name (the object is /dev/shm/zinc_NAME)
  CAPACITY  usable bytes
  VER       format version
  REFS      the header's ref_count (opens minus closes; a crashed process
            never gave its reference back, so it is only a hint)
  PID       owner_pid, the process that created the region
  CREATOR   alive, dead, reused (the pid now belongs to a process started
            after the region was created: the creator is dead) or unknown
  AGE       time since the region was created
  NOTIFIES  the notification sequence number (notifications so far)
  MAPPED    how many processes map it now (from /proc/*/maps; only the
            processes this user may inspect, i.e. all of them as root)
  STATUS    live, stale (creator dead, nothing maps it: 'zinc gc' removes
            it), orphaned (creator dead, but mapped), unknown, unfinished
            (still being created, or its creator died doing so), invalid
            (corrupted or not a zinc region), foreign (not a zinc name),
            unreadable (permission denied); with the reason when not valid,
            and followed by (channel) when the data area holds a channel
            ('zinc inspect NAME' shows it)

Options:
  --prefix PREFIX  only regions whose name starts with PREFIX
  --json           one JSON object: {"regions": [...]} (see docs/cli.md)

Exit status: 0, or 7 if /dev/shm cannot be read.
)",
    {{"--prefix", "PREFIX"}, {"--json", nullptr}},
    0,
    0,
    run,
};

}  // namespace zinc::cli
