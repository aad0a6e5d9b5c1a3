// A channel's writer and reader as two threads of one process (issue 20):
// every frame arrives whole and in order. Built with -DZINC_SHARED_MAPPINGS=ON
// (and ThreadSanitizer) every handle of the process shares one mapping of the
// object, so the writer's stores and the reader's loads of one slot have one
// address and TSan reports any pair that §10's orderings leave unordered: a
// commit that publishes before the payload is written fails this test there
// with a data race, where with a mapping per handle TSan saw nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <thread>

#include "channel.hpp"
#include "liveness_support.hpp"
#include "shared_mappings.hpp"
#include "test_support.hpp"
#include "zinc.h"

namespace {

using zinc::test::ChannelGuard;
using zinc::test::HookGuard;
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

// The frames of the hook scenarios below are written and checked in 8-byte
// words: ThreadSanitizer (gcc 12's) reported a racing 8-byte store and load
// of the shared mapping, but not the same race made of byte-wide stores and
// loads (its shadow keeps four accesses per 8-byte cell).
void fill_words(const ZincChannelFrame& frame) {
  auto* words = reinterpret_cast<uint64_t*>(frame.data);
  for (uint64_t i = 0; i < kFrameBytes / 8; ++i) words[i] = frame.sequence * 1000003 + i;
}

bool words_are_whole(const ZincChannelFrame& frame) {
  const auto* words = reinterpret_cast<const uint64_t*>(frame.data);
  for (uint64_t i = 0; i < kFrameBytes / 8; ++i) {
    if (words[i] != frame.sequence * 1000003 + i) return false;
  }
  return true;
}

// The hand-over inside a hook: one thread says a step is done, the other
// waits for it. Relaxed on purpose: a release/acquire pair here would order
// the very accesses the test wants ThreadSanitizer to judge by the channel's
// own orderings alone. (Bounded, so a broken channel fails instead of hangs.)
class Step {
 public:
  void done() { flag_.store(true, std::memory_order_relaxed); }
  bool wait() const {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!flag_.load(std::memory_order_relaxed)) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::yield();
    }
    return true;
  }

 private:
  std::atomic<bool> flag_{false};
};

Step* published = nullptr;  // the writer's commit is in its hook
Step* read_it = nullptr;    // the reader read the frame and let the writer go on
Step* released = nullptr;   // the reader's release is in its hook
Step* rewritten = nullptr;  // the writer wrote the freed slot and let the reader go on

// A reader that finds a frame between the writer's publishing stores and
// its notify (nothing but those stores orders the payload before the
// reader's loads): it must read the frame whole, and in a shared-mapping
// TSan build a publication without release ordering is a reported race.
void read_between_publication_and_notify(uint32_t mode) {
  ObjectGuard name(unique_name("threads-published"));
  ChannelGuard writer;
  ASSERT_EQ(zinc_channel_create(name.c_str(), mode, 4, kFrameBytes, 1, 0, writer.out()), ZINC_OK);
  ChannelGuard reader;
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_OK);
  Step in_hook, done;
  published = &in_hook;
  read_it = &done;
  HookGuard hook(&zinc::core::testing::commit_published_hook, [] {
    published->done();
    read_it->wait();
  });
  std::thread producer([&] {
    ZincChannelFrame frame{};
    ASSERT_EQ(zinc_channel_acquire(writer, 10000, &frame), ZINC_OK);
    fill_words(frame);
    EXPECT_EQ(zinc_channel_commit(writer, kFrameBytes), ZINC_OK);
  });
  const bool in_gap = in_hook.wait();
  EXPECT_TRUE(in_gap) << "the writer never reached its commit's hook";
  ZincChannelFrame frame{};
  const int32_t rc = in_gap ? zinc_channel_read(reader, 0, &frame) : ZINC_ETIMEDOUT;
  EXPECT_EQ(rc, ZINC_OK) << "a published frame is readable before its notify: "
                         << zinc_last_error_message();
  if (rc == ZINC_OK) {
    EXPECT_TRUE(words_are_whole(frame));
    EXPECT_EQ(zinc_channel_release(reader), ZINC_OK);
  }
  done.done();
  producer.join();
}

TEST(ChannelThreads, LosslessFrameReadBetweenItsPublicationAndItsNotifyIsWhole) {
  read_between_publication_and_notify(ZINC_CHANNEL_LOSSLESS);
}

TEST(ChannelThreads, LatestFrameReadBetweenItsPublicationAndItsNotifyIsWhole) {
  read_between_publication_and_notify(ZINC_CHANNEL_LATEST);
}

// A writer that reuses a slot between a reader's release store and the
// reader's wake-up of the writer: the reader's loads of the frame must come
// before the writer's stores into the slot, ordered by the release store
// alone (in a shared-mapping TSan build, a release without release ordering
// is a reported race). One slot (lossless) or the pinned slot (latest).
void rewrite_between_release_and_wake(uint32_t mode) {
  ObjectGuard name(unique_name("threads-released"));
  // Latest needs max_readers + 2 slots; its writer then takes the freed
  // slot only after the others, so it commits frames until it has.
  const uint32_t slots = mode == ZINC_CHANNEL_LOSSLESS ? 1 : 3;
  ChannelGuard writer;
  ASSERT_EQ(zinc_channel_create(name.c_str(), mode, slots, kFrameBytes, 1, 0, writer.out()),
            ZINC_OK);
  ChannelGuard reader;
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_OK);
  Step in_hook, done;
  released = &in_hook;
  rewritten = &done;
  // The freed slot's offset in the region (each handle's own mapping in a
  // build without shared mappings). Relaxed, like the steps.
  std::atomic<ptrdiff_t> freed{-1};
  // Started before the reader's loads below: a thread's start orders what
  // its creator did before it, which would hide the race this looks for.
  std::thread producer([&] {
    if (!in_hook.wait()) return;
    // Write frames until one lands in the slot the reader gave back.
    for (int tries = 0; tries < 8; ++tries) {
      ZincChannelFrame next{};
      if (zinc_channel_acquire(writer, 0, &next) != ZINC_OK) {
        std::this_thread::yield();
        continue;
      }
      fill_words(next);
      const bool reused =
          next.data - zinc_channel_ptr(writer) == freed.load(std::memory_order_relaxed);
      EXPECT_EQ(zinc_channel_commit(writer, kFrameBytes), ZINC_OK);
      if (reused) {
        done.done();
        return;
      }
    }
  });
  ZincChannelFrame frame{};
  ASSERT_EQ(zinc_channel_acquire(writer, 10000, &frame), ZINC_OK);
  fill_words(frame);
  ASSERT_EQ(zinc_channel_commit(writer, kFrameBytes), ZINC_OK);
  ZincChannelFrame held{};
  ASSERT_EQ(zinc_channel_read(reader, 10000, &held), ZINC_OK);
  EXPECT_TRUE(words_are_whole(held));  // the loads the writer's stores must follow
  freed.store(held.data - zinc_channel_ptr(reader), std::memory_order_relaxed);
  {
    HookGuard hook(&zinc::core::testing::release_published_hook, [] {
      released->done();
      rewritten->wait();
    });
    EXPECT_EQ(zinc_channel_release(reader), ZINC_OK);
  }
  in_hook.done();  // (if the release failed before its hook)
  producer.join();
  EXPECT_TRUE(done.wait()) << "the writer never wrote into the slot the reader released";
}

TEST(ChannelThreads, LosslessSlotRewrittenBetweenAReleaseAndItsWakeFollowsTheReads) {
  rewrite_between_release_and_wake(ZINC_CHANNEL_LOSSLESS);
}

TEST(ChannelThreads, LatestSlotRewrittenBetweenAnUnpinAndItsReturnFollowsTheReads) {
  rewrite_between_release_and_wake(ZINC_CHANNEL_LATEST);
}

}  // namespace
