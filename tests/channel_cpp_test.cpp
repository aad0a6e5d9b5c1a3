// The C++ channel API (include/zinc/channel.hpp): typed spans over frames,
// frames released at scope end, timeouts as empty optionals, errors thrown
// with the library's message.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <future>
#include <numeric>
#include <thread>
#include <vector>
#include <zinc/channel.hpp>
#include <zinc/zinc.hpp>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using zinc::test::contains;
using zinc::test::object_exists;
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

TEST(ChannelCpp, open_with_a_timeout_waits_for_the_channel_to_appear) {
  ObjectGuard name(unique_name("chpp-join-wait"));
  std::promise<void> joining;
  auto joined = std::async(std::launch::async, [&] {
    joining.set_value();
    return zinc::ChannelReader::open(name.name(), 10s);
  });
  joining.get_future().wait();  // the reader is joining (or about to): create now
  auto writer = zinc::ChannelWriter::create(name.name(), {.slot_count = 2, .slot_size = 64});
  zinc::ChannelReader reader = joined.get();
  ASSERT_TRUE(reader.is_open());
  auto frame = writer.acquire(0ms);
  ASSERT_TRUE(frame.has_value());
  writer.commit(*frame, 1);
  auto got = reader.read(1000ms);
  ASSERT_TRUE(got.has_value()) << "the joined reader is a reader of that channel";
  EXPECT_EQ(got->sequence(), 0u);
}

TEST(ChannelCpp, join_timeouts_zero_tries_once_and_an_expired_one_names_the_channel) {
  const std::string missing = unique_name("chpp-join-missing");
  std::error_code ec;
  auto once = zinc::ChannelReader::open(missing, 0ms, ec);
  EXPECT_EQ(ec, std::errc::no_such_file_or_directory) << "0: one try, the open's own error";
  EXPECT_FALSE(once.is_open());
  auto expired = zinc::ChannelWriter::open(missing, 20ms, ec);
  EXPECT_EQ(ec, std::errc::timed_out);
  EXPECT_FALSE(expired.is_open());
  try {
    zinc::ChannelReader::open(missing, 20ms);
    FAIL() << "a missing channel was joined";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::timed_out);
    EXPECT_TRUE(contains(e.what(), missing)) << e.what();
    EXPECT_TRUE(contains(e.what(), "did not appear within 20 ms")) << e.what();
  }
}

TEST(ChannelCpp, join_of_a_region_that_is_not_a_channel_fails_at_once_with_enomsg) {
  ObjectGuard name(unique_name("chpp-join-notchannel"));
  auto region = zinc::Region::create(name.name(), 4096);
  std::error_code ec;
  // Only "not there yet" is waited on: the answer comes at once, not after 2 s.
  auto reader = zinc::ChannelReader::open(name.name(), 2s, ec);
  EXPECT_EQ(ec.value(), -ZINC_ENOMSG) << ec.message();
  EXPECT_FALSE(reader.is_open());
  auto writer = zinc::ChannelWriter::open_or_create(name.name(), {.slot_size = 64}, ec);
  EXPECT_EQ(ec.value(), -ZINC_ENOMSG) << ec.message();
  EXPECT_FALSE(writer.is_open());
}

TEST(ChannelCpp, open_or_create_creates_then_joins_and_checks_the_frames) {
  ObjectGuard name(unique_name("chpp-open-or-create"));
  const zinc::ChannelOptions options{.slot_count = 2, .slot_size = 256};
  std::error_code ec;
  {
    auto created = zinc::ChannelWriter::open_or_create(name.name(), options);
    ASSERT_TRUE(created.is_open());
    auto second = zinc::ChannelWriter::open_or_create(name.name(), options, ec);
    EXPECT_EQ(ec, std::errc::device_or_resource_busy) << "one writer at a time";
    EXPECT_FALSE(second.is_open());
  }
  EXPECT_FALSE(object_exists(name.name())) << "the writer that created it owned the name";
  // A reader creates it; open_or_create then joins as the (non-owning) writer.
  auto reader = zinc::ChannelReader::create(name.name(), options);
  {
    auto joined = zinc::ChannelWriter::open_or_create(name.name(), options);
    ASSERT_TRUE(joined.is_open());
    auto frame = joined.acquire(0ms);
    ASSERT_TRUE(frame.has_value());
    joined.commit(*frame, 3);
    auto got = reader.read(1000ms);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->bytes().size(), 3u);
  }
  EXPECT_TRUE(object_exists(name.name())) << "a writer that joined leaves the name";
  auto latest = zinc::ChannelWriter::open_or_create(
      name.name(), {.mode = zinc::ChannelMode::latest, .slot_count = 4, .slot_size = 256}, ec);
  EXPECT_EQ(ec, std::errc::invalid_argument) << "another mode than the channel's";
  EXPECT_FALSE(latest.is_open());
}

TEST(ChannelCpp, concurrent_open_or_create_yields_one_writer) {
  ObjectGuard name(unique_name("chpp-open-or-create-race"));
  constexpr int kThreads = 4;
  std::vector<std::future<std::pair<zinc::ChannelWriter, std::error_code>>> results;
  std::promise<void> start;
  std::shared_future<void> go = start.get_future().share();
  for (int i = 0; i < kThreads; ++i) {
    results.push_back(std::async(std::launch::async, [&name, go] {
      go.wait();
      std::error_code ec;
      auto writer = zinc::ChannelWriter::open_or_create(name.name(), {.slot_size = 64}, ec);
      return std::make_pair(std::move(writer), ec);
    }));
  }
  start.set_value();
  int writers = 0;
  std::vector<zinc::ChannelWriter> keep;  // held until every thread has answered
  for (auto& result : results) {
    auto [writer, ec] = result.get();
    if (writer.is_open()) {
      ++writers;
      keep.push_back(std::move(writer));
    } else {
      EXPECT_EQ(ec, std::errc::device_or_resource_busy) << ec.message();
    }
  }
  EXPECT_EQ(writers, 1);
}

}  // namespace
