// open.*: zinc_open of missing, valid and malformed objects (docs/spec.md
// §4.2). Every refused open must leave the object exactly as it was.
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>

#include "check_support.hpp"
#include "raw_object.hpp"

namespace zinc::conformance {
namespace {

using Corruption = std::function<void(std::vector<uint8_t>& page)>;

void set_field(std::vector<uint8_t>& page, size_t offset, size_t size, uint64_t value) {
  store_le(page.data() + offset, size, value);
}

// Plants a region whose header page is valid for capacity `header_capacity`
// and then corrupted, sized to `object_size`; opens it and expects one of
// `accepted`, *out NULL on failure, and the object's bytes unchanged.
void expect_open_result(CheckContext& ctx, const std::string& scenario, const Corruption& corrupt,
                        uint64_t header_capacity, uint64_t object_size,
                        std::initializer_list<int32_t> accepted) {
  ObjectGuard g(ctx.unique_name());
  std::vector<uint8_t> page = valid_header_page(g.name(), header_capacity);
  corrupt(page);
  if (page.size() > object_size) page.resize(object_size);
  plant_object(g.name(), page, object_size);
  const std::vector<uint8_t> before = read_object(g.name());
  ZincHandle out = junk_handle();
  const int32_t rc = ctx.zinc.open(g.c_str(), &out);
  ctx.expect_code_in("zinc_open of " + scenario, accepted, rc);
  if (rc == 0) {
    ctx.zinc.close(out);
    return;
  }
  ctx.expect_null("*out after the refused open of " + scenario, out);
  ctx.expect(read_object(g.name()) == before, "the object after the refused open of " + scenario,
             "unchanged (ref_count too)", "modified");
}

Corruption none() {
  return [](std::vector<uint8_t>&) {};
}

Corruption field(size_t offset, size_t size, uint64_t value) {
  return [=](std::vector<uint8_t>& page) { set_field(page, offset, size, value); };
}

void missing_name_is_enoent(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  ZincHandle out = junk_handle();
  const int32_t rc = ctx.zinc.open(g.c_str(), &out);
  ctx.expect_code("zinc_open of a name nobody created", ZINC_ENOENT, rc);
  ctx.expect_null("*out after that failure", rc == 0 ? nullptr : out);
  if (rc == 0) ctx.zinc.close(out);
  ctx.expect(!object_exists(g.name()), "the name after that open", "still absent", "created");
}

void shares_bytes_with_the_creator(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  const uint64_t capacity = 2 * ctx.page();
  Handle owner = create_region(ctx, g.name(), capacity);
  owner.data()[10] = 77;
  Handle reader = open_region(ctx, g.name());
  ctx.expect_eq("zinc_capacity(reader)", capacity, ctx.zinc.capacity(reader.get()));
  ctx.require(reader.data() != nullptr, "zinc_ptr(reader)", "non-NULL", "NULL");
  ctx.expect_eq("reader's byte 10 (the owner wrote 77)", 77, reader.data()[10]);
  reader.data()[capacity - 1] = 99;
  ctx.expect_eq("owner's last byte (the reader wrote 99)", 99, owner.data()[capacity - 1]);
}

void rejects_bad_magic(CheckContext& ctx) {
  const uint64_t p = ctx.page();
  expect_open_result(ctx, "a header with magic 0x0123456789abcdef",
                     field(0, 8, 0x0123456789abcdefULL), p, 2 * p, {ZINC_EBADMSG});
  expect_open_result(ctx, "a header with the magic byte-swapped (big-endian)",
                     field(0, 8, __builtin_bswap64(kMagic)), p, 2 * p, {ZINC_EBADMSG});
  expect_open_result(ctx, "a header with one magic bit flipped", field(0, 8, kMagic ^ 1), p, 2 * p,
                     {ZINC_EBADMSG});
}

void rejects_other_versions(CheckContext& ctx) {
  const uint64_t p = ctx.page();
  for (uint64_t version : {0, 1, 3, 0x0200, 0xffff}) {
    expect_open_result(ctx, "a header with version " + std::to_string(version),
                       field(8, 2, version), p, 2 * p, {ZINC_EBADMSG});
  }
}

void rejects_capacity_mismatch(CheckContext& ctx) {
  const uint64_t p = ctx.page();
  const uint64_t values[] = {0, p, p + 1, 2 * p - 1, 3 * p, uint64_t{1} << 40};
  for (uint64_t capacity : values) {
    expect_open_result(ctx,
                       "a 3-page object whose header says capacity " + std::to_string(capacity) +
                           " (object size - page = " + std::to_string(2 * p) + ")",
                       field(16, 8, capacity), 2 * p, 3 * p, {ZINC_EBADMSG});
  }
}

// The capacity is a u64: a reader that keeps only its low 32 bits cannot
// open a region of 4 GiB or more. The object is sparse (ftruncate only), so
// it costs /dev/shm a page or two, whatever its size.
void capacity_uses_all_64_bits(CheckContext& ctx) {
  const uint64_t p = ctx.page();
  const uint64_t capacity = (uint64_t{1} << 32) + p;
  ObjectGuard g(ctx.unique_name());
  plant_object(g.name(), valid_header_page(g.name(), capacity), p + capacity);
  Handle reader(ctx.zinc);
  const int32_t rc = ctx.zinc.open(g.c_str(), reader.out());
  if (rc != 0) reader.leak();
  ctx.require_code("zinc_open of a valid sparse region with capacity 2^32 + page", 0, rc);
  ctx.expect_eq("zinc_capacity of that region", capacity, ctx.zinc.capacity(reader.get()));
  uint8_t* data = reader.data();
  ctx.require(data != nullptr, "zinc_ptr of that region", "non-NULL", "NULL");
  data[capacity - 1] = 0x7b;  // the last byte, 4 GiB past the first
  const std::vector<uint8_t> back = read_object_range(g.name(), p + capacity - 1, 1);
  ctx.expect_eq("the object's last byte after a write through the handle", 0x7b,
                back.empty() ? 0 : back[0]);
}

void rejects_capacity_off_by_2_pow_32(CheckContext& ctx) {
  const uint64_t p = ctx.page();
  // The low 32 bits agree with the object (one data page); the high ones do not.
  for (uint64_t high : {uint64_t{1} << 32, uint64_t{0xffffffff} << 32}) {
    expect_open_result(ctx,
                       "a 2-page object whose header says capacity " + std::to_string(high + p) +
                           " (" + std::to_string(p) + " + " + std::to_string(high) + ")",
                       field(16, 8, high + p), p, 2 * p, {ZINC_EBADMSG});
  }
}

void rejects_impossible_ref_counts(CheckContext& ctx) {
  const uint64_t p = ctx.page();
  expect_open_result(ctx, "a header with ref_count 0", field(24, 4, 0), p, 2 * p, {ZINC_EBADMSG});
  expect_open_result(ctx, "a header with ref_count 2^32-1", field(24, 4, 0xffffffffu), p, 2 * p,
                     {ZINC_EBADMSG});
}

void rejects_an_object_of_one_page(CheckContext& ctx) {
  // The header is self-consistent (capacity 0 = size - page) but a region
  // needs at least one data page.
  const uint64_t p = ctx.page();
  expect_open_result(ctx, "a one-page object whose header says capacity 0", none(), 0, p,
                     {ZINC_EBADMSG});
}

void rejects_objects_shorter_than_two_pages(CheckContext& ctx) {
  const uint64_t p = ctx.page();
  for (uint64_t size : {uint64_t{1}, uint64_t{40}, uint64_t{63}, uint64_t{64}, uint64_t{100}, p - 1,
                        p + 1, 2 * p - 1}) {
    expect_open_result(ctx, "a " + std::to_string(size) + "-byte object (a valid header cut short)",
                       none(), p, size, {ZINC_EBADMSG});
  }
}

void rejects_sizes_not_whole_pages(CheckContext& ctx) {
  const uint64_t p = ctx.page();
  // Each header agrees with its object (capacity = size - page), so only the
  // whole-page rule refuses them.
  for (uint64_t size : {2 * p + 100, 3 * p + 1, 4 * p - 8}) {
    expect_open_result(ctx,
                       "a " + std::to_string(size) + "-byte object with capacity " +
                           std::to_string(size - p) + " (not whole pages)",
                       none(), size - p, size, {ZINC_EBADMSG});
  }
}

void empty_object_is_refused(CheckContext& ctx) {
  expect_open_result(ctx, "an empty (0-byte) object", none(), ctx.page(), 0,
                     {ZINC_EAGAIN, ZINC_EBADMSG});
}

void empty_object_is_not_ready(CheckContext& ctx) {
  expect_open_result(ctx, "an empty (0-byte) object", none(), ctx.page(), 0, {ZINC_EAGAIN});
}

void unpublished_header_is_refused(CheckContext& ctx) {
  const uint64_t p = ctx.page();
  expect_open_result(ctx, "a header with magic 0 (not published)", field(0, 8, 0), p, 2 * p,
                     {ZINC_EAGAIN, ZINC_EBADMSG});
  expect_open_result(ctx, "an all-zero 2-page object",
                     [](std::vector<uint8_t>& page) { std::fill(page.begin(), page.end(), 0); }, p,
                     2 * p, {ZINC_EAGAIN, ZINC_EBADMSG});
}

void unpublished_header_is_not_ready(CheckContext& ctx) {
  const uint64_t p = ctx.page();
  expect_open_result(ctx, "a header with magic 0 (not published)", field(0, 8, 0), p, 2 * p,
                     {ZINC_EAGAIN});
  expect_open_result(ctx, "an all-zero 2-page object",
                     [](std::vector<uint8_t>& page) { std::fill(page.begin(), page.end(), 0); }, p,
                     2 * p, {ZINC_EAGAIN});
}

void size_is_checked_before_magic(CheckContext& ctx) {
  const uint64_t p = ctx.page();
  expect_open_result(ctx, "magic 0 in an object of 2 pages + 1 byte", field(0, 8, 0), p + 1,
                     2 * p + 1, {ZINC_EBADMSG});
}

void rejects_unknown_flags(CheckContext& ctx) {
  const uint64_t p = ctx.page();
  // Bit 0 is ZINC_HEADER_FLAG_LOCKS (§3.1); every other bit is reserved.
  for (uint64_t flags : {0x2, 0x8000, 0x8001}) {
    expect_open_result(ctx, "a header with flags " + hex(flags), field(10, 2, flags), p, 2 * p,
                       {ZINC_EBADMSG});
  }
}

void rejects_name_hash_mismatch(CheckContext& ctx) {
  const uint64_t p = ctx.page();
  expect_open_result(ctx, "a header whose name_hash is FNV-1a of another name",
                     field(40, 8, fnv1a64("another-region")), p, 2 * p, {ZINC_EBADMSG});
}

void ignores_diagnostic_fields_and_padding(CheckContext& ctx) {
  const uint64_t p = ctx.page();
  expect_open_result(ctx, "a header with odd owner_pid, created_at, notify_seq, ring fields",
                     [](std::vector<uint8_t>& page) {
                       set_field(page, 12, 4, 0xfffffffeu);
                       set_field(page, 28, 4, 0xffffffffu);
                       set_field(page, 32, 8, ~uint64_t{0});
                       set_field(page, 48, 8, 12345);
                       set_field(page, 56, 8, 67890);
                     },
                     p, 2 * p, {0});
  expect_open_result(ctx, "a header page with non-zero padding (bytes 64..page)",
                     [](std::vector<uint8_t>& page) {
                       for (size_t i = kHeaderSize; i < page.size(); ++i) page[i] = 0xa5;
                     },
                     p, 2 * p, {0});
}

void without_permission_is_eperm(CheckContext& ctx) {
  // Regions are 0600: another user gets EACCES from shm_open, which the ABI
  // reports as -1. As root, a child switches to "nobody"; otherwise the
  // object is planted with mode 0 so its owner is refused too.
  ObjectGuard g(ctx.unique_name());
  const uint64_t p = ctx.page();
  std::vector<uint8_t> page = valid_header_page(g.name(), p);
  const bool root = geteuid() == 0;
  plant_object(g.name(), page, 2 * p, root ? 0600 : 0);
  const std::vector<uint8_t> before = root ? read_object(g.name()) : std::vector<uint8_t>{};
  const Api& zinc = ctx.zinc;
  const std::string name = g.name();
  auto attempt = [&zinc, name]() {
    ZincHandle out = junk_handle();
    const int32_t rc = zinc.open(name.c_str(), &out);
    if (rc == 0) zinc.close(out);
    // Exit statuses are 0..254: report -rc.
    return rc <= 0 && rc > -255 ? -rc : 254;
  };
  const int result = root ? run_as_nobody(attempt) : attempt();
  if (result == -1) ctx.skip("could not switch to user nobody");
  ctx.expect_code("zinc_open by a user without access", ZINC_EPERM, -result);
  if (root) {
    ctx.expect(read_object(g.name()) == before, "the object after the refused open", "unchanged",
               "modified");
  }
}

// Removes whatever is under /dev/shm/zinc_<name> (a FIFO, a link, an empty
// directory) at scope exit.
class PathGuard {
 public:
  explicit PathGuard(std::string name) : name_(std::move(name)) {}
  PathGuard(const PathGuard&) = delete;
  PathGuard& operator=(const PathGuard&) = delete;
  ~PathGuard() {
    const std::string path = object_path(name_);
    if (unlink(path.c_str()) != 0) rmdir(path.c_str());
  }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

// zinc_open(name) in a forked child, so an open that blocks (a FIFO opened
// without O_NONBLOCK waits for a writer) cannot hang the check: the code,
// or INT32_MIN if the child did not answer within limit_ms (it is killed).
int32_t open_in_child(CheckContext& ctx, const std::string& name, int limit_ms,
                      int64_t* elapsed_ms) {
  int fds[2];
  if (pipe(fds) != 0) throw KitError("pipe failed");
  std::fflush(nullptr);
  const int64_t start = monotonic_ms();
  const pid_t child = fork();
  if (child < 0) throw KitError("fork failed");
  if (child == 0) {
    close(fds[0]);
    ZincHandle out = nullptr;
    const int32_t rc = ctx.zinc.open(name.c_str(), &out);
    if (rc == 0) ctx.zinc.close(out);
    (void)!write(fds[1], &rc, sizeof rc);
    _exit(0);
  }
  close(fds[1]);
  pollfd p{fds[0], POLLIN, 0};
  int32_t rc = INT32_MIN;
  if (poll(&p, 1, limit_ms) == 1 && read(fds[0], &rc, sizeof rc) != sizeof rc) rc = INT32_MIN;
  *elapsed_ms = monotonic_ms() - start;
  close(fds[0]);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  return rc;
}

// docs/spec.md §4.2 step 2: anyone may put a FIFO, a symlink or a directory
// under a region's name. An open neither blocks on it nor follows it, and
// refuses it as "not a region" (-74), never as "not ready yet" (-11), which
// would make a caller retry for ever.
void non_regular_objects_are_not_regions(CheckContext& ctx) {
  ObjectGuard target(ctx.unique_name());
  Handle owner = create_region(ctx, target.name(), ctx.page());
  struct Kind {
    const char* what;
    std::function<int(const std::string&)> make;
  };
  const std::string target_path = object_path(target.name());
  const Kind kinds[] = {
      {"a FIFO", [](const std::string& path) { return mkfifo(path.c_str(), 0600); }},
      {"a symlink to a valid region",
       [&](const std::string& path) { return symlink(target_path.c_str(), path.c_str()); }},
      {"a directory", [](const std::string& path) { return mkdir(path.c_str(), 0700); }},
  };
  for (const Kind& kind : kinds) {
    PathGuard g(ctx.unique_name());
    if (kind.make(object_path(g.name())) != 0) {
      throw KitError(std::string("cannot make ") + kind.what + " in /dev/shm");
    }
    int64_t elapsed = 0;
    const int32_t rc = open_in_child(ctx, g.name(), 3000, &elapsed);
    const std::string label = std::string("zinc_open of ") + kind.what + " under the name";
    if (!ctx.expect(rc != INT32_MIN, label, "returns at once", "still blocked after 3 s")) {
      continue;
    }
    ctx.expect_code(label + " (not a region; never -11, which means retry)", ZINC_EBADMSG, rc);
    ctx.expect(elapsed < 2000, "time " + label + " took", "< 2000 ms",
               std::to_string(elapsed) + " ms");
  }
}

const RegisterChecks registered({
    {.name = "open.missing_name_is_enoent",
     .summary = "opening a name nobody created returns -2, *out NULL, and creates nothing",
     .run = missing_name_is_enoent},
    {.name = "open.shares_bytes_with_the_creator",
     .summary = "an opened handle has the creator's capacity and sees its bytes, both ways",
     .run = shares_bytes_with_the_creator},
    {.name = "open.rejects_bad_magic",
     .summary = "wrong, byte-swapped or bit-flipped magic: -74, *out NULL, object unchanged",
     .run = rejects_bad_magic},
    {.name = "open.capacity_uses_all_64_bits",
     .summary = "a sparse region of capacity 2^32 + page opens with that capacity; its last "
                "byte is the object's",
     .run = capacity_uses_all_64_bits},
    {.name = "open.rejects_capacity_off_by_2_pow_32",
     .summary = "a header capacity right in its low 32 bits but not its high ones: -74",
     .run = rejects_capacity_off_by_2_pow_32},
    {.name = "open.rejects_other_versions",
     .summary = "version 0, 1, 3, 0x200, 0xffff: -74, object unchanged",
     .run = rejects_other_versions},
    {.name = "open.rejects_capacity_mismatch",
     .summary = "a capacity field other than object size - page: -74, object unchanged",
     .run = rejects_capacity_mismatch},
    {.name = "open.rejects_impossible_ref_counts",
     .summary = "ref_count 0 or 2^32-1: -74, object unchanged",
     .run = rejects_impossible_ref_counts},
    {.name = "open.rejects_an_object_of_one_page",
     .summary = "a one-page object (self-consistent header, capacity 0): -74",
     .run = rejects_an_object_of_one_page},
    {.name = "open.rejects_objects_shorter_than_two_pages",
     .summary = "objects of 1 .. 2*page-1 bytes: -74 without reading past their end",
     .run = rejects_objects_shorter_than_two_pages},
    {.name = "open.rejects_sizes_not_whole_pages",
     .summary = "objects whose size is not a page multiple (header agreeing): -74",
     .run = rejects_sizes_not_whole_pages},
    {.name = "open.empty_object_is_refused",
     .summary =
         "a 0-byte object (creator not done) is refused with -11 or -74 (the original's code)",
     .run = empty_object_is_refused},
    {.name = "open.empty_object_is_not_ready",
     .requirement = Requirement::kExtension,
     .summary = "a 0-byte object is refused with -11, retryable",
     .rule = rules::kEmptyObjectIsNotReady,
     .run = empty_object_is_not_ready},
    {.name = "open.unpublished_header_is_refused",
     .summary =
         "magic 0 (header not published yet) is refused with -11 or -74 (the original's code)",
     .run = unpublished_header_is_refused},
    {.name = "open.unpublished_header_is_not_ready",
     .requirement = Requirement::kExtension,
     .summary = "magic 0 is refused with -11, retryable",
     .rule = rules::kMagicZeroIsNotReady,
     .run = unpublished_header_is_not_ready},
    {.name = "open.size_is_checked_before_magic",
     .summary = "magic 0 in an object of the wrong size is corruption (-74), not 'not ready'",
     .run = size_is_checked_before_magic},
    {.name = "open.rejects_unknown_flags",
     .requirement = Requirement::kExtension,
     .summary = "a non-zero flags field: -74",
     .rule = rules::kUnknownFlagsRefused,
     .run = rejects_unknown_flags},
    {.name = "open.rejects_name_hash_mismatch",
     .requirement = Requirement::kExtension,
     .summary = "a name_hash that is not FNV-1a of the name opened: -74",
     .rule = rules::kNameHashMismatchRefused,
     .run = rejects_name_hash_mismatch},
    {.name = "open.ignores_diagnostic_fields_and_padding",
     .summary =
         "odd owner_pid, created_at, notify_seq, ring fields and padding do not stop an open",
     .run = ignores_diagnostic_fields_and_padding},
    {.name = "open.non_regular_objects_are_not_regions",
     .requirement = Requirement::kExtension,
     .summary = "a FIFO, a symlink to a valid region and a directory under the name: zinc_open "
                "returns -74 at once (never blocks, never -11)",
     .run = non_regular_objects_are_not_regions},
    {.name = "open.without_permission_is_eperm",
     .summary = "a user without access to the object gets -1 (EACCES reported as EPERM)",
     .run = without_permission_is_eperm},
});

}  // namespace
}  // namespace zinc::conformance
