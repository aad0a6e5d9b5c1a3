#include "channel_report.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "read_only_object.hpp"

namespace zinc::cli {
namespace {

// The whole layout is read (zeros where the payloads are) to check the
// reader table and slots too, unless it is larger than this.
constexpr uint64_t kLargestCheckedLayout = uint64_t{256} << 20;

uint64_t load_u64(const std::vector<uint8_t>& bytes, uint64_t offset) {
  uint64_t value;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

uint32_t load_u32(const std::vector<uint8_t>& bytes, uint64_t offset) {
  uint32_t value;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

bool untyped(const ZincChannelFrameType& type) {
  static constexpr ZincChannelFrameType kUntyped{};
  return std::memcmp(&type, &kUntyped, sizeof type) == 0;
}

std::string dtype_text(const ZincChannelFrameType& type) {
  std::string text;
  for (const char c : type.dtype) {
    if (c == 0) break;
    text += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return text;
}

std::string shape_text(const ZincChannelFrameType& type) {
  std::string text = "(";
  for (uint32_t d = 0; d < type.ndim && d < ZINC_CHANNEL_MAX_DIMS; ++d) {
    text += (d == 0 ? "" : ", ") + std::to_string(type.shape[d]);
  }
  return text + (type.ndim == 1 ? ",)" : ")");
}

const char* mode_text(uint32_t mode) {
  return mode == ZINC_CHANNEL_LOSSLESS ? "lossless" : mode == ZINC_CHANNEL_LATEST ? "latest" : "?";
}

uint64_t lag_of(const ZincChannelInfo& info, const ChannelReader& r) {
  return info.write_seq > r.cursor ? info.write_seq - r.cursor : 0;
}

// Reads the header, the reader table and every slot header into a buffer
// laid out like the data area (payload bytes left zero). False if the
// object could not be read that far.
bool read_layout(const ReadOnlyObject& object, uint64_t page, const ZincChannelInfo& info,
                 std::vector<uint8_t>* layout) {
  layout->assign(info.required_bytes, 0);
  if (!object.read(page, layout->data(), info.slots_offset)) return false;
  for (uint32_t s = 0; s < info.slot_count; ++s) {
    const uint64_t at = info.slots_offset + uint64_t{s} * info.slot_stride;
    if (!object.read(page + at, layout->data() + at, ZINC_CHANNEL_SLOT_HEADER_SIZE)) return false;
  }
  return true;
}

}  // namespace

const char* participant_state(const RegionReport& region, int32_t role) {
  switch (zinc_channel_role_state(region.name.c_str(), role)) {
    case ZINC_CREATOR_ALIVE: return "alive";
    case ZINC_CREATOR_DEAD:
    case ZINC_CREATOR_PID_REUSED: return "dead";
    case ZINC_ROLE_FREE: return "none";
    default: return "unknown";
  }
}

bool looks_like_channel(const RegionReport& region) {
  if (region.code != ZINC_OK || region.header.capacity < ZINC_CHANNEL_HEADER_SIZE) return false;
  ReadOnlyObject object(region.path);
  uint64_t magic = 0;
  return object.read(zinc_page_size(), &magic, sizeof magic) && magic == ZINC_CHANNEL_MAGIC;
}

ChannelReport examine_channel(const RegionReport& region) {
  ChannelReport report;
  const uint64_t capacity = region.header.capacity;
  if (region.code != ZINC_OK || capacity < ZINC_CHANNEL_HEADER_SIZE) return report;
  const uint64_t page = zinc_page_size();
  ReadOnlyObject object(region.path);
  std::vector<uint8_t> header(ZINC_CHANNEL_HEADER_SIZE);
  if (!object.read(page, header.data(), header.size())) return report;
  if (load_u64(header, 0) != ZINC_CHANNEL_MAGIC) return report;
  report.present = true;
  report.code = zinc_check_channel_header(header.data(), header.size(), capacity, &report.info);
  if (report.code != ZINC_OK) {
    report.error = zinc_last_error_message();
    return report;
  }
  std::vector<uint8_t> layout;
  if (report.info.required_bytes <= kLargestCheckedLayout &&
      read_layout(object, page, report.info, &layout)) {
    report.tables_checked = true;
    report.code = zinc_check_channel_header(layout.data(), layout.size(), capacity, &report.info);
    if (report.code != ZINC_OK) report.error = zinc_last_error_message();
  } else {
    layout.resize(report.info.slots_offset);
    if (!object.read(page, layout.data(), layout.size())) return report;
  }
  const ZincChannelInfo& info = report.info;
  report.writer_state = info.writer_pid == 0 && info.writer_active == 0 ? "none"
                        : info.writer_active == 0 ? "claiming"
                                                  : participant_state(region, -1);
  for (uint32_t i = 0; i < info.max_readers; ++i) {
    const uint64_t entry = ZINC_CHANNEL_HEADER_SIZE + uint64_t{i} * ZINC_CHANNEL_ENTRY_SIZE;
    const uint64_t owner = load_u64(layout, entry);
    if ((owner & 0x1FFFFFFFFull) == 0) continue;  // free (a generation may remain)
    ChannelReader r;
    r.entry = i;
    r.pid = static_cast<int32_t>(static_cast<uint32_t>(owner));
    r.active = (owner >> 32 & 1) != 0;
    r.cursor = load_u64(layout, entry + 16);
    r.held = load_u32(layout, entry + 24);
    r.state = r.active ? participant_state(region, static_cast<int32_t>(i)) : "claiming";
    report.readers.push_back(r);
  }
  return report;
}

void print_channel(const ChannelReport& channel) {
  if (!channel.present) return;
  const ZincChannelInfo& info = channel.info;
  auto line = [](const char* field, const std::string& value) {
    std::printf("  %-11s %s\n", field, value.c_str());
  };
  std::printf("channel in the data area\n");
  line("mode", std::to_string(info.mode) + " (" + mode_text(info.mode) + ")");
  line("slots",
       std::to_string(info.slot_count) + " of " + std::to_string(info.slot_size) + " bytes" +
           (info.slot_stride != 0 ? " (stride " + std::to_string(info.slot_stride) +
                                        ", from byte " + std::to_string(info.slots_offset) + ")"
                                  : ""));
  line("max_readers", std::to_string(info.max_readers));
  line("frame_type", untyped(info.frame_type) ? "untyped (bytes)"
                                              : "\"" + dtype_text(info.frame_type) + "\" " +
                                                    shape_text(info.frame_type));
  line("write_seq", std::to_string(info.write_seq) + " (frames committed)");
  line("latest_slot", info.latest_slot == UINT32_MAX ? "none" : std::to_string(info.latest_slot));
  if (channel.code == ZINC_OK || channel.code == ZINC_EBADMSG) {
    line("writer", info.writer_pid == 0 ? "none"
                                        : "pid " + std::to_string(info.writer_pid) + " (" +
                                              channel.writer_state + ")");
  }
  if (channel.readers.empty() && channel.code == ZINC_OK) line("readers", "none");
  for (const ChannelReader& r : channel.readers) {
    std::string text = "pid " + std::to_string(r.pid) + " (" + r.state + ")";
    if (r.active) {
      text += ", cursor " + std::to_string(r.cursor) + ", " + std::to_string(lag_of(info, r)) +
              " behind";
      if (r.held != 0) text += ", holds slot " + std::to_string(r.held - 1);
    }
    line(("reader " + std::to_string(r.entry)).c_str(), text);
  }
  if (channel.code == ZINC_OK) {
    std::printf("channel valid%s\n",
                channel.tables_checked ? "" : " (header only: the layout is too large to read)");
  } else {
    std::printf("channel invalid: %s\n", channel.error.c_str());
  }
}

void channel_member(Json& json, const ChannelReport& channel) {
  json.key("channel");
  if (!channel.present) {
    json.null();
    return;
  }
  const ZincChannelInfo& info = channel.info;
  json.begin_object();
  json.key("valid").value(channel.code == ZINC_OK);
  json.key("code").value(channel.code);
  json.key("error");
  if (channel.error.empty()) {
    json.null();
  } else {
    json.value(channel.error);
  }
  json.key("mode").value(mode_text(info.mode));
  json.key("slot_count").value(info.slot_count);
  json.key("slot_size").value(info.slot_size);
  json.key("max_readers").value(info.max_readers);
  json.key("slot_stride").value(info.slot_stride);
  json.key("slots_offset").value(info.slots_offset);
  json.key("frame_type");
  if (untyped(info.frame_type)) {
    json.null();
  } else {
    json.begin_object().key("dtype").value(dtype_text(info.frame_type)).key("shape");
    json.begin_array();
    for (uint32_t d = 0; d < info.frame_type.ndim && d < ZINC_CHANNEL_MAX_DIMS; ++d) {
      json.value(info.frame_type.shape[d]);
    }
    json.end_array().end_object();
  }
  json.key("write_seq").value(info.write_seq);
  json.key("latest_slot");
  if (info.latest_slot == UINT32_MAX) {
    json.null();
  } else {
    json.value(info.latest_slot);
  }
  json.key("writer");
  if (info.writer_pid == 0) {
    json.null();
  } else {
    json.begin_object()
        .key("pid")
        .value(info.writer_pid)
        .key("active")
        .value(info.writer_active != 0)
        .key("state")
        .value(channel.writer_state)
        .end_object();
  }
  json.key("readers").begin_array();
  for (const ChannelReader& r : channel.readers) {
    json.begin_object();
    json.key("entry").value(r.entry);
    json.key("pid").value(r.pid);
    json.key("active").value(r.active);
    json.key("state").value(r.state);
    json.key("cursor").value(r.cursor);
    json.key("lag").value(lag_of(info, r));
    json.key("held_slot");
    if (r.held == 0) {
      json.null();
    } else {
      json.value(r.held - 1);
    }
    json.end_object();
  }
  json.end_array();
  json.end_object();
}

}  // namespace zinc::cli
