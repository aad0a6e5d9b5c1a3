// Regions as an operator sees them: the zinc_* objects in /dev/shm, each
// with its decoded header, whether its creator still runs, and the
// processes that map it. Everything is read without opening the region
// (zinc_inspect), so looking never changes a ref_count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "json.hpp"
#include "zinc.h"

namespace zinc::cli {

// ZincHeaderInfo mirrors the 64-byte header field for field (docs/spec.md),
// so a decoded header converts back to header bytes and an open handle's
// header page can be read at these offsets.
static_assert(sizeof(ZincHeaderInfo) == ZINC_HEADER_SIZE);
static_assert(offsetof(ZincHeaderInfo, version) == 8);
static_assert(offsetof(ZincHeaderInfo, flags) == 10);
static_assert(offsetof(ZincHeaderInfo, notify_seq) == 12);
static_assert(offsetof(ZincHeaderInfo, capacity) == 16);
static_assert(offsetof(ZincHeaderInfo, ref_count) == 24);
static_assert(offsetof(ZincHeaderInfo, owner_pid) == 28);
static_assert(offsetof(ZincHeaderInfo, created_at) == 32);
static_assert(offsetof(ZincHeaderInfo, name_hash) == 40);
static_assert(offsetof(ZincHeaderInfo, ring_head) == 48);
static_assert(offsetof(ZincHeaderInfo, ring_tail) == 56);

// Where Linux shows POSIX shared-memory objects.
inline constexpr const char* kShmDir = "/dev/shm";

// The names (without "zinc_") of the /dev/shm entries called "zinc_<prefix>...",
// sorted. False with a message if /dev/shm cannot be read.
bool list_region_names(const std::string& prefix, std::vector<std::string>* names,
                       std::string* error);

struct RegionReport {
  std::string name;
  std::string path;  // /dev/shm/zinc_<name>
  bool stat_ok = false;     // a regular file whose size, mode and uid are below
  std::string not_regular;  // what the object is instead ("FIFO", ...), if not one
  uint64_t object_size = 0;
  uint32_t mode = 0;
  uint32_t uid = 0;
  int32_t code = 0;   // zinc_inspect: what zinc_open would return
  std::string error;  // the library's message when code != 0
  bool has_header = false;
  ZincHeaderInfo header{};
  int32_t creator = -1;     // a ZINC_CREATOR_* value, judged only for valid regions
  int32_t mapped_code = 0;  // zinc_mapped_by's result: a count, or a negative code
  std::vector<int32_t> mapped_by;
};

RegionReport examine_region(const std::string& name);

// One word for the state of a region:
//   live        valid, its creator runs
//   orphaned    valid, creator dead, but some process still maps it (gc keeps it)
//   stale       valid, creator dead, nothing maps it (gc removes it)
//   unknown     valid, but whether its creator runs cannot be told
//   unfinished  its creator has not finished creating it (or died doing so)
//   invalid     not a valid zinc region (corrupted or another format)
//   foreign     "zinc_..." but not a zinc name, so not zinc's
//   unreadable  permission denied
//   gone        removed while we looked
//   error       anything else (see the message)
const char* status_of(const RegionReport& report);
// "alive", "dead", "reused" (the pid now names a later process), "unknown", or "-".
const char* creator_word(int32_t creator);

// "region 'x': why" -> "why", where the name is shown beside the message.
std::string without_region_prefix(const std::string& name, const std::string& message);

uint64_t now_ns();
std::string format_age(uint64_t created_at_ns, uint64_t now);  // "5m03s"
std::string format_utc(uint64_t ns);                           // "2024-06-10T06:13:20.123Z"
std::string hex(uint64_t value, int digits);                   // "0x0000"

// The report's fields as JSON object members (the caller opens the object).
void report_members(Json& json, const RegionReport& report, uint64_t now);

}  // namespace zinc::cli
