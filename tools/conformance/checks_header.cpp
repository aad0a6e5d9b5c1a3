// header.*: the bytes a candidate writes, read back raw from /dev/shm, and
// the bytes it must accept from another implementation (docs/spec.md §3).
#include <unistd.h>

#include "check_support.hpp"
#include "raw_object.hpp"

namespace zinc::conformance {
namespace {

void create_writes_every_field(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  const uint64_t capacity = 3 * ctx.page();
  const uint64_t before = realtime_ns();
  Handle h = create_region(ctx, g.name(), capacity);
  const uint64_t after = realtime_ns();
  const std::vector<uint8_t> raw = read_object(g.name());
  ctx.require(raw.size() >= kHeaderSize, "object size", ">= 64", std::to_string(raw.size()));
  const uint8_t magic_bytes[8] = {0x47, 0x45, 0x52, 0x5f, 0x43, 0x4e, 0x49, 0x5a};
  ctx.expect(std::equal(magic_bytes, magic_bytes + 8, raw.begin()), "bytes 0..7 (magic)",
             hex_bytes(magic_bytes, 8) + " (\"GER_CNIZ\")", hex_bytes(raw.data(), 8));
  const HeaderFields f = decode_header(raw.data());
  ctx.expect_eq("u16 at 8 (version)", kFormatVersion, f.version);
  ctx.expect(f.flags == 0 || f.flags == kFlagLivenessLocks, "u16 at 10 (flags)",
             "0, or 1 (ZINC_HEADER_FLAG_LOCKS: the creator holds liveness locks, §4.5)",
             hex(f.flags));
  ctx.expect_eq("u32 at 12 (notify_seq)", 0, f.notify_seq);
  ctx.expect_eq("u64 at 16 (capacity)", capacity, f.capacity);
  ctx.expect_eq("u32 at 24 (ref_count)", 1, f.ref_count);
  ctx.expect_eq("i32 at 28 (owner_pid)", static_cast<uint64_t>(getpid()),
                static_cast<uint64_t>(f.owner_pid));
  // ns since the epoch, taken during the create; a second of slack for a
  // clock read just before the call.
  ctx.expect(f.created_at + 1000000000ULL >= before && f.created_at <= after + 1000000000ULL,
             "u64 at 32 (created_at)",
             "ns since the epoch within the create call, about " + std::to_string(before),
             std::to_string(f.created_at));
  ctx.expect(f.name_hash == fnv1a64(g.name()), "u64 at 40 (name_hash)",
             hex(fnv1a64(g.name())) + " = FNV-1a 64 of \"" + g.name() + "\"", hex(f.name_hash));
  ctx.expect_eq("u64 at 48 (ring_head)", 0, f.ring_head);
  ctx.expect_eq("u64 at 56 (ring_tail)", 0, f.ring_tail);
}

size_t first_nonzero(const std::vector<uint8_t>& raw, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i) {
    if (raw[i] != 0) return i;
  }
  return to;
}

void padding_of_the_header_page_is_zero(CheckContext& ctx) {
  // docs/spec.md §3: [128, P) is zero padding in every region; [64, 128) is
  // zero, or the reference's waiter-count block (checked in full by
  // header.new_region_carries_the_waiter_count_block).
  ObjectGuard g(ctx.unique_name());
  Handle h = create_region(ctx, g.name(), ctx.page());
  const std::vector<uint8_t> raw = read_object(g.name());
  ctx.require(raw.size() >= ctx.page(), "object size", ">= one page", std::to_string(raw.size()));
  const size_t first = first_nonzero(raw, kWaiterCountEnd, ctx.page());
  ctx.expect(first == ctx.page(), "bytes 128 .. page size - 1 (padding)", "all zero",
             first == ctx.page()
                 ? "all zero"
                 : "byte " + std::to_string(first) + " is " + std::to_string(raw[first]));
  if (first_nonzero(raw, kHeaderSize, kWaiterCountEnd) != kWaiterCountEnd) {
    const uint64_t tag = decode_waiter_count(raw.data()).tag;
    const uint64_t expected = kWaiterCountMagic ^ decode_header(raw.data()).created_at;
    ctx.expect(tag == expected, "bytes 64 .. 127 (not zero, so the waiter-count block)",
               "all zero, or a block whose u64 at 64 is " + hex(expected) +
                   " (0x5A494E435F574354 XOR created_at)",
               "u64 at 64 is " + hex(tag));
  }
}

// Checks the waiter-count block of region `name` against the counts it must
// carry, read raw from /dev/shm; `when` labels the moment.
void expect_waiter_count(CheckContext& ctx, const std::string& name, const std::string& when,
                         uint32_t counted_handles, uint32_t counted_changes) {
  const std::vector<uint8_t> raw = read_object(name);
  ctx.require(raw.size() >= kWaiterCountEnd, "object size", ">= 128", std::to_string(raw.size()));
  const HeaderFields h = decode_header(raw.data());
  const WaiterCountFields w = decode_waiter_count(raw.data());
  ctx.expect(w.tag == (kWaiterCountMagic ^ h.created_at), "u64 at 64 (tag) " + when,
             hex(kWaiterCountMagic ^ h.created_at) + " = 0x5A494E435F574354 XOR created_at " +
                 hex(h.created_at),
             hex(w.tag));
  ctx.expect_eq("u32 at 72 (counted_handles) " + when, counted_handles, w.counted_handles);
  ctx.expect_eq("u32 at 76 (counted_changes) " + when, counted_changes, w.counted_changes);
  ctx.expect_eq("u32 at 80 (sleepers) " + when, 0, w.sleepers);
  const size_t reserved = first_nonzero(raw, offset::kWaiterReserved, kWaiterCountEnd);
  ctx.expect(reserved == kWaiterCountEnd, "bytes 84 .. 127 (reserved) " + when, "all zero",
             reserved == kWaiterCountEnd
                 ? "all zero"
                 : "byte " + std::to_string(reserved) + " is " + std::to_string(raw[reserved]));
  ctx.expect_eq("u32 at 24 (ref_count) " + when, counted_handles, h.ref_count);
}

void new_region_carries_the_waiter_count_block(CheckContext& ctx) {
  // docs/spec.md §9.2 and §9.3: the owner is counted at create (changes 0);
  // each open of a tagged region joins (+1, changes +1), each close leaves.
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  expect_waiter_count(ctx, g.name(), "after create", 1, 0);
  Handle reader = open_region(ctx, g.name());
  expect_waiter_count(ctx, g.name(), "after one open", 2, 1);
  reader.close();
  expect_waiter_count(ctx, g.name(), "after that handle's close", 1, 2);
}

void data_lives_at_offset_page_size(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  const uint64_t capacity = 2 * ctx.page();
  Handle h = create_region(ctx, g.name(), capacity);
  uint8_t* data = h.data();
  ctx.require(data != nullptr, "zinc_ptr(owner)", "non-NULL", "NULL");
  for (uint64_t i = 0; i < capacity; ++i) data[i] = static_cast<uint8_t>(i * 13 + 1);
  const std::vector<uint8_t> raw = read_object(g.name());
  ctx.require(raw.size() == ctx.page() + capacity, "object size",
              std::to_string(ctx.page() + capacity), std::to_string(raw.size()));
  for (uint64_t i = 0; i < capacity; ++i) {
    if (raw[ctx.page() + i] != static_cast<uint8_t>(i * 13 + 1)) {
      ctx.expect(false, "object byte " + std::to_string(ctx.page() + i),
                 "the byte written at zinc_ptr()[" + std::to_string(i) + "]",
                 std::to_string(raw[ctx.page() + i]));
      break;
    }
  }
  // And the other way: bytes written into the object appear at zinc_ptr.
  patch_object(g.name(), ctx.page() + 100, {0xab, 0xcd});
  ctx.expect(data[100] == 0xab && data[101] == 0xcd,
             "zinc_ptr()[100..101] after the kit wrote ab cd at object offset page + 100", "ab cd",
             hex_bytes(data + 100, 2));
}

void ref_count_counts_open_handles(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  ctx.expect_eq("ref_count after create", 1, read_header(g.name()).ref_count);
  Handle a = open_region(ctx, g.name());
  ctx.expect_eq("ref_count after one open", 2, read_header(g.name()).ref_count);
  Handle b = open_region(ctx, g.name());
  ctx.expect_eq("ref_count after two opens", 3, read_header(g.name()).ref_count);
  a.close();
  ctx.expect_eq("ref_count after one reader closed", 2, read_header(g.name()).ref_count);
  b.close();
  ctx.expect_eq("ref_count after both readers closed", 1, read_header(g.name()).ref_count);
}

void notify_adds_one_to_notify_seq(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  Handle reader = open_region(ctx, g.name());
  ctx.zinc.notify(owner.get());
  ctx.expect_eq("u32 at 12 (notify_seq) after one notify", 1, read_header(g.name()).notify_seq);
  ctx.zinc.notify(reader.get());
  ctx.zinc.notify(owner.get());
  ctx.zinc.notify(reader.get());
  ctx.expect_eq("notify_seq after four notifies from two handles", 4,
                read_header(g.name()).notify_seq);
  ctx.expect_code("zinc_try_wait(reader)", 0, ctx.zinc.try_wait(reader.get()));
  ctx.expect_code("zinc_wait(owner, 0)", 0, ctx.zinc.wait(owner.get(), 0));
  ctx.expect_eq("notify_seq after waits (waits never write it)", 4,
                read_header(g.name()).notify_seq);
}

void open_accepts_a_header_written_elsewhere(CheckContext& ctx) {
  // Exactly the bytes the spec describes, written without the candidate.
  ObjectGuard g(ctx.unique_name());
  const uint64_t capacity = 2 * ctx.page();
  std::vector<uint8_t> object = valid_header_page(g.name(), capacity);
  object.resize(ctx.page() + capacity, 0);
  object[ctx.page()] = 0x11;
  object[ctx.page() + capacity - 1] = 0x22;
  plant_object(g.name(), object, object.size());
  Handle h = open_region(ctx, g.name());
  ctx.expect_eq("zinc_capacity", capacity, ctx.zinc.capacity(h.get()));
  ctx.require(h.data() != nullptr, "zinc_ptr", "non-NULL", "NULL");
  ctx.expect(h.data()[0] == 0x11 && h.data()[capacity - 1] == 0x22, "first and last data bytes",
             "11 .. 22 (as planted)",
             hex_bytes(h.data(), 1) + " .. " + hex_bytes(h.data() + capacity - 1, 1));
  ctx.expect_eq("ref_count after the open", 2, read_header(g.name()).ref_count);
  h.close();
  ctx.expect_eq("ref_count after the close", 1, read_header(g.name()).ref_count);
  ctx.expect(object_exists(g.name()), "the name after a non-owner close", "still there", "gone");
}

const RegisterChecks registered({
    {.name = "header.create_writes_every_field",
     .summary =
         "a new region's 64 header bytes: magic, version 2, flags 0, seq 0, capacity, ref_count 1, "
         "owner_pid, created_at, FNV-1a name_hash, ring 0/0, little-endian at the spec's offsets",
     .run = create_writes_every_field},
    {.name = "header.padding_of_the_header_page_is_zero",
     .summary = "bytes 128 up to the page size of a new region are zero; bytes 64..127 are "
                "zero or carry the waiter-count block's tag",
     .run = padding_of_the_header_page_is_zero},
    {.name = "header.new_region_carries_the_waiter_count_block",
     .requirement = Requirement::kExtension,
     .summary = "bytes 64..127 of a new region: tag MAGIC_WCT ^ created_at, 1 counted handle, "
                "0 changes, 0 sleepers, reserved zero; an open counts 2, its close 1 again",
     .run = new_region_carries_the_waiter_count_block},
    {.name = "header.data_lives_at_offset_page_size",
     .summary = "zinc_ptr()[i] is object byte page_size + i, in both directions",
     .run = data_lives_at_offset_page_size},
    {.name = "header.ref_count_counts_open_handles",
     .summary = "ref_count (u32 at 24) is 1 at create, +1 per open, -1 per close",
     .run = ref_count_counts_open_handles},
    {.name = "header.notify_adds_one_to_notify_seq",
     .summary = "each notify adds exactly 1 to the u32 at offset 12; waits do not write it",
     .run = notify_adds_one_to_notify_seq},
    {.name = "header.open_accepts_a_header_written_elsewhere",
     .summary =
         "a region whose bytes the kit wrote per the spec opens, shows its data, counts refs",
     .run = open_accepts_a_header_written_elsewhere},
});

}  // namespace
}  // namespace zinc::conformance
