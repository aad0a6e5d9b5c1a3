#include "vectors.hpp"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <vector>

#include "check_support.hpp"
#include "raw_object.hpp"

namespace zinc::conformance {

bool read_file(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream text;
  text << in.rdbuf();
  *out = text.str();
  return true;
}

namespace {

std::vector<std::string> split(const std::string& line, char separator) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(line);
  while (std::getline(in, part, separator)) parts.push_back(part);
  if (!line.empty() && line.back() == separator) parts.emplace_back();
  return parts;
}

}  // namespace

// A TSV file with a header row; '#' lines are comments.
bool read_table(const std::string& path, const std::vector<std::string>& columns,
                std::vector<Row>* rows, std::string* error) {
  std::string text;
  if (!read_file(path, &text)) {
    *error = "cannot read " + path;
    return false;
  }
  std::istringstream in(text);
  std::string line;
  std::vector<std::string> header;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const std::vector<std::string> cells = split(line, '\t');
    if (header.empty()) {
      header = cells;
      for (const std::string& column : columns) {
        if (std::find(header.begin(), header.end(), column) == header.end()) {
          *error = path + " has no column '" + column + "'";
          return false;
        }
      }
      continue;
    }
    if (cells.size() != header.size()) {
      *error = path + ": row '" + cells[0] + "' has " + std::to_string(cells.size()) +
               " cells, the header " + std::to_string(header.size());
      return false;
    }
    Row row;
    for (size_t i = 0; i < cells.size(); ++i) row[header[i]] = cells[i];
    rows->push_back(std::move(row));
  }
  return true;
}

namespace {

// Objects larger than this are checked through zinc_check_header only.
constexpr uint64_t kLargestPlantedObject = uint64_t{64} << 20;

// "caf\xc3\xa9" -> the bytes.
std::string unescape(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size() && text[i + 1] == 'x') {
      out += static_cast<char>(std::stoi(text.substr(i + 2, 2), nullptr, 16));
      i += 3;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::vector<int32_t> codes(const std::string& text) {
  std::vector<int32_t> out;
  if (text == "-") return out;
  for (const std::string& part : split(text, ',')) out.push_back(std::stoi(part));
  return out;
}

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameLen) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

struct OpenVector {
  std::string id;
  Requirement requirement;
  uint64_t page_size;
  uint64_t object_size;
  std::vector<uint8_t> image;
  bool fix_name_hash;
  int32_t code;
  std::vector<int32_t> also_accepted;
  int32_t header_code;
  std::string reason;
};

struct CreateVector {
  std::string id;
  uint64_t page_size;
  std::string name;
  uint64_t capacity;
  int32_t code;
  std::vector<uint8_t> header;  // empty when code != 0
  uint64_t object_size;
  std::string reason;
};

// Whether `actual` satisfies a vector: its code, or (when `accept_original`)
// one of the codes the original implementation returned.
void expect_vector_code(CheckContext& ctx, const std::string& what, int32_t code,
                        const std::vector<int32_t>& also_accepted, bool accept_original,
                        int32_t actual) {
  const bool original =
      std::find(also_accepted.begin(), also_accepted.end(), actual) != also_accepted.end();
  if (actual == code) return;
  if (original && accept_original) {
    ctx.note(what + " returned " + describe_code(actual) +
             ", the original implementation's code (accepted; the reference wants " +
             describe_code(code) + ")");
    return;
  }
  std::string expected = describe_code(code);
  if (accept_original) {
    for (int32_t c : also_accepted) expected += " (or " + describe_code(c) + ")";
  }
  ctx.expect(false, what, expected, describe_code(actual));
}

// The required check accepts the original's codes in every mode; the
// reference's exact code is a separate extension check (reference_code), so
// --strict counts a port of the original there, not as a protocol failure.
void run_open_vector(CheckContext& ctx, const OpenVector& v, bool accept_original) {
  if (v.page_size != ctx.page()) {
    ctx.skip("a vector for page size " + std::to_string(v.page_size) + "; this system's is " +
             std::to_string(ctx.page()));
  }
  if (v.object_size > kLargestPlantedObject) {
    ctx.skip("object size " + std::to_string(v.object_size) + " is not planted in /dev/shm");
  }
  ObjectGuard g(ctx.unique_name());
  std::vector<uint8_t> image = v.image;
  if (v.fix_name_hash && image.size() >= offset::kNameHash + 8) {
    store_le(image.data() + offset::kNameHash, 8, fnv1a64(g.name()));
  }
  plant_object(g.name(), image, v.object_size);
  const std::vector<uint8_t> before = read_object(g.name());
  ZincHandle out = junk_handle();
  const int32_t rc = ctx.zinc.open(g.c_str(), &out);
  expect_vector_code(ctx, "zinc_open of vector " + v.id + " (" + v.reason + ")", v.code,
                     v.also_accepted, accept_original, rc);
  if (rc == 0) {
    ctx.zinc.close(out);
    return;
  }
  ctx.expect_null("*out after the refused open", out);
  ctx.expect(read_object(g.name()) == before, "the object after the refused open", "unchanged",
             "modified");
}

void run_check_header_vector(CheckContext& ctx, const OpenVector& v) {
  // The bytes an opener would read: the image cut to the object size, then
  // zero-padded to a whole header.
  std::vector<uint8_t> bytes = v.image;
  if (bytes.size() > v.object_size) bytes.resize(v.object_size);
  if (bytes.size() < kHeaderSize) bytes.resize(kHeaderSize, 0);
  ZincHeaderInfo info{};
  const int32_t rc =
      ctx.zinc.check_header(bytes.data(), bytes.size(), v.object_size, v.page_size, &info);
  expect_vector_code(
      ctx,
      "zinc_check_header of vector " + v.id + " (page size " + std::to_string(v.page_size) + ")",
      v.header_code, v.header_code == v.code ? v.also_accepted : std::vector<int32_t>{},
      !ctx.options.strict, rc);
  const HeaderFields f = decode_header(bytes.data());
  ctx.expect(info.magic == f.magic && info.capacity == f.capacity && info.version == f.version,
             "ZincHeaderInfo decoded by zinc_check_header",
             "magic " + hex(f.magic) + ", version " + std::to_string(f.version) + ", capacity " +
                 std::to_string(f.capacity),
             "magic " + hex(info.magic) + ", version " + std::to_string(info.version) +
                 ", capacity " + std::to_string(info.capacity));
}

void run_create_vector(CheckContext& ctx, const CreateVector& v) {
  if (v.page_size != ctx.page()) {
    ctx.skip("a vector for page size " + std::to_string(v.page_size) + "; this system's is " +
             std::to_string(ctx.page()));
  }
  // Valid names are made unique (parallel runs must not collide); the
  // invalid ones are used as they are, since nothing may be created.
  const bool made_unique = valid_name(v.name);
  std::string name = v.name;
  if (made_unique) {
    name = ctx.unique_name() + "-" + v.name;
    if (name.size() > kMaxNameLen) name.resize(kMaxNameLen);
  }
  std::optional<ObjectGuard> guard;
  if (made_unique) guard.emplace(name);
  const bool existed = object_exists(name);
  ZincHandle out = junk_handle();
  const uint64_t before = realtime_ns();
  const int32_t rc = ctx.zinc.create(name.c_str(), static_cast<uintptr_t>(v.capacity), &out);
  const uint64_t after = realtime_ns();
  ctx.expect_code("zinc_create of vector " + v.id + " (" + v.reason + ")", v.code, rc);
  if (rc != 0) {
    ctx.expect_null("*out after the failed create", out);
    if (!existed && object_exists(name)) {
      ctx.expect(false, "the name after the failed create", "nothing created",
                 object_path(name) + " exists");
      unlink_object(name);
    }
    return;
  }
  Handle h(ctx.zinc);
  *h.out() = out;
  if (v.code != 0) return;
  const std::vector<uint8_t> raw = read_object(name);
  ctx.expect_eq("object size", v.object_size, raw.size());
  ctx.require(raw.size() >= kHeaderSize, "object size", ">= 64", std::to_string(raw.size()));
  std::vector<uint8_t> expected = v.header;
  store_le(expected.data() + offset::kNameHash, 8, fnv1a64(name));
  // flags, owner_pid and created_at vary: checked by rule, then copied over.
  const HeaderFields f = decode_header(raw.data());
  ctx.expect(f.flags == 0 || f.flags == kFlagLivenessLocks, "flags",
             "0, or ZINC_HEADER_FLAG_LOCKS (§4.5)", hex(f.flags));
  store_le(expected.data() + 10, 2, f.flags);
  ctx.expect_eq("owner_pid", static_cast<uint64_t>(getpid()), static_cast<uint64_t>(f.owner_pid));
  ctx.expect(f.created_at + 1000000000ULL >= before && f.created_at <= after + 1000000000ULL,
             "created_at", "ns since the epoch during the create", std::to_string(f.created_at));
  std::copy(raw.begin() + offset::kOwnerPid, raw.begin() + offset::kNameHash,
            expected.begin() + offset::kOwnerPid);
  ctx.expect(std::equal(expected.begin(), expected.end(), raw.begin()),
             "the 64 header bytes (name_hash of \"" + name.substr(0, 40) + "...\")",
             hex_bytes(expected.data(), kHeaderSize), hex_bytes(raw.data(), kHeaderSize));
}

// The rule an open vector shares with an open.* check (Check::rule), so a
// port that breaks it is counted once.
std::string open_vector_rule(const std::string& id, bool reference_code) {
  if (reference_code && id.rfind("not_ready_empty", 0) == 0) return rules::kEmptyObjectIsNotReady;
  if (reference_code && id.rfind("not_ready_", 0) == 0) return rules::kMagicZeroIsNotReady;
  if (!reference_code && id.rfind("corrupt_flags", 0) == 0) return rules::kUnknownFlagsRefused;
  if (!reference_code && id.rfind("corrupt_name_hash", 0) == 0) {
    return rules::kNameHashMismatchRefused;
  }
  return "";
}

}  // namespace

bool add_vector_checks(const std::string& dir, std::string* error) {
  std::vector<Row> open_rows;
  std::vector<Row> create_rows;
  if (!read_table(dir + "/open.tsv",
                  {"id", "class", "page_size", "object_size", "image", "name_hash", "code",
                   "also_accepted", "header_code", "reason"},
                  &open_rows, error) ||
      !read_table(dir + "/create.tsv",
                  {"id", "class", "page_size", "name", "capacity", "code", "header", "object_size",
                   "reason"},
                  &create_rows, error)) {
    return false;
  }
  try {
    for (const Row& row : open_rows) {
      auto v = std::make_shared<OpenVector>();
      v->id = row.at("id");
      v->requirement =
          row.at("class") == "extension" ? Requirement::kExtension : Requirement::kRequired;
      v->page_size = std::stoull(row.at("page_size"));
      v->object_size = std::stoull(row.at("object_size"));
      std::string image;
      if (!read_file(dir + "/" + row.at("image"), &image)) {
        *error = "cannot read " + dir + "/" + row.at("image");
        return false;
      }
      v->image.assign(image.begin(), image.end());
      v->fix_name_hash = row.at("name_hash") == "fix";
      v->code = std::stoi(row.at("code"));
      v->also_accepted = codes(row.at("also_accepted"));
      v->header_code = std::stoi(row.at("header_code"));
      v->reason = row.at("reason");
      all_checks().push_back(
          {.name = "vectors.open." + v->id,
           .requirement = v->requirement,
           .summary = "zinc_open of image " + row.at("image") + " as a " + row.at("object_size") +
                      "-byte object: " + row.at("result") + " (" + v->reason + ")",
           .rule = open_vector_rule(v->id, false),
           .run = [v](CheckContext& ctx) { run_open_vector(ctx, *v, true); }});
      if (!v->also_accepted.empty()) {
        all_checks().push_back(
            {.name = "vectors.open." + v->id + ".reference_code",
             .requirement = Requirement::kExtension,
             .summary = "zinc_open of image " + row.at("image") + ": exactly " + row.at("code") +
                        ", not the original's " + row.at("also_accepted") + " (" + v->reason + ")",
             .rule = open_vector_rule(v->id, true),
             .run = [v](CheckContext& ctx) { run_open_vector(ctx, *v, false); }});
      }
      all_checks().push_back({.name = "vectors.check_header." + v->id,
                              .requirement = Requirement::kExtension,
                              .summary = "zinc_check_header of image " + row.at("image") +
                                         " (page size " + row.at("page_size") +
                                         "): " + row.at("header_code"),
                              .rule = open_vector_rule(v->id, !v->also_accepted.empty()),
                              .needs = {"zinc_check_header"},
                              .run = [v](CheckContext& ctx) { run_check_header_vector(ctx, *v); }});
    }
    for (const Row& row : create_rows) {
      auto v = std::make_shared<CreateVector>();
      v->id = row.at("id");
      v->page_size = std::stoull(row.at("page_size"));
      v->name = unescape(row.at("name"));
      v->capacity = std::stoull(row.at("capacity"));
      v->code = std::stoi(row.at("code"));
      v->reason = row.at("reason");
      if (row.at("header") != "-") {
        std::string header;
        if (!read_file(dir + "/" + row.at("header"), &header) || header.size() != kHeaderSize) {
          *error = "cannot read the 64 bytes of " + dir + "/" + row.at("header");
          return false;
        }
        v->header.assign(header.begin(), header.end());
        v->object_size = std::stoull(row.at("object_size"));
      }
      all_checks().push_back(
          {.name = "vectors.create." + v->id,
           .requirement =
               row.at("class") == "extension" ? Requirement::kExtension : Requirement::kRequired,
           .summary = "zinc_create(\"" + row.at("name").substr(0, 40) + "\", " +
                      row.at("capacity") + "): " + row.at("code") +
                      (v->header.empty() ? "" : ", header bytes " + row.at("header")),
           .run = [v](CheckContext& ctx) { run_create_vector(ctx, *v); }});
    }
  } catch (const std::exception& e) {
    *error = std::string("malformed value: ") + e.what();
    return false;
  }
  return add_channel_vector_checks(dir, error);
}

}  // namespace zinc::conformance
