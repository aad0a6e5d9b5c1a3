// channel.create_typed_*: the frame type (docs/spec.md §10.2.1) a typed
// create records in header bytes 72..127, read back from /dev/shm, and the
// types it must refuse. Required when the port exports
// zinc_channel_create_typed.
#include <cstring>
#include <vector>

#include "channel_format.hpp"
#include "channel_support.hpp"
#include "format.hpp"
#include "raw_object.hpp"

namespace zinc::conformance {
namespace {

ZincChannelFrameType frame_type(const char* dtype, std::vector<uint64_t> shape) {
  ZincChannelFrameType type{};
  std::memcpy(type.dtype, dtype, strnlen(dtype, sizeof type.dtype));
  type.ndim = static_cast<uint32_t>(shape.size());
  for (size_t d = 0; d < shape.size() && d < ZINC_CHANNEL_MAX_DIMS; ++d) type.shape[d] = shape[d];
  return type;
}

// The 56 bytes §10.2.1 lays out, encoded by the kit.
std::vector<uint8_t> encode_frame_type(const ZincChannelFrameType& type) {
  std::vector<uint8_t> bytes(channel_offset::kFrameTypeSize, 0);
  std::memcpy(bytes.data(), type.dtype, sizeof type.dtype);
  store_le(&bytes[8], 4, type.ndim);
  store_le(&bytes[12], 4, type.reserved);
  for (size_t d = 0; d < ZINC_CHANNEL_MAX_DIMS; ++d) store_le(&bytes[16 + 8 * d], 8, type.shape[d]);
  return bytes;
}

std::string describe_type(const ZincChannelFrameType& type) {
  std::string text =
      "\"" + std::string(type.dtype, strnlen(type.dtype, sizeof type.dtype)) + "\" (";
  for (uint32_t d = 0; d < ZINC_CHANNEL_MAX_DIMS && d < type.ndim; ++d) {
    text += (d == 0 ? "" : ", ") + std::to_string(type.shape[d]);
  }
  return text + ")";
}

void create_typed_writes_the_frame_type(CheckContext& ctx) {
  struct Case {
    uint32_t mode;
    ZincChannelFrameType type;
    uint64_t frame_bytes;
  };
  const std::vector<Case> cases = {
      {kLossless, frame_type("<f4", {4, 4}), 64},
      {kLatest, frame_type("|u1", {}), 1},
      {kLossless, frame_type(">c16", {3}), 48},
      {kLatest, frame_type("<i2", {2, 3, 1, 5, 7}), 420},
  };
  for (const Case& c : cases) {
    ObjectGuard g(ctx.unique_name());
    const std::string what = mode_name(c.mode) + " " + describe_type(c.type);
    ChannelHandle channel(ctx.zinc);
    const int32_t rc =
        ctx.zinc.channel_create_typed(g.c_str(), c.mode, 4, &c.type, 2, 0, channel.out());
    if (!ctx.expect_code("zinc_channel_create_typed, " + what, 0, rc)) {
      channel.leak();
      continue;
    }
    const std::vector<uint8_t> header = read_data_area(g.name(), kChannelHeaderSize);
    const ChannelFields f = decode_channel_header(header.data());
    ctx.expect_eq(what + ": slot_size (bytes 24..31), the frame's size", c.frame_bytes,
                  f.slot_size);
    ctx.expect_eq(what + ": mode", c.mode, f.mode);
    ctx.expect(f.magic == kChannelMagic, what + ": magic", hex(kChannelMagic), hex(f.magic));
    const std::vector<uint8_t> expected = encode_frame_type(c.type);
    ctx.expect(std::equal(expected.begin(), expected.end(), f.frame_type.begin()),
               what + ": frame_type (bytes 72..127)", hex_bytes(expected.data(), expected.size()),
               hex_bytes(f.frame_type.data(), f.frame_type.size()));
    // A frame of the type fits and travels like any other.
    ChannelHandle reader = open_reader(ctx, g.name());
    if (ctx.expect_code(what + ": write a whole frame", 0,
                        write_frame(ctx.zinc, channel.get(), 1000, c.frame_bytes, 9))) {
      expect_frame(ctx, what + ": read it", reader.get(), 0, c.frame_bytes, 9);
    }
  }
}

void create_typed_refuses_bad_types(CheckContext& ctx) {
  ZincChannelFrameType reserved_set = frame_type("<f8", {2});
  reserved_set.reserved = 1;
  ZincChannelFrameType shape_beyond_ndim = frame_type("<f8", {2});
  shape_beyond_ndim.shape[1] = 3;
  ZincChannelFrameType six_dims = frame_type("<f8", {1, 1, 1, 1, 1});
  six_dims.ndim = 6;
  const std::vector<std::pair<std::string, ZincChannelFrameType>> bad = {
      {"all zero (untyped is zinc_channel_create's)", ZincChannelFrameType{}},
      {"\"<u1\" (one-byte types take '|')", frame_type("<u1", {4})},
      {"\"u1\" (no byte order)", frame_type("u1", {4})},
      {"\"<f04\" (not canonical)", frame_type("<f04", {4})},
      {"\"<f3\" (no such float)", frame_type("<f3", {4})},
      {"\"<U4\" (not kind b, i, u, f or c)", frame_type("<U4", {4})},
      {"ndim 6", six_dims},
      {"reserved word 1", reserved_set},
      {"shape[1] set beyond ndim 1", shape_beyond_ndim},
      {"shape[0] 0", frame_type("<f8", {0})},
      {"a frame over 2^40 bytes", frame_type("<f8", {uint64_t{1} << 20, uint64_t{1} << 20})},
  };
  for (const auto& [why, type] : bad) {
    ObjectGuard g(ctx.unique_name());
    ZincChannel out = junk_handle();
    const int32_t rc = ctx.zinc.channel_create_typed(g.c_str(), kLossless, 4, &type, 1, 0, &out);
    ctx.expect_code("zinc_channel_create_typed with dtype " + why, ZINC_EINVAL, rc);
    if (rc == 0) {
      ctx.zinc.channel_close(out);
      continue;
    }
    ctx.expect_null("*out after the refused create (" + why + ")", out);
    ctx.expect(!object_exists(g.name()), "the name after the refused create (" + why + ")",
               "nothing created", object_path(g.name()) + " exists");
  }
  ObjectGuard g(ctx.unique_name());
  ZincChannel out = junk_handle();
  ctx.expect_code("zinc_channel_create_typed with a NULL type", ZINC_EINVAL,
                  ctx.zinc.channel_create_typed(g.c_str(), kLossless, 4, nullptr, 1, 0, &out));
  ctx.expect_null("*out after it", out);
}

std::vector<std::string> typed_calls() {
  std::vector<std::string> calls = channel_functions();
  calls.push_back("zinc_channel_create_typed");
  return calls;
}

const RegisterChecks registered({
    {.name = "channel.create_typed_writes_the_frame_type",
     .summary = "typed creates (\"<f4\" 4x4, \"|u1\" scalar, \">c16\" 3, \"<i2\" 5-d) write "
                "slot_size = the frame's bytes and the 56 frame-type bytes at 72",
     .needs = typed_calls(),
     .run = create_typed_writes_the_frame_type},
    {.name = "channel.create_typed_refuses_bad_types",
     .summary = "non-canonical dtypes, ndim 6, reserved or stray shape words, a 0 extent, "
                "oversized or NULL types: -22, NULL, nothing created",
     .needs = typed_calls(),
     .run = create_typed_refuses_bad_types},
});

}  // namespace
}  // namespace zinc::conformance
