// Shared channel state that cannot happen in a working channel is reported
// (ZINC_EBADMSG, ZINC_ENOMSG), never waited on for good (issue 18 point 8,
// docs/spec.md §10.6 and §10.8).
#include <gtest/gtest.h>

#include <cstdint>

#include "liveness_support.hpp"
#include "test_support.hpp"
#include "zinc.h"

namespace {

using zinc::test::ChannelGuard;
using zinc::test::commit_filled;
using zinc::test::create_with_reader;
using zinc::test::entry_cursor;
using zinc::test::ObjectGuard;
using zinc::test::RegionGuard;
using zinc::test::slot_seq;
using zinc::test::unique_name;

constexpr uint32_t kSlotSize = 64;

// Latest mode: the newest slot's seq names frame 1000 while only one frame
// was committed. Lossless reports such a slot as EBADMSG; latest must too,
// instead of handing out frame 1000 and then saying EAGAIN for ever.
TEST(ChannelImpossibleState, LatestReaderReportsSlotSeqBeyondWriteSeq) {
  ObjectGuard name(unique_name("latest-forged-seq"));
  ChannelGuard writer, reader;
  ASSERT_EQ(create_with_reader(name, ZINC_CHANNEL_LATEST, writer, reader, kSlotSize), ZINC_OK)
      << zinc_last_error_message();
  ASSERT_EQ(commit_filled(writer, 0x10), ZINC_OK);
  ZincChannelInfo info{};
  ASSERT_EQ(zinc_channel_info(writer, &info), ZINC_OK);
  ASSERT_LT(info.latest_slot, 4u);
  slot_seq(writer, info.latest_slot).store(2 * 1000 + 2);

  ZincChannelFrame frame{};
  EXPECT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_EBADMSG)
      << "got frame " << frame.sequence << " of a channel with 1 frame committed";
}

// Latest mode: a reader cursor past write_seq + 1 (it cannot have read a
// frame that was never committed) is damage, not "nothing new".
TEST(ChannelImpossibleState, LatestReaderReportsCursorBeyondWriteSeq) {
  ObjectGuard name(unique_name("latest-forged-cursor"));
  ChannelGuard writer, reader;
  ASSERT_EQ(create_with_reader(name, ZINC_CHANNEL_LATEST, writer, reader, kSlotSize), ZINC_OK)
      << zinc_last_error_message();
  ASSERT_EQ(commit_filled(writer, 0x10), ZINC_OK);
  entry_cursor(reader, 0).store(1000);

  ZincChannelFrame frame{};
  EXPECT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_EBADMSG);
}

// A valid region that holds no channel (its data area is all zero, channel
// magic 0) is not a channel still being laid out: channels are laid out
// before their name is published.
TEST(ChannelImpossibleState, OpeningAChannelOnAPlainRegionIsEnomsg) {
  ObjectGuard name(unique_name("plain-region-not-channel"));
  RegionGuard region;
  ASSERT_EQ(zinc_create(name.c_str(), 4 * zinc_page_size(), region.out()), ZINC_OK);
  ChannelGuard reader;
  EXPECT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_ENOMSG);
  EXPECT_EQ(reader.channel, nullptr);
  ChannelGuard writer;
  EXPECT_EQ(zinc_channel_open_writer(name.c_str(), writer.out()), ZINC_ENOMSG);
  EXPECT_EQ(writer.channel, nullptr);
}

}  // namespace
