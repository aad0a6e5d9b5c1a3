// The channel vectors of spec/vectors (README there): every image of
// channel.tsv through the candidate's zinc_check_channel_header, and every
// row of channel_geometry.tsv through its zinc_channel_create, with the
// bytes the create wrote read back from /dev/shm.
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "channel_format.hpp"
#include "channel_support.hpp"
#include "format.hpp"
#include "raw_object.hpp"
#include "vectors.hpp"

namespace zinc::conformance {
namespace {

struct ImageVector {
  std::string id;
  uint64_t capacity = 0;
  std::vector<uint8_t> image;
  int32_t code = 0;
  int32_t header_code = 0;
  std::string reason;
};

struct GeometryVector {
  std::string id;
  uint32_t mode = 0;
  uint32_t slot_count = 0;
  uint64_t slot_size = 0;
  uint32_t max_readers = 0;
  int32_t code = 0;
  ChannelLayout layout;  // when code is 0
  uint64_t capacity_4k = 0;
  std::string reason;
};

void run_image_vector(CheckContext& ctx, const ImageVector& v) {
  ZincChannelInfo info{};
  const int32_t rc =
      ctx.zinc.check_channel_header(v.image.data(), v.image.size(), v.capacity, &info);
  std::string message;
  if (rc != 0 && ctx.zinc.last_error_message != nullptr) {
    message = std::string(" (\"") + ctx.zinc.last_error_message() + "\")";
  }
  ctx.expect(rc == v.code,
             "zinc_check_channel_header of the whole image, " + std::to_string(v.capacity) +
                 " bytes (" + v.reason + ")",
             describe_code(v.code), describe_code(rc) + message);
  const int32_t header_rc =
      ctx.zinc.check_channel_header(v.image.data(), kChannelHeaderSize, v.capacity, nullptr);
  ctx.expect_code("zinc_check_channel_header of the 128 header bytes only (the rules of an open)",
                  v.header_code, header_rc);
  // The decoded fields, whatever the verdict.
  const ChannelFields f = decode_channel_header(v.image.data());
  const auto describe = [](uint64_t magic, uint32_t version, uint32_t mode, uint32_t slots,
                           uint32_t readers, uint64_t size, uint64_t write_seq, uint32_t latest) {
    return "magic " + hex(magic) + ", version " + std::to_string(version) + ", mode " +
           std::to_string(mode) + ", " + std::to_string(slots) + " slots of " +
           std::to_string(size) + ", " + std::to_string(readers) + " readers, write_seq " +
           std::to_string(write_seq) + ", latest_slot " + hex(latest);
  };
  ctx.expect(info.magic == f.magic && info.version == f.version && info.mode == f.mode &&
                 info.slot_count == f.slot_count && info.max_readers == f.max_readers &&
                 info.slot_size == f.slot_size && info.write_seq == f.write_seq &&
                 info.latest_slot == f.latest_slot,
             "ZincChannelInfo decoded by zinc_check_channel_header",
             describe(f.magic, f.version, f.mode, f.slot_count, f.max_readers, f.slot_size,
                      f.write_seq, f.latest_slot),
             describe(info.magic, info.version, info.mode, info.slot_count, info.max_readers,
                      info.slot_size, info.write_seq, info.latest_slot));
  ctx.expect(std::equal(f.frame_type.begin(), f.frame_type.end(),
                        reinterpret_cast<const uint8_t*>(&info.frame_type)),
             "ZincChannelInfo.frame_type", "the image's bytes 72..127", "other bytes");
}

uint64_t round_up(uint64_t n, uint64_t to) {
  return (n + to - 1) / to * to;
}

// The bytes a create must write (§10.2): everything the creator sets, and
// zeros where nothing was written yet.
void expect_created_header(CheckContext& ctx, const GeometryVector& v, const std::string& name,
                           uint64_t before_ns, uint64_t after_ns) {
  const uint64_t table_end = v.layout.slots_offset + kSlotHeaderSize;  // and the first slot header
  const std::vector<uint8_t> area = read_data_area(name, table_end);
  ctx.require(area.size() == table_end, "data-area bytes read back", std::to_string(table_end),
              std::to_string(area.size()));
  const ChannelFields f = decode_channel_header(area.data());
  ctx.expect(f.magic == kChannelMagic, "magic (data-area bytes 0..7)", hex(kChannelMagic),
             hex(f.magic));
  ctx.expect_eq("version (bytes 8..9)", kChannelVersion, f.version);
  ctx.expect_eq("mode (bytes 10..11)", v.mode, f.mode);
  ctx.expect_eq("flags (bytes 12..15)", 0, f.flags);
  ctx.expect_eq("slot_count (bytes 16..19)", v.slot_count, f.slot_count);
  ctx.expect_eq("max_readers (bytes 20..23)", v.max_readers, f.max_readers);
  ctx.expect_eq("slot_size (bytes 24..31)", v.slot_size, f.slot_size);
  ctx.expect_eq("write_seq (bytes 32..39) of a new channel", 0, f.write_seq);
  ctx.expect(f.latest_slot == kNoSlot, "latest_slot (bytes 40..43) before the first frame",
             hex(kNoSlot), hex(f.latest_slot));
  ctx.expect_eq("reserved bytes 52..55", 0, f.reserved);
  ctx.expect(owner_holder(f.writer) == active_owner(getpid()),
             "writer owner word (bytes 56..63): the creator",
             hex(active_owner(getpid())) + " (this pid, active; bits 33-63 a generation)",
             hex(f.writer));
  ctx.expect(f.writer_joined_at + 1000000000ULL >= before_ns &&
                 f.writer_joined_at <= after_ns + 1000000000ULL,
             "writer_joined_at (bytes 64..71)", "CLOCK_REALTIME ns during the create",
             std::to_string(f.writer_joined_at));
  ctx.expect(
      std::all_of(f.frame_type.begin(), f.frame_type.end(), [](uint8_t b) { return b == 0; }),
      "frame_type (bytes 72..127) of an untyped channel", "all zero",
      hex_bytes(f.frame_type.data(), f.frame_type.size()));
  ctx.expect(
      std::all_of(area.begin() + kChannelHeaderSize, area.end(), [](uint8_t b) { return b == 0; }),
      "the reader table and the first slot header", "all zero (free, never written)",
      "non-zero bytes");
}

void run_geometry_vector(CheckContext& ctx, const GeometryVector& v) {
  ObjectGuard g(ctx.unique_name());
  ChannelHandle channel(ctx.zinc);
  *channel.out() = junk_handle();
  const uint64_t before = realtime_ns();
  const int32_t rc = ctx.zinc.channel_create(g.c_str(), v.mode, v.slot_count, v.slot_size,
                                             v.max_readers, 0, channel.out());
  const uint64_t after = realtime_ns();
  ctx.expect_code("zinc_channel_create(" + std::to_string(v.mode) + ", " +
                      std::to_string(v.slot_count) + ", " + std::to_string(v.slot_size) + ", " +
                      std::to_string(v.max_readers) + ") (" + v.reason + ")",
                  v.code, rc);
  if (rc != 0) {
    ctx.expect_null("*out after the failed create", channel.get());
    channel.leak();
    ctx.expect(!object_exists(g.name()), "the name after the failed create", "nothing created",
               object_path(g.name()) + " exists");
    return;
  }
  if (v.code != 0) return;
  const uint64_t page = system_page_size();
  const uint64_t capacity = page == 4096 ? v.capacity_4k : round_up(v.layout.required_bytes, page);
  ctx.expect_eq("object size (a page of header, then the layout rounded up to whole pages)",
                page + capacity, object_size(g.name()));
  expect_created_header(ctx, v, g.name(), before, after);
  if (ctx.zinc.channel_info != nullptr) {
    ZincChannelInfo info{};
    if (ctx.expect_code("zinc_channel_info", 0, ctx.zinc.channel_info(channel.get(), &info))) {
      ctx.expect_eq("ZincChannelInfo.slots_offset", v.layout.slots_offset, info.slots_offset);
      ctx.expect_eq("ZincChannelInfo.slot_stride", v.layout.slot_stride, info.slot_stride);
      ctx.expect_eq("ZincChannelInfo.required_bytes", v.layout.required_bytes, info.required_bytes);
    }
  }
}

}  // namespace

bool add_channel_vector_checks(const std::string& dir, std::string* error) {
  std::string probe;
  if (!read_file(dir + "/channel.tsv", &probe)) return true;  // vectors older than channels
  std::vector<Row> image_rows;
  std::vector<Row> geometry_rows;
  if (!read_table(dir + "/channel.tsv",
                  {"id", "capacity", "image", "code", "header_code", "reason"}, &image_rows,
                  error) ||
      !read_table(dir + "/channel_geometry.tsv",
                  {"id", "mode", "slot_count", "slot_size", "max_readers", "code", "slots_offset",
                   "slot_stride", "required_bytes", "capacity_4k", "reason"},
                  &geometry_rows, error)) {
    return false;
  }
  try {
    for (const Row& row : image_rows) {
      auto v = std::make_shared<ImageVector>();
      v->id = row.at("id");
      v->capacity = std::stoull(row.at("capacity"));
      std::string image;
      if (!read_file(dir + "/" + row.at("image"), &image) || image.size() != v->capacity) {
        *error =
            "cannot read the " + row.at("capacity") + " bytes of " + dir + "/" + row.at("image");
        return false;
      }
      v->image.assign(image.begin(), image.end());
      v->code = std::stoi(row.at("code"));
      v->header_code = std::stoi(row.at("header_code"));
      v->reason = row.at("reason");
      all_checks().push_back({.name = "vectors.channel." + v->id,
                              .summary = "zinc_check_channel_header of image " + row.at("image") +
                                         ": " + row.at("code") + " (header alone: " +
                                         row.at("header_code") + "; " + v->reason + ")",
                              .needs = {"zinc_check_channel_header"},
                              .run = [v](CheckContext& ctx) { run_image_vector(ctx, *v); }});
    }
    for (const Row& row : geometry_rows) {
      auto v = std::make_shared<GeometryVector>();
      v->id = row.at("id");
      v->mode = static_cast<uint32_t>(std::stoul(row.at("mode")));
      v->slot_count = static_cast<uint32_t>(std::stoul(row.at("slot_count")));
      v->slot_size = std::stoull(row.at("slot_size"));
      v->max_readers = static_cast<uint32_t>(std::stoul(row.at("max_readers")));
      v->code = std::stoi(row.at("code"));
      v->reason = row.at("reason");
      if (v->code == 0) {
        v->layout.slots_offset = std::stoull(row.at("slots_offset"));
        v->layout.slot_stride = std::stoull(row.at("slot_stride"));
        v->layout.required_bytes = std::stoull(row.at("required_bytes"));
        v->capacity_4k = std::stoull(row.at("capacity_4k"));
      }
      all_checks().push_back({.name = "vectors.channel_geometry." + v->id,
                              .summary = "zinc_channel_create(mode " + row.at("mode") + ", " +
                                         row.at("slot_count") + " slots of " + row.at("slot_size") +
                                         ", " + row.at("max_readers") +
                                         " readers): " + row.at("code") +
                                         (v->code == 0 ? ", layout " + row.at("required_bytes") +
                                                             " bytes, header bytes as §10.2 says"
                                                       : " (" + v->reason + ")"),
                              .needs = channel_functions(),
                              .run = [v](CheckContext& ctx) { run_geometry_vector(ctx, *v); }});
    }
  } catch (const std::exception& e) {
    *error = std::string("malformed channel vector value: ") + e.what();
    return false;
  }
  return true;
}

}  // namespace zinc::conformance
