// The C++ channel API (include/zinc/channel.hpp): typed spans over frames,
// frames released at scope end, timeouts as empty optionals, errors thrown
// with the library's message.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <numeric>
#include <zinc/channel.hpp>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using zinc::test::contains;
using zinc::test::ObjectGuard;
using zinc::test::unique_name;

TEST(ChannelCpp, typed_frames_round_trip_without_a_copy) {
  ObjectGuard name(unique_name("chpp-typed"));
  auto writer = zinc::ChannelWriter::create(name.name(), {.slot_count = 2, .slot_size = 1024});
  auto reader = zinc::ChannelReader::open(name.name());
  auto frame = writer.acquire(100ms);
  ASSERT_TRUE(frame.has_value());
  auto values = frame->as<double>();
  ASSERT_EQ(values.size(), 128u);
  std::iota(values.begin(), values.end(), 0.5);
  writer.commit(*frame, 10 * sizeof(double));
  auto got = reader.read(1000ms);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->sequence(), 0u);
  auto read_values = got->as<double>();
  ASSERT_EQ(read_values.size(), 10u);
  EXPECT_EQ(read_values[9], 9.5);
  EXPECT_THROW(got->as<double>(11), std::invalid_argument);
}

TEST(ChannelCpp, frame_type_option_makes_a_typed_channel) {
  ObjectGuard name(unique_name("chpp-frametype"));
  ZincChannelFrameType type{.dtype = "<f4", .ndim = 2, .reserved = 0, .shape = {4, 8}};
  auto writer = zinc::ChannelWriter::create(name.name(),
                                            {.slot_count = 2, .slot_size = 1, .frame_type = type});
  auto reader = zinc::ChannelReader::open(name.name());
  const ZincChannelInfo info = reader.info();
  EXPECT_EQ(info.slot_size, 4u * 8 * sizeof(float)) << "slot_size follows the frame type";
  EXPECT_STREQ(info.frame_type.dtype, "<f4");
  EXPECT_EQ(info.frame_type.shape[1], 8u);
  type.dtype[0] = 'x';
  EXPECT_THROW(zinc::ChannelWriter::create(name.name() + "x", {.frame_type = type}),
               std::system_error);
}

TEST(ChannelCpp, read_frame_is_released_at_scope_end) {
  ObjectGuard name(unique_name("chpp-release"));
  auto writer = zinc::ChannelWriter::create(name.name(), {.slot_count = 1, .slot_size = 64});
  auto reader = zinc::ChannelReader::open(name.name());
  writer.commit(*writer.acquire(0ms), 1);
  EXPECT_FALSE(writer.acquire(0ms).has_value()) << "the ring of one slot is full";
  {
    auto got = reader.read(0ms);
    ASSERT_TRUE(got.has_value());
    EXPECT_FALSE(writer.acquire(0ms).has_value()) << "a held frame holds the writer back";
  }
  EXPECT_TRUE(writer.acquire(0ms).has_value()) << "released when the ReadFrame went away";
  EXPECT_FALSE(reader.read(10ms).has_value()) << "timeout: empty, no throw";
}

TEST(ChannelCpp, errors_throw_with_the_library_message) {
  ObjectGuard name(unique_name("chpp-errors"));
  auto writer = zinc::ChannelWriter::create(
      name.name(), {.mode = zinc::ChannelMode::latest, .slot_count = 4, .max_readers = 2});
  try {
    zinc::ChannelWriter::open(name.name());
    FAIL() << "a second writer was accepted";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::device_or_resource_busy);
    EXPECT_TRUE(contains(e.what(), "already has a writer")) << e.what();
  }
  try {
    zinc::ChannelWriter::create(unique_name("chpp-bad"), {.slot_count = 0});
    FAIL() << "slot_count 0 was accepted";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::invalid_argument);
    EXPECT_TRUE(contains(e.what(), "slot_count 0")) << e.what();
  }
  std::error_code ec;
  auto missing = zinc::ChannelReader::open("t-no-such-channel", ec);
  EXPECT_EQ(ec, std::errc::no_such_file_or_directory);
  EXPECT_FALSE(missing.is_open());
  auto frame = writer.acquire(0ms);
  ASSERT_TRUE(frame.has_value());
  EXPECT_THROW(writer.commit(*frame, 4097), std::system_error);
}

}  // namespace
