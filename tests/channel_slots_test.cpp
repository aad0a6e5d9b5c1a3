// Where frames live (docs/spec.md §10.5, §10.6): a lossless writer puts each
// frame in the warmest free slot and names it in the slot map, readers follow
// the map, and a writer that takes the role over rebuilds its free slots
// from the map alone; a latest writer prefers the slot it wrote last.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "test_support.hpp"
#include "zinc.h"

namespace {

using zinc::test::ChannelGuard;
using zinc::test::contains;
using zinc::test::ObjectGuard;
using zinc::test::unique_name;

// The slot a frame's payload pointer is in.
uint32_t slot_of(ZincChannel channel, const uint8_t* data) {
  ZincChannelInfo info{};
  EXPECT_EQ(zinc_channel_info(channel, &info), ZINC_OK);
  const uint64_t offset = static_cast<uint64_t>(data - zinc_channel_ptr(channel)) -
                          info.slots_offset - ZINC_CHANNEL_SLOT_HEADER_SIZE;
  EXPECT_EQ(offset % info.slot_stride, 0u) << "a payload starts a slot's payload";
  return static_cast<uint32_t>(offset / info.slot_stride);
}

// Acquires, fills with `byte`, commits; returns the slot it used.
uint32_t send(ZincChannel writer, uint8_t byte) {
  ZincChannelFrame frame{};
  EXPECT_EQ(zinc_channel_acquire(writer, 0, &frame), ZINC_OK) << zinc_last_error_message();
  if (frame.data == nullptr) return UINT32_MAX;
  std::memset(frame.data, byte, frame.length);
  EXPECT_EQ(zinc_channel_commit(writer, frame.length), ZINC_OK);
  return slot_of(writer, frame.data);
}

// Reads one frame, checks it is `sequence` filled with `byte`, releases it.
void receive(ZincChannel reader, uint64_t sequence, uint8_t byte) {
  ZincChannelFrame frame{};
  ASSERT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_OK) << zinc_last_error_message();
  EXPECT_EQ(frame.sequence, sequence);
  for (uint64_t i = 0; i < frame.length; ++i) {
    if (frame.data[i] != byte) {
      ADD_FAILURE() << "frame " << sequence << " byte " << i << " is " << int{frame.data[i]};
      break;
    }
  }
  EXPECT_EQ(zinc_channel_release(reader), ZINC_OK);
}

// The slot map entry of frame `frame`, read from the shared layout.
std::atomic<uint32_t>& map_entry(ZincChannel channel, uint64_t frame) {
  ZincChannelInfo info{};
  EXPECT_EQ(zinc_channel_info(channel, &info), ZINC_OK);
  const uint64_t map =
      ZINC_CHANNEL_HEADER_SIZE + uint64_t{info.max_readers} * ZINC_CHANNEL_ENTRY_SIZE;
  return *reinterpret_cast<std::atomic<uint32_t>*>(zinc_channel_ptr(channel) + map +
                                                   4 * (frame % info.slot_count));
}

TEST(ChannelSlots, lossless_writer_reuses_the_slot_of_the_frame_released_last) {
  ObjectGuard name(unique_name("slots-warm"));
  ChannelGuard writer, reader;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 4, 256, 1, 0, writer.out()),
            ZINC_OK);
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_OK);
  // A reader that keeps up: every frame in the same slot, slot 0 first.
  for (uint8_t f = 0; f < 6; ++f) {
    EXPECT_EQ(send(writer, f), 0u) << "frame " << int{f};
    EXPECT_EQ(map_entry(writer, f).load(), 0u) << "map entry of frame " << int{f};
    receive(reader, f, f);
  }
  // Three frames in flight take three slots; released, the newest one's
  // slot is the warmest.
  const uint32_t a = send(writer, 6), b = send(writer, 7), c = send(writer, 8);
  EXPECT_EQ(a, 0u);
  EXPECT_NE(b, a);
  EXPECT_NE(c, a);
  EXPECT_NE(c, b);
  for (uint8_t f = 6; f < 9; ++f) receive(reader, f, f);
  EXPECT_EQ(send(writer, 9), c) << "frame 8's slot, released last";
  EXPECT_EQ(send(writer, 10), b) << "then frame 7's";
  receive(reader, 9, 9);
  receive(reader, 10, 10);
}

TEST(ChannelSlots, lossless_writer_never_takes_the_slot_of_a_held_frame) {
  ObjectGuard name(unique_name("slots-held"));
  ChannelGuard writer, reader;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 3, 64, 1, 0, writer.out()),
            ZINC_OK);
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_OK);
  const uint32_t first = send(writer, 1);
  ZincChannelFrame held{};
  ASSERT_EQ(zinc_channel_read(reader, 0, &held), ZINC_OK);
  const uint32_t second = send(writer, 2), third = send(writer, 3);
  EXPECT_NE(second, first);
  EXPECT_NE(third, first);
  EXPECT_NE(third, second);
  ZincChannelFrame frame{};
  EXPECT_EQ(zinc_channel_acquire(writer, 0, &frame), ZINC_EAGAIN) << "three frames in flight";
  for (uint64_t i = 0; i < held.length; ++i) ASSERT_EQ(held.data[i], 1) << "byte " << i;
  ASSERT_EQ(zinc_channel_release(reader), ZINC_OK);
  EXPECT_EQ(send(writer, 4), first) << "frame 0's slot, the only free one";
  receive(reader, 1, 2);
  receive(reader, 2, 3);
  receive(reader, 3, 4);
}

TEST(ChannelSlots, lossless_reader_follows_the_map_and_reports_a_stale_entry) {
  ObjectGuard name(unique_name("slots-map"));
  ChannelGuard writer, reader;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 4, 64, 1, 0, writer.out()),
            ZINC_OK);
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_OK);
  const uint32_t slot0 = send(writer, 10);
  const uint32_t slot1 = send(writer, 11);  // frame 0 is unread: another slot
  ASSERT_NE(slot0, slot1);
  // Damage: frame 1's entry names frame 0's slot. The reader must say so,
  // not show frame 0's bytes as frame 1.
  receive(reader, 0, 10);
  map_entry(writer, 1).store(slot0);
  ZincChannelFrame frame{};
  EXPECT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_EBADMSG);
  EXPECT_TRUE(contains(zinc_last_error_message(), "where committed frame 1 should be"))
      << zinc_last_error_message();
  map_entry(writer, 1).store(4);
  EXPECT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_EBADMSG);
  EXPECT_TRUE(contains(zinc_last_error_message(), "the slot map names slot 4 of only 4"))
      << zinc_last_error_message();
  map_entry(writer, 1).store(slot1);
  receive(reader, 1, 11);
}

// A writer that takes the role over knows nothing but the map: the frames
// still unread keep their slots, and it writes into the others.
TEST(ChannelSlots, writer_taking_over_keeps_clear_of_unread_frames) {
  ObjectGuard name(unique_name("slots-resume"));
  ChannelGuard reader;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 4, 128, 1,
                                ZINC_CHANNEL_CREATE_READER, reader.out()),
            ZINC_OK);
  std::vector<uint32_t> used;
  {
    ChannelGuard first;
    ASSERT_EQ(zinc_channel_open_writer(name.c_str(), first.out()), ZINC_OK);
    for (uint8_t f = 0; f < 3; ++f) used.push_back(send(first, f));
  }
  ChannelGuard second;
  ASSERT_EQ(zinc_channel_open_writer(name.c_str(), second.out()), ZINC_OK);
  const uint32_t fourth = send(second, 3);
  for (const uint32_t slot : used) EXPECT_NE(fourth, slot) << "a slot of an unread frame";
  ZincChannelFrame frame{};
  EXPECT_EQ(zinc_channel_acquire(second, 0, &frame), ZINC_EAGAIN) << "four frames in flight";
  for (uint8_t f = 0; f < 4; ++f) receive(reader, f, f);
  EXPECT_EQ(send(second, 4), fourth) << "frame 3's slot, released last";
  receive(reader, 4, 4);
}

// A writer that acquired (and so mapped) a frame and left before its commit
// leaves frame W's entry, which is also frame W - N's, naming a slot another
// frame may name too. The next writer counts the slot for the newer frame.
TEST(ChannelSlots, writer_taking_over_an_unfinished_mapped_frame_writes_it_anew) {
  ObjectGuard name(unique_name("slots-unfinished"));
  ChannelGuard reader;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 2, 64, 1,
                                ZINC_CHANNEL_CREATE_READER, reader.out()),
            ZINC_OK);
  {
    ChannelGuard first;
    ASSERT_EQ(zinc_channel_open_writer(name.c_str(), first.out()), ZINC_OK);
    send(first, 0);
    receive(reader, 0, 0);
    send(first, 1);
    receive(reader, 1, 1);
    ZincChannelFrame frame{};
    ASSERT_EQ(zinc_channel_acquire(first, 0, &frame), ZINC_OK);  // frame 2, never committed
    std::memset(frame.data, 0xEE, frame.length);
  }
  ChannelGuard second;
  ASSERT_EQ(zinc_channel_open_writer(name.c_str(), second.out()), ZINC_OK);
  ZincChannelFrame frame{};
  EXPECT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_EAGAIN) << "frame 2 was never committed";
  for (uint8_t f = 2; f < 8; ++f) {
    send(second, f);
    receive(reader, f, f);
  }
}

TEST(ChannelSlots, latest_writer_alternates_between_two_warm_slots) {
  ObjectGuard name(unique_name("slots-latest"));
  ChannelGuard writer, reader;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LATEST, 6, 64, 2, 0, writer.out()),
            ZINC_OK);
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_OK);
  for (uint8_t f = 0; f < 8; ++f) {
    EXPECT_EQ(send(writer, f), f % 2u) << "frame " << int{f};
  }
  // A pinned slot is skipped; once unpinned it is the warmest again.
  ZincChannelFrame held{};
  ASSERT_EQ(zinc_channel_read(reader, 0, &held), ZINC_OK);  // frame 7, slot 1
  EXPECT_EQ(slot_of(reader, held.data), 1u);
  EXPECT_EQ(send(writer, 8), 0u);
  EXPECT_EQ(send(writer, 9), 2u) << "slot 1 pinned, slot 0 the newest";
  EXPECT_EQ(send(writer, 10), 0u);
  ASSERT_EQ(zinc_channel_release(reader), ZINC_OK);
  EXPECT_EQ(send(writer, 11), 2u) << "frame 9's slot, written before frame 10's";
  EXPECT_EQ(send(writer, 12), 0u);
}

TEST(ChannelSlots, resumed_latest_writer_prefers_the_slots_written_last) {
  ObjectGuard name(unique_name("slots-latest-resume"));
  ChannelGuard reader;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LATEST, 4, 64, 1,
                                ZINC_CHANNEL_CREATE_READER, reader.out()),
            ZINC_OK);
  {
    ChannelGuard first;
    ASSERT_EQ(zinc_channel_open_writer(name.c_str(), first.out()), ZINC_OK);
    for (uint8_t f = 0; f < 5; ++f) send(first, f);  // slots 0 1 0 1 0
  }
  ChannelGuard second;
  ASSERT_EQ(zinc_channel_open_writer(name.c_str(), second.out()), ZINC_OK);
  EXPECT_EQ(send(second, 5), 1u) << "slot 1 (frame 3), the newest but one";
  EXPECT_EQ(send(second, 6), 0u);
  ZincChannelFrame frame{};
  ASSERT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_OK);
  EXPECT_EQ(frame.sequence, 6u);
}

}  // namespace
