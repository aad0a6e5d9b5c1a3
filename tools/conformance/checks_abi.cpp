// abi.*: the exported functions, zinc_version, and what NULL, closed and
// foreign handles do (docs/spec.md §6).
#include <cstring>
#include <set>

#include "check_support.hpp"
#include "raw_object.hpp"

namespace zinc::conformance {
namespace {

void exports_the_nine_functions(CheckContext& ctx) {
  for (const std::string& function : required_functions()) {
    ctx.expect(ctx.zinc.has(function), "dlsym(\"" + function + "\")", "exported", "missing");
  }
}

void version_is_0x00020001(CheckContext& ctx) {
  ctx.expect(ctx.zinc.version() == kAbiVersion, "zinc_version()", hex(kAbiVersion),
             hex(ctx.zinc.version()));
}

// Every handle-taking call with `h`, which is not a live handle.
void expect_dead_handle_is_harmless(CheckContext& ctx, ZincHandle h, const std::string& label) {
  ctx.expect_null("zinc_ptr(" + label + ")", ctx.zinc.ptr(h));
  ctx.expect_eq("zinc_capacity(" + label + ")", 0, ctx.zinc.capacity(h));
  ctx.zinc.notify(h);  // must not crash
  ctx.expect_code("zinc_wait(" + label + ", 0)", ZINC_EINVAL, ctx.zinc.wait(h, 0));
  ctx.expect_code("zinc_wait(" + label + ", 1000)", ZINC_EINVAL, ctx.zinc.wait(h, 1000));
  ctx.expect_code("zinc_try_wait(" + label + ")", ZINC_EINVAL, ctx.zinc.try_wait(h));
  if (ctx.zinc.name != nullptr) ctx.expect_null("zinc_name(" + label + ")", ctx.zinc.name(h));
  ctx.zinc.close(h);  // must not crash
}

void null_handle_is_harmless(CheckContext& ctx) {
  expect_dead_handle_is_harmless(ctx, nullptr, "NULL");
}

void closed_handle_is_rejected(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  Handle reader = open_region(ctx, g.name());
  const ZincHandle stale = reader.get();
  reader.close();
  expect_dead_handle_is_harmless(ctx, stale, "a closed handle");
  // The owner is untouched by all that.
  ctx.expect_eq("zinc_capacity(owner) after calls on a closed reader", ctx.page(),
                ctx.zinc.capacity(owner.get()));
  ctx.expect(object_exists(g.name()), "the region after a double close of a reader", "exists",
             "gone");
}

void stale_handle_does_not_reach_a_newer_one(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  Handle first = open_region(ctx, g.name());
  const ZincHandle stale = first.get();
  first.close();
  // A new handle may reuse the slot; the stale value must not alias it.
  Handle second = open_region(ctx, g.name());
  ctx.zinc.notify(owner.get());
  ctx.expect_code("zinc_try_wait(stale handle) while a newer handle is open", ZINC_EINVAL,
                  ctx.zinc.try_wait(stale));
  ctx.expect_code("zinc_try_wait(newer handle): its notification is still pending", 0,
                  ctx.zinc.try_wait(second.get()));
  ctx.zinc.close(stale);
  ctx.expect(ctx.zinc.ptr(second.get()) != nullptr,
             "zinc_ptr(newer handle) after closing the stale one", "non-NULL", "NULL");
}

void foreign_handle_values_are_rejected(CheckContext& ctx) {
  int local = 0;
  const ZincHandle values[] = {
      reinterpret_cast<ZincHandle>(uintptr_t{1}), reinterpret_cast<ZincHandle>(uintptr_t{0x1000}),
      reinterpret_cast<ZincHandle>(~uintptr_t{0}), reinterpret_cast<ZincHandle>(&local)};
  const char* labels[] = {"(ZincHandle)1", "(ZincHandle)0x1000", "(ZincHandle)~0",
                          "a pointer to a stack int"};
  for (size_t i = 0; i < 4; ++i) expect_dead_handle_is_harmless(ctx, values[i], labels[i]);
}

void strerror_describes_every_code(CheckContext& ctx) {
  const int32_t codes[] = {0, -1, -2, -11, -17, -22, -28, -74, -110, -125};
  std::set<std::string> texts;
  for (int32_t code : codes) {
    const char* text = ctx.zinc.strerror(code);
    const std::string label = "zinc_strerror(" + std::to_string(code) + ")";
    if (!ctx.expect(text != nullptr, label, "a text", "NULL")) continue;
    ctx.expect(std::strlen(text) > 0, label, "a non-empty text", "\"\"");
    ctx.expect(texts.insert(text).second, label, "a text no other code has",
               std::string("\"") + text + "\" again");
  }
  const int32_t odd[] = {1, 12345, -4095, -100000, INT32_MIN};
  for (int32_t code : odd) {
    ctx.expect(ctx.zinc.strerror(code) != nullptr, "zinc_strerror(" + std::to_string(code) + ")",
               "a text", "NULL");
  }
}

void last_error_message_explains_a_failure(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle h(ctx.zinc);
  const int32_t rc = ctx.zinc.create(g.c_str(), ctx.page() + 1, h.out());
  ctx.expect_code("zinc_create with capacity page+1", ZINC_EINVAL, rc);
  const std::string message = ctx.zinc.last_error_message();
  ctx.expect(message.size() >= 10, "zinc_last_error_message() after that failure",
             "a sentence explaining it", "\"" + message + "\"");
  Handle ok = create_region(ctx, g.name(), ctx.page());
  ctx.expect(message == ctx.zinc.last_error_message(),
             "zinc_last_error_message() after a later successful call",
             "unchanged \"" + message + "\"",
             std::string("\"") + ctx.zinc.last_error_message() + "\"");
  // Thread-local: a failure on another thread leaves this thread's message.
  std::string other;
  std::thread([&] {
    Handle none(ctx.zinc);
    ctx.zinc.open("", none.out());
    other = ctx.zinc.last_error_message();
  }).join();
  ctx.expect(message == ctx.zinc.last_error_message(),
             "zinc_last_error_message() after a failure on another thread",
             "unchanged (thread-local)", std::string("\"") + ctx.zinc.last_error_message() + "\"");
  ctx.expect(!other.empty() && other != message, "the other thread's message", "its own failure",
             "\"" + other + "\"");
}

void page_size_is_the_system_page(CheckContext& ctx) {
  ctx.expect_eq("zinc_page_size()", ctx.page(), ctx.zinc.page_size());
}

void name_returns_the_region_name(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  Handle reader = open_region(ctx, g.name());
  for (const Handle* h : {&owner, &reader}) {
    const char* name = ctx.zinc.name(h->get());
    ctx.expect(name != nullptr && g.name() == name, "zinc_name(handle)", "\"" + g.name() + "\"",
               name == nullptr ? "NULL" : std::string("\"") + name + "\"");
  }
}

void name_hash_is_fnv1a_64(CheckContext& ctx) {
  struct Vector {
    const char* name;
    uint64_t hash;
  };
  // docs/spec.md §3.1, plus the empty string (the FNV offset basis).
  const Vector vectors[] = {{"my-data", 0xa2c98045cdc80bea},
                            {"test", 0xf9e6e6ef197c2b25},
                            {"a", 0xaf63dc4c8601ec8c},
                            {"", 0xcbf29ce484222325}};
  for (const Vector& v : vectors) {
    ctx.expect(ctx.zinc.name_hash(v.name) == v.hash,
               std::string("zinc_name_hash(\"") + v.name + "\")", hex(v.hash),
               hex(ctx.zinc.name_hash(v.name)));
  }
}

void create_ex_honours_its_flags(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle bad(ctx.zinc);
  ctx.expect_code("zinc_create_ex with unknown flag 0x80", ZINC_EINVAL,
                  ctx.zinc.create_ex(g.c_str(), ctx.page(), 0x80, bad.out()));
  ctx.expect_null("*out after that failure", bad.get());
  bad.leak();
  ctx.expect(!object_exists(g.name()), "the name after a rejected flag", "not created", "created");
  Handle h(ctx.zinc);
  ctx.require_code("zinc_create_ex(ZINC_CREATE_PREFAULT)", 0,
                   ctx.zinc.create_ex(g.c_str(), 2 * ctx.page(), ZINC_CREATE_PREFAULT, h.out()));
  ctx.expect_eq("zinc_capacity of a prefaulted region", 2 * ctx.page(), ctx.zinc.capacity(h.get()));
  h.data()[2 * ctx.page() - 1] = 7;
  ctx.expect_eq("last data byte in the object", 7, read_object(g.name())[3 * ctx.page() - 1]);
}

void inspect_reads_without_counting(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  ZincHeaderInfo info{};
  ctx.expect_code("zinc_inspect of a live region", 0, ctx.zinc.inspect(g.c_str(), &info));
  ctx.expect(info.magic == kMagic, "ZincHeaderInfo.magic", hex(kMagic), hex(info.magic));
  ctx.expect_eq("ZincHeaderInfo.capacity", ctx.page(), info.capacity);
  ctx.expect_eq("ZincHeaderInfo.ref_count", 1, info.ref_count);
  ctx.expect_eq("raw ref_count after zinc_inspect", 1, read_header(g.name()).ref_count);
  ctx.expect_code("zinc_inspect of a missing region", ZINC_ENOENT,
                  ctx.zinc.inspect((g.name() + "x").c_str(), nullptr));
  ctx.expect_code("zinc_inspect(NULL)", ZINC_EINVAL, ctx.zinc.inspect(nullptr, nullptr));
}

const RegisterChecks registered({
    {.name = "abi.exports_the_nine_functions",
     .summary = "the library exports all nine functions of the original ABI",
     .run = exports_the_nine_functions},
    {.name = "abi.version_is_0x00020001",
     .summary = "zinc_version() returns 0x00020001 (format 2, ABI revision 1)",
     .run = version_is_0x00020001},
    {.name = "abi.null_handle_is_harmless",
     .summary =
         "NULL handle: zinc_ptr NULL, zinc_capacity 0, wait/try_wait -22, notify/close no-ops",
     .run = null_handle_is_harmless},
    {.name = "abi.closed_handle_is_rejected",
     .requirement = Requirement::kExtension,
     .summary = "a closed handle behaves like NULL (-22, NULL, 0, no-ops), double close included",
     .run = closed_handle_is_rejected},
    {.name = "abi.stale_handle_does_not_reach_a_newer_one",
     .requirement = Requirement::kExtension,
     .summary = "a closed handle's value never acts on a handle opened after it",
     .run = stale_handle_does_not_reach_a_newer_one},
    {.name = "abi.foreign_handle_values_are_rejected",
     .requirement = Requirement::kExtension,
     .summary = "values that were never handles are rejected like NULL, without a crash",
     .run = foreign_handle_values_are_rejected},
    {.name = "abi.strerror_describes_every_code",
     .requirement = Requirement::kExtension,
     .summary = "zinc_strerror gives a distinct non-empty text for each ZINC_E* code, never NULL",
     .needs = {"zinc_strerror"},
     .run = strerror_describes_every_code},
    {.name = "abi.last_error_message_explains_a_failure",
     .requirement = Requirement::kExtension,
     .summary =
         "zinc_last_error_message explains the last failure, per thread, until the next failure",
     .needs = {"zinc_last_error_message"},
     .run = last_error_message_explains_a_failure},
    {.name = "abi.page_size_is_the_system_page",
     .requirement = Requirement::kExtension,
     .summary = "zinc_page_size() equals sysconf(_SC_PAGESIZE)",
     .needs = {"zinc_page_size"},
     .run = page_size_is_the_system_page},
    {.name = "abi.name_returns_the_region_name",
     .requirement = Requirement::kExtension,
     .summary = "zinc_name returns the name given to create/open",
     .needs = {"zinc_name"},
     .run = name_returns_the_region_name},
    {.name = "abi.name_hash_is_fnv1a_64",
     .requirement = Requirement::kExtension,
     .summary = "zinc_name_hash matches the FNV-1a 64 vectors of the spec",
     .needs = {"zinc_name_hash"},
     .run = name_hash_is_fnv1a_64},
    {.name = "abi.create_ex_honours_its_flags",
     .requirement = Requirement::kExtension,
     .summary = "zinc_create_ex rejects unknown flags (-22, nothing created) and accepts PREFAULT",
     .needs = {"zinc_create_ex"},
     .run = create_ex_honours_its_flags},
    {.name = "abi.inspect_reads_without_counting",
     .requirement = Requirement::kExtension,
     .summary =
         "zinc_inspect decodes a live header without changing ref_count; -2 for a missing name",
     .needs = {"zinc_inspect"},
     .run = inspect_reads_without_counting},
});

}  // namespace
}  // namespace zinc::conformance
