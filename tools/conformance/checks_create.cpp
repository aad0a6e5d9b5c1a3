// create.*: zinc_create's argument rules, error codes and the object it
// makes (docs/spec.md §2, §4.1, §6).
#include <sys/stat.h>

#include <cstdint>
#include <limits>

#include "check_support.hpp"
#include "raw_object.hpp"

namespace zinc::conformance {
namespace {

// Printable form of a name for messages.
std::string shown(const std::string& name) {
  std::string out = "\"";
  for (unsigned char c : name) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\x%02x", c);
      out += esc;
    }
  }
  if (out.size() > 60) out = out.substr(0, 40) + "...(" + std::to_string(name.size()) + " bytes)";
  return out + "\"";
}

// Names the spec rejects (§2), each with why.
struct BadName {
  std::string name;
  const char* why;
};

std::vector<BadName> bad_names() {
  return {{"", "empty"},
          {"/lead", "leading slash"},
          {"a/b", "slash"},
          {"a.b", "dot"},
          {"a b", "space"},
          {"a\tb", "tab"},
          {"line\n", "newline"},
          {"caf\xc3\xa9", "UTF-8 e-acute (non-ASCII)"},
          {"\xff\xfe", "invalid UTF-8"},
          {std::string(251, 'a'), "251 bytes"},
          {"..", "dot-dot"}};
}

void rejects_null_out(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  ctx.expect_code("zinc_create(name, page, NULL)", ZINC_EINVAL,
                  ctx.zinc.create(g.c_str(), ctx.page(), nullptr));
  ctx.expect(!object_exists(g.name()), "the name after that call", "not created", "created");
  ctx.expect_code("zinc_open(name, NULL)", ZINC_EINVAL, ctx.zinc.open(g.c_str(), nullptr));
}

void rejects_null_name(CheckContext& ctx) {
  ZincHandle out = junk_handle();
  ctx.expect_code("zinc_create(NULL, page, &out)", ZINC_EINVAL,
                  ctx.zinc.create(nullptr, ctx.page(), &out));
  ctx.expect_null("*out after zinc_create(NULL, ...)", out);
  out = junk_handle();
  ctx.expect_code("zinc_open(NULL, &out)", ZINC_EINVAL, ctx.zinc.open(nullptr, &out));
  ctx.expect_null("*out after zinc_open(NULL, ...)", out);
}

void rejects_invalid_names(CheckContext& ctx) {
  for (const BadName& bad : bad_names()) {
    const bool existed = object_exists(bad.name);
    ZincHandle out = junk_handle();
    const int32_t rc = ctx.zinc.create(bad.name.c_str(), ctx.page(), &out);
    const std::string label = std::string("zinc_create(") + shown(bad.name) + ") [" + bad.why + "]";
    ctx.expect_code(label, ZINC_EINVAL, rc);
    ctx.expect_null("*out after " + label, rc == 0 ? nullptr : out);
    if (rc == 0) ctx.zinc.close(out);
    if (!existed && object_exists(bad.name)) {
      ctx.expect(false, label, "nothing created", "created " + object_path(bad.name));
      unlink_object(bad.name);
    }
    out = junk_handle();
    const int32_t open_rc = ctx.zinc.open(bad.name.c_str(), &out);
    ctx.expect_code(std::string("zinc_open(") + shown(bad.name) + ") [" + bad.why + "]",
                    ZINC_EINVAL, open_rc);
    if (open_rc == 0) ctx.zinc.close(out);
  }
}

void accepts_every_name_byte_and_250_bytes(CheckContext& ctx) {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
  const std::string base = ctx.unique_name();
  std::string longest = base + "-";
  longest.resize(kMaxNameLen, 'x');
  for (const std::string& name : {base + "-" + alphabet, longest}) {
    ObjectGuard g(name);
    Handle h(ctx.zinc);
    const int32_t rc = ctx.zinc.create(name.c_str(), ctx.page(), h.out());
    if (rc != 0) h.leak();
    ctx.expect_code("zinc_create(" + shown(name) + ")", 0, rc);
    if (rc != 0) continue;
    ctx.expect(object_exists(name), "the object for " + shown(name),
               "exists as " + object_path(name), "missing");
    Handle reader(ctx.zinc);
    const int32_t open_rc = ctx.zinc.open(name.c_str(), reader.out());
    if (open_rc != 0) reader.leak();
    ctx.expect_code("zinc_open(" + shown(name) + ")", 0, open_rc);
  }
}

void rejects_invalid_capacities(CheckContext& ctx) {
  const uint64_t page = ctx.page();
  const uint64_t max = std::numeric_limits<uintptr_t>::max();
  struct Bad {
    uint64_t capacity;
    const char* why;
  };
  const Bad cases[] = {{0, "zero"},
                       {1, "one byte"},
                       {page - 1, "page - 1"},
                       {page + 1, "page + 1"},
                       {page / 2, "half a page"},
                       {3 * page / 2, "one and a half pages"},
                       {max, "UINTPTR_MAX"},
                       {max - page + 1, "page + capacity overflows"},
                       {uint64_t{1} << 63, "past the largest signed size"}};
  for (const Bad& bad : cases) {
    ObjectGuard g(ctx.unique_name());
    ZincHandle out = junk_handle();
    const int32_t rc = ctx.zinc.create(g.c_str(), static_cast<uintptr_t>(bad.capacity), &out);
    const std::string label =
        "zinc_create with capacity " + std::to_string(bad.capacity) + " [" + bad.why + "]";
    ctx.expect_code(label, ZINC_EINVAL, rc);
    ctx.expect_null("*out after " + label, rc == 0 ? nullptr : out);
    if (rc == 0) ctx.zinc.close(out);
    ctx.expect(!object_exists(g.name()), "the name after " + label, "not created",
               "left in /dev/shm");
  }
}

void huge_capacity_fails_cleanly(CheckContext& ctx) {
  // Page-aligned and addressable, but beyond any /dev/shm and any mapping.
  ObjectGuard g(ctx.unique_name());
  ZincHandle out = junk_handle();
  const uint64_t capacity = uint64_t{1} << 50;
  const int32_t rc = ctx.zinc.create(g.c_str(), static_cast<uintptr_t>(capacity), &out);
  ctx.expect(rc < 0, "zinc_create with capacity 2^50", "a negative code (e.g. -28, -12, -27)",
             describe_code(rc));
  ctx.expect_null("*out after that failure", rc == 0 ? nullptr : out);
  if (rc == 0) ctx.zinc.close(out);
  ctx.expect(!object_exists(g.name()), "the name after that failure", "unlinked again",
             "left in /dev/shm");
  ctx.note("code returned: " + describe_code(rc));
}

void existing_name_is_eexist(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle first = create_region(ctx, g.name(), ctx.page());
  first.data()[0] = 0x5a;
  ctx.zinc.notify(first.get());
  const std::vector<uint8_t> before = read_object(g.name());
  ZincHandle out = junk_handle();
  const int32_t rc = ctx.zinc.create(g.c_str(), 2 * ctx.page(), &out);
  ctx.expect_code("zinc_create of an existing name", ZINC_EEXIST, rc);
  ctx.expect_null("*out after that failure", rc == 0 ? nullptr : out);
  if (rc == 0) ctx.zinc.close(out);
  ctx.expect(read_object(g.name()) == before, "the existing region's bytes", "unchanged",
             "changed");
}

void existing_foreign_object_is_eexist(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  const std::vector<uint8_t> foreign = {'n', 'o', 't', ' ', 'z', 'i', 'n', 'c'};
  plant_object(g.name(), foreign, 100);
  ZincHandle out = junk_handle();
  const int32_t rc = ctx.zinc.create(g.c_str(), ctx.page(), &out);
  ctx.expect_code("zinc_create over a non-zinc object of that name", ZINC_EEXIST, rc);
  if (rc == 0) ctx.zinc.close(out);
  std::vector<uint8_t> expected = foreign;
  expected.resize(100, 0);
  ctx.expect(object_exists(g.name()) && read_object(g.name()) == expected, "the foreign object",
             "untouched (100 bytes)", "changed or removed");
}

void capacity_is_the_requested_size(CheckContext& ctx) {
  for (uint64_t pages : {1, 3}) {
    ObjectGuard g(ctx.unique_name());
    const uint64_t capacity = pages * ctx.page();
    Handle h = create_region(ctx, g.name(), capacity);
    ctx.expect_eq("zinc_capacity after zinc_create(" + std::to_string(capacity) + ")", capacity,
                  ctx.zinc.capacity(h.get()));
  }
}

void data_area_is_page_aligned_zeroed_and_writable(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  const uint64_t capacity = 2 * ctx.page();
  Handle h = create_region(ctx, g.name(), capacity);
  uint8_t* data = h.data();
  ctx.require(data != nullptr, "zinc_ptr(owner)", "non-NULL", "NULL");
  ctx.expect(reinterpret_cast<uintptr_t>(data) % ctx.page() == 0, "zinc_ptr(owner)", "page aligned",
             hex(reinterpret_cast<uintptr_t>(data)));
  uint64_t nonzero = 0;
  for (uint64_t i = 0; i < capacity; ++i) nonzero += data[i] != 0;
  ctx.expect_eq("non-zero bytes in a fresh data area", 0, nonzero);
  data[0] = 1;
  data[capacity - 1] = 2;
  ctx.expect(data[0] == 1 && data[capacity - 1] == 2, "first and last data bytes", "writable",
             "did not keep their values");
}

void object_is_page_plus_capacity_mode_0600(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  umask(0);  // the spec's 0600, unmasked
  Handle h = create_region(ctx, g.name(), 3 * ctx.page());
  ctx.expect_eq("size of " + object_path(g.name()), 4 * ctx.page(), object_size(g.name()));
  const unsigned mode = object_mode(g.name());
  char text[16];
  std::snprintf(text, sizeof text, "0%o", mode);
  ctx.expect(mode == 0600, "permission bits of " + object_path(g.name()) + " (umask 0)", "0600",
             text);
}

const RegisterChecks registered({
    {.name = "create.rejects_null_out",
     .summary = "create/open with out == NULL return -22 and create nothing",
     .run = rejects_null_out},
    {.name = "create.rejects_null_name",
     .summary = "create/open with name == NULL return -22 and set *out to NULL",
     .run = rejects_null_name},
    {.name = "create.rejects_invalid_names",
     .summary =
         "empty, '/', '.', space, control, non-ASCII, invalid UTF-8 and 251-byte names: -22, "
         "*out NULL, nothing created",
     .run = rejects_invalid_names},
    {.name = "create.accepts_every_name_byte_and_250_bytes",
     .summary = "names using all of [A-Za-z0-9_-] and names of exactly 250 bytes create and open",
     .run = accepts_every_name_byte_and_250_bytes},
    {.name = "create.rejects_invalid_capacities",
     .summary =
         "capacity 0, not a page multiple, or overflowing page + capacity: -22, nothing created",
     .run = rejects_invalid_capacities},
    {.name = "create.huge_capacity_fails_cleanly",
     .summary = "a page-aligned capacity of 2^50 fails with a negative code and leaves no object",
     .run = huge_capacity_fails_cleanly},
    {.name = "create.existing_name_is_eexist",
     .summary =
         "creating an existing region's name returns -17 and leaves that region's bytes alone",
     .run = existing_name_is_eexist},
    {.name = "create.existing_foreign_object_is_eexist",
     .summary = "creating over a non-zinc object of that name returns -17 and leaves it alone",
     .run = existing_foreign_object_is_eexist},
    {.name = "create.capacity_is_the_requested_size",
     .summary = "zinc_capacity of a new region is exactly the capacity asked for",
     .run = capacity_is_the_requested_size},
    {.name = "create.data_area_is_page_aligned_zeroed_and_writable",
     .summary =
         "zinc_ptr is page aligned, the data area starts zeroed, first and last bytes writable",
     .run = data_area_is_page_aligned_zeroed_and_writable},
    {.name = "create.object_is_page_plus_capacity_mode_0600",
     .summary = "/dev/shm/zinc_<name> is page + capacity bytes with mode 0600",
     .run = object_is_page_plus_capacity_mode_0600},
});

}  // namespace
}  // namespace zinc::conformance
