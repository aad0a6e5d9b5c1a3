// The channel (docs/spec.md §10) a valid region's data area may hold, as
// `zinc inspect` shows it: the header decoded, the writer and the readers
// with whether each still runs, and the library's verdict. Read with pread
// from the object, never mapped: looking neither joins the channel nor
// changes a byte.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "json.hpp"
#include "regions.hpp"
#include "zinc.h"

namespace zinc::cli {

struct ChannelReader {
  uint32_t entry = 0;
  int32_t pid = 0;
  bool active = false;  // false: still claiming the entry
  uint64_t cursor = 0;
  uint32_t held = 0;       // latest mode: slot + 1 of the pinned slot, 0 none
  const char* state = "";  // "alive", "dead" or "unknown"
};

struct ChannelReport {
  bool present = false;         // the data area starts with the channel magic
  int32_t code = 0;             // zinc_check_channel_header on what was read
  std::string error;            // the library's message when code != 0
  bool tables_checked = false;  // the reader table and slots were read and checked too
  ZincChannelInfo info{};
  const char* writer_state = "";       // "none", "alive", "dead", "unknown" (or "claiming")
  std::vector<ChannelReader> readers;  // every occupied entry
};

// Reads the channel of `region` (a valid region) if its data area holds one.
ChannelReport examine_channel(const RegionReport& region);

// Whether the data area of `region` starts with the channel magic: the
// cheap test `zinc ls` uses.
bool looks_like_channel(const RegionReport& region);

// The holder of a role (-1 the writer, else a reader entry) as the library
// judges it (zinc_channel_role_state): "alive", "dead", "none" or "unknown".
const char* participant_state(const RegionReport& region, int32_t role);

void print_channel(const ChannelReport& channel);
// The "channel" member: null when the data area holds no channel.
void channel_member(Json& json, const ChannelReport& channel);

}  // namespace zinc::cli
