// Restarting a channel's writer (issue 18 point 8, docs/spec.md §10.8):
// a writer killed with SIGKILL is replaced by a new one that takes the role
// with zinc_channel_open_writer and continues at write_seq, and the live
// readers follow without losing or repeating a committed frame. A reader
// whose channel can get no more frames (no writer holds the role and the
// name no longer refers to its object: closed, or replaced by a new
// channel) is told so with ZINC_EPIPE once it has read everything.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "liveness_peers.hpp"
#include "liveness_support.hpp"
#include "test_support.hpp"
#include "zinc.h"

namespace {

using zinc::test::ChannelGuard;
using zinc::test::commit_filled;
using zinc::test::create_with_reader;
using zinc::test::ForkedProcess;
using zinc::test::LineLink;
using zinc::test::ObjectGuard;
using zinc::test::said;
using zinc::test::unique_name;

constexpr uint32_t kSlotSize = 64;

// A frame that names itself: its first 8 bytes are its sequence number.
int32_t commit_numbered(ZincChannel writer) {
  ZincChannelFrame frame{};
  const int32_t rc = zinc_channel_acquire(writer, 5000, &frame);
  if (rc != ZINC_OK) return rc;
  std::memset(frame.data, 0xab, frame.length);
  std::memcpy(frame.data, &frame.sequence, sizeof frame.sequence);
  return zinc_channel_commit(writer, frame.length);
}

uint64_t number_in(const ZincChannelFrame& frame) {
  uint64_t n = UINT64_MAX;
  if (frame.length >= sizeof n) std::memcpy(&n, frame.data, sizeof n);
  return n;
}

// A writer that takes the role when told "go", commits `frames` numbered
// frames, then (when `die_acquired`) acquires one more and scribbles in it,
// and waits to be killed or told "exit".
ForkedProcess::Body writer_body(const std::string& name, int frames, bool die_acquired) {
  return [name, frames, die_acquired](LineLink& link) {
    link.read_line(60'000);  // "go"
    ZincChannel w = nullptr;
    const int32_t rc = zinc_channel_open_writer(name.c_str(), &w);
    link.send(said("open", rc));
    if (rc != ZINC_OK) return 1;
    for (int i = 0; i < frames; ++i) {
      const int32_t committed = commit_numbered(w);
      if (committed != ZINC_OK) {
        link.send(said("commit", committed));
        return 1;
      }
    }
    if (die_acquired) {
      ZincChannelFrame frame{};
      link.send(said("acquired", zinc_channel_acquire(w, 5000, &frame)));
      std::memset(frame.data, 0xee, frame.length);  // never committed
    } else {
      link.send("committed");
    }
    link.read_line(60'000);  // "exit" (or SIGKILL)
    zinc_channel_close(w);
    return 0;
  };
}

TEST(ChannelWriterRestart, NewWriterContinuesAfterKilledWriterAndWaitingReaderMissesNothing) {
  ObjectGuard name(unique_name("writer-restart"));
  ChannelGuard reader;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 4, kSlotSize, 1,
                                ZINC_CHANNEL_CREATE_READER, reader.out()),
            ZINC_OK);
  // Both writers are forked before the reader thread starts.
  ForkedProcess first(writer_body(name.name(), 3, true));
  ForkedProcess second(writer_body(name.name(), 3, false));

  constexpr int kFrames = 6;
  std::vector<int32_t> codes;
  std::vector<uint64_t> sequences;
  std::vector<uint64_t> numbers;
  std::thread consumer([&] {
    for (int i = 0; i < kFrames; ++i) {
      ZincChannelFrame frame{};
      const int32_t rc = zinc_channel_read(reader, 20'000, &frame);
      codes.push_back(rc);
      if (rc != ZINC_OK) return;
      sequences.push_back(frame.sequence);
      numbers.push_back(number_in(frame));
      zinc_channel_release(reader);
    }
  });

  first.link().send("go");
  EXPECT_EQ(first.link().read_line(), said("open", ZINC_OK));
  EXPECT_EQ(first.link().read_line(), said("acquired", ZINC_OK));
  first.kill_hard();
  EXPECT_EQ(first.wait_exit(), 128 + SIGKILL);

  second.link().send("go");
  EXPECT_EQ(second.link().read_line(), said("open", ZINC_OK))
      << "a new writer could not take the killed writer's role";
  EXPECT_EQ(second.link().read_line(), "committed");
  consumer.join();
  second.link().send("exit");
  EXPECT_EQ(second.wait_exit(), 0);

  EXPECT_EQ(codes, std::vector<int32_t>(kFrames, ZINC_OK));
  EXPECT_EQ(sequences, (std::vector<uint64_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(numbers, sequences) << "a frame's payload is not the frame the reader was given";
}

TEST(ChannelWriterRestart, ReaderGetsEpipeOnceItReadEverythingOfAChannelItsWriterClosed) {
  ObjectGuard name(unique_name("writer-closed"));
  ChannelGuard writer, reader;
  ASSERT_EQ(create_with_reader(name, ZINC_CHANNEL_LOSSLESS, writer, reader, kSlotSize), ZINC_OK)
      << zinc_last_error_message();
  ASSERT_EQ(commit_numbered(writer), ZINC_OK);
  ASSERT_EQ(commit_numbered(writer), ZINC_OK);
  zinc_channel_close(writer.channel);  // the owner's close unlinks the name
  writer.channel = nullptr;

  for (uint64_t expected = 0; expected < 2; ++expected) {
    ZincChannelFrame frame{};
    ASSERT_EQ(zinc_channel_read(reader, 1000, &frame), ZINC_OK);
    EXPECT_EQ(frame.sequence, expected);
    EXPECT_EQ(zinc_channel_release(reader), ZINC_OK);
  }
  ZincChannelFrame frame{};
  EXPECT_EQ(zinc_channel_read(reader, 2000, &frame), ZINC_EPIPE)
      << "a reader of a closed channel waits for frames that cannot come";
  EXPECT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_EPIPE);
}

TEST(ChannelWriterRestart, OldReaderGetsEpipeWhenKilledWritersChannelIsReplaced) {
  ObjectGuard name(unique_name("writer-replaced"));
  ForkedProcess first([&name](LineLink& link) {
    ZincChannel w = nullptr;
    const int32_t rc =
        zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 4, kSlotSize, 1, 0, &w);
    link.send(said("create", rc));
    if (rc != ZINC_OK) return 1;
    link.read_line(60'000);  // "write"
    link.send(said("commit", commit_numbered(w)) + " " + said("commit", commit_numbered(w)));
    link.read_line(60'000);  // SIGKILL
    return 0;
  });
  ASSERT_EQ(first.link().read_line(), said("create", ZINC_OK));
  ChannelGuard old_reader;
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), old_reader.out()), ZINC_OK);
  first.link().send("write");
  ASSERT_EQ(first.link().read_line(), said("commit", ZINC_OK) + " " + said("commit", ZINC_OK));
  first.kill_hard();
  EXPECT_EQ(first.wait_exit(), 128 + SIGKILL);

  ZincChannelFrame frame{};
  for (uint64_t expected = 0; expected < 2; ++expected) {
    ASSERT_EQ(zinc_channel_read(old_reader, 1000, &frame), ZINC_OK);
    EXPECT_EQ(frame.sequence, expected);
    EXPECT_EQ(zinc_channel_release(old_reader), ZINC_OK);
  }
  // The writer is dead but the name still refers to the channel: a new
  // writer may take over, so the reader keeps waiting.
  EXPECT_EQ(zinc_channel_read(old_reader, 100, &frame), ZINC_ETIMEDOUT);

  ChannelGuard replacement;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 4, kSlotSize, 1,
                                ZINC_CREATE_REPLACE_STALE, replacement.out()),
            ZINC_OK);
  EXPECT_EQ(zinc_channel_read(old_reader, 2000, &frame), ZINC_EPIPE)
      << "the reader of the replaced channel is not told that its writer is gone";
}

}  // namespace
