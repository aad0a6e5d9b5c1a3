// A channel's writer and reader as two threads of one process (issue 20):
// every frame arrives whole and in order. Built with -DZINC_SHARED_MAPPINGS=ON
// (and ThreadSanitizer) every handle of the process shares one mapping of the
// object, so the writer's stores and the reader's loads of one slot have one
// address and TSan reports any pair that §10's orderings leave unordered: a
// commit that publishes before the payload is written fails this test there
// with a data race, where with a mapping per handle TSan saw nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <thread>

#include "liveness_support.hpp"
#include "shared_mappings.hpp"
#include "test_support.hpp"
#include "zinc.h"

namespace {

using zinc::test::ChannelGuard;
using zinc::test::ObjectGuard;
using zinc::test::unique_name;

constexpr uint64_t kFrameBytes = 256;
constexpr uint64_t kFrames = 2000;

// The payload of frame `sequence`: every byte derived from it, so a frame
// mixed from two writes (or read before it was written) shows.
uint8_t payload_byte(uint64_t sequence, uint64_t offset) {
  return static_cast<uint8_t>(sequence * 131 + offset * 7 + 1);
}

bool frame_is_whole(const ZincChannelFrame& frame) {
  for (uint64_t i = 0; i < frame.length; ++i) {
    if (frame.data[i] != payload_byte(frame.sequence, i)) return false;
  }
  return true;
}

void write_frames(ZincChannel writer) {
  for (uint64_t f = 0; f < kFrames; ++f) {
    ZincChannelFrame frame{};
    ASSERT_EQ(zinc_channel_acquire(writer, 10000, &frame), ZINC_OK);
    for (uint64_t i = 0; i < kFrameBytes; ++i) frame.data[i] = payload_byte(frame.sequence, i);
    ASSERT_EQ(zinc_channel_commit(writer, kFrameBytes), ZINC_OK);
  }
}

TEST(ChannelThreads, HandlesOfOneObjectShareAMappingOnlyWhenTheBuildAsks) {
  ObjectGuard name(unique_name("threads-mapping"));
  ChannelGuard writer;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 4, 64, 1, 0, writer.out()),
            ZINC_OK);
  ChannelGuard reader;
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_OK);
  EXPECT_EQ(zinc_channel_ptr(writer) == zinc_channel_ptr(reader), zinc::core::mappings::shared());
  // The shared mapping outlives the handle that made it.
  const uint8_t* data = zinc_channel_ptr(reader);
  zinc_channel_close(writer.channel);
  writer.channel = nullptr;
  EXPECT_EQ(std::memcmp(data, "NHC_CNIZ", 8), 0) << "the channel magic, read after the close";
}

TEST(ChannelThreads, LosslessFramesFromAWriterThreadArriveWholeInAReaderThread) {
  ObjectGuard name(unique_name("threads-lossless"));
  ChannelGuard writer;
  ASSERT_EQ(
      zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 4, kFrameBytes, 1, 0, writer.out()),
      ZINC_OK);
  ChannelGuard reader;
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_OK);
  std::thread producer(write_frames, writer.channel);
  uint64_t broken = 0;
  for (uint64_t f = 0; f < kFrames; ++f) {
    ZincChannelFrame frame{};
    const int32_t rc = zinc_channel_read(reader, 10000, &frame);
    EXPECT_EQ(rc, ZINC_OK) << "frame " << f << ": " << zinc_last_error_message();
    if (rc != ZINC_OK) break;
    EXPECT_EQ(frame.sequence, f);
    if (!frame_is_whole(frame)) ++broken;
    EXPECT_EQ(zinc_channel_release(reader), ZINC_OK);
  }
  // A reader that stopped early leaves: the writer then has room to finish.
  zinc_channel_close(reader.channel);
  reader.channel = nullptr;
  producer.join();
  EXPECT_EQ(broken, 0u) << "frames read with bytes their writer did not write";
}

TEST(ChannelThreads, LatestFramesFromAWriterThreadAreNeverTornInAReaderThread) {
  ObjectGuard name(unique_name("threads-latest"));
  ChannelGuard writer;
  ASSERT_EQ(
      zinc_channel_create(name.c_str(), ZINC_CHANNEL_LATEST, 4, kFrameBytes, 1, 0, writer.out()),
      ZINC_OK);
  ChannelGuard reader;
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_OK);
  std::thread producer(write_frames, writer.channel);
  uint64_t broken = 0, read = 0, last = 0;
  // The writer never waits; the reader sees some frames, each the newest
  // when it was read, and checks every byte while it holds the frame.
  while (last + 1 < kFrames) {
    ZincChannelFrame frame{};
    const int32_t rc = zinc_channel_read(reader, 10000, &frame);
    EXPECT_EQ(rc, ZINC_OK) << "after frame " << last << ": " << zinc_last_error_message();
    if (rc != ZINC_OK) break;
    // Checked when read, then held while the writer goes round the ring once
    // more: it must leave this slot alone (§10.6), so the bytes are still the
    // frame's after. (Under TSan a writer that does not is a write racing the
    // first check's reads.)
    bool whole = frame_is_whole(frame);
    const uint64_t until = std::min<uint64_t>(frame.sequence + 5, kFrames);
    ZincChannelInfo info{};
    while (zinc_channel_info(reader, &info) == ZINC_OK && info.write_seq < until) {
      std::this_thread::yield();
    }
    whole = frame_is_whole(frame) && whole;
    if (!whole) ++broken;
    last = frame.sequence;
    ++read;
    EXPECT_EQ(zinc_channel_release(reader), ZINC_OK);
  }
  producer.join();
  EXPECT_GT(read, 0u);
  EXPECT_EQ(broken, 0u) << "of " << read << " frames held, some changed under the reader";
}

}  // namespace
