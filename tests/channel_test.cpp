// Channels (docs/spec.md §10) through the C ABI: one scenario per test.
// Processes that must die at a known point are tests/channel_peer.cpp,
// killed with SIGKILL after they report that point.
#include "channel.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "liveness_support.hpp"
#include "test_support.hpp"
#include "zinc.h"
#include "program_paths.hpp"

namespace {

using zinc::test::ChannelGuard;
using zinc::test::contains;
using zinc::test::HookGuard;
using zinc::test::ObjectGuard;
using zinc::test::unique_name;

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// tests/channel_peer.cpp in a child process; killed with SIGKILL and reaped
// when it goes out of scope.
class ChannelPeer {
 public:
  explicit ChannelPeer(std::vector<std::string> args) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      std::vector<char*> argv{const_cast<char*>(zinc::test::paths::kChannelPeer)};
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(zinc::test::paths::kChannelPeer, argv.data());
      _exit(127);
    }
    close(out[1]);
    from_peer_ = out[0];
  }
  ChannelPeer(const ChannelPeer&) = delete;
  ChannelPeer& operator=(const ChannelPeer&) = delete;
  ~ChannelPeer() {
    kill_hard();
    close(from_peer_);
  }
  // The peer's first line (it prints one when it reached its point).
  std::string read_line() {
    std::string line;
    for (;;) {
      pollfd pfd{from_peer_, POLLIN, 0};
      if (poll(&pfd, 1, 20000) <= 0) return "<peer timeout>";
      char c;
      if (read(from_peer_, &c, 1) != 1) return "<peer eof> " + line;
      if (c == '\n') return line;
      line += c;
    }
  }
  void kill_hard() {
    if (reaped_) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    reaped_ = true;
  }

 private:
  pid_t pid_ = -1;
  int from_peer_ = -1;
  bool reaped_ = false;
};

// Writes `byte` into the whole slot and commits it; returns the sequence.
uint64_t send_frame(ZincChannel writer, uint8_t byte, uint64_t length = 0) {
  ZincChannelFrame frame{};
  EXPECT_EQ(zinc_channel_acquire(writer, 1000, &frame), ZINC_OK) << zinc_last_error_message();
  std::memset(frame.data, byte, frame.length);
  EXPECT_EQ(zinc_channel_commit(writer, length == 0 ? frame.length : length), ZINC_OK);
  return frame.sequence;
}

bool all_bytes_are(const ZincChannelFrame& frame, uint8_t byte) {
  for (uint64_t i = 0; i < frame.length; ++i) {
    if (frame.data[i] != byte) return false;
  }
  return true;
}

uint32_t active_readers(ZincChannel channel) {
  ZincChannelInfo info{};
  EXPECT_EQ(zinc_channel_info(channel, &info), ZINC_OK);
  return info.readers;
}

TEST(Channel, create_rejects_bad_geometry_with_a_message) {
  ObjectGuard name(unique_name("ch-geometry"));
  struct Case {
    uint32_t mode, slots;
    uint64_t size;
    uint32_t readers, flags;
    const char* says;
  };
  const Case cases[] = {
      {0, 4, 64, 1, 0, "mode 0"},
      {ZINC_CHANNEL_LOSSLESS, 0, 64, 1, 0, "slot_count 0"},
      {ZINC_CHANNEL_LOSSLESS, 65537, 64, 1, 0, "slot_count 65537"},
      {ZINC_CHANNEL_LOSSLESS, 4, 0, 1, 0, "slot_size 0"},
      {ZINC_CHANNEL_LOSSLESS, 4, (uint64_t{1} << 40) + 1, 1, 0, "slot_size"},
      {ZINC_CHANNEL_LOSSLESS, 4, 64, 0, 0, "max_readers 0"},
      {ZINC_CHANNEL_LOSSLESS, 4, 64, 65, 0, "max_readers 65"},
      {ZINC_CHANNEL_LATEST, 3, 64, 2, 0, "slot_count >= max_readers + 2 (4)"},
      {ZINC_CHANNEL_LOSSLESS, 4, 64, 1, 0x1000, "unknown channel create flags"},
  };
  for (const Case& c : cases) {
    ZincChannel ch = reinterpret_cast<ZincChannel>(0x1);
    EXPECT_EQ(zinc_channel_create(name.c_str(), c.mode, c.slots, c.size, c.readers, c.flags, &ch),
              ZINC_EINVAL)
        << c.says;
    EXPECT_EQ(ch, nullptr);
    EXPECT_TRUE(contains(zinc_last_error_message(), c.says)) << zinc_last_error_message();
    EXPECT_FALSE(zinc::test::object_exists(name.name())) << c.says;
  }
}

ZincChannelFrameType frame_type(const char* dtype, std::initializer_list<uint64_t> shape) {
  ZincChannelFrameType type{};
  std::strncpy(type.dtype, dtype, sizeof type.dtype);
  type.ndim = static_cast<uint32_t>(shape.size());
  std::copy(shape.begin(), shape.end(), type.shape);
  return type;
}

TEST(Channel, typed_channel_sizes_its_slots_and_shows_every_reader_the_type) {
  ObjectGuard name(unique_name("ch-typed"));
  const ZincChannelFrameType camera = frame_type("|u1", {1080, 1920, 3});
  ChannelGuard writer, reader;
  ASSERT_EQ(
      zinc_channel_create_typed(name.c_str(), ZINC_CHANNEL_LATEST, 4, &camera, 2, 0, writer.out()),
      ZINC_OK)
      << zinc_last_error_message();
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_OK);
  ZincChannelInfo info{};
  ASSERT_EQ(zinc_channel_info(reader, &info), ZINC_OK);
  EXPECT_EQ(info.slot_size, 1080u * 1920 * 3);
  EXPECT_EQ(std::memcmp(&info.frame_type, &camera, sizeof camera), 0);
  EXPECT_STREQ(info.frame_type.dtype, "|u1");
  EXPECT_EQ(info.frame_type.ndim, 3u);
  EXPECT_EQ(info.frame_type.shape[2], 3u);

  ObjectGuard untyped_name(unique_name("ch-untyped"));
  ChannelGuard untyped;
  ASSERT_EQ(
      zinc_channel_create(untyped_name.c_str(), ZINC_CHANNEL_LOSSLESS, 2, 64, 1, 0, untyped.out()),
      ZINC_OK);
  ASSERT_EQ(zinc_channel_info(untyped, &info), ZINC_OK);
  EXPECT_EQ(info.frame_type.dtype[0], 0) << "an untyped channel has an all-zero frame type";
  EXPECT_EQ(info.frame_type.ndim, 0u);
}

TEST(Channel, create_typed_rejects_each_broken_frame_type_rule) {
  ObjectGuard name(unique_name("ch-badtype"));
  ZincChannelFrameType reserved_set = frame_type("|u1", {4});
  reserved_set.reserved = 1;
  ZincChannelFrameType beyond_ndim = frame_type("|u1", {4, 4});
  beyond_ndim.ndim = 1;
  ZincChannelFrameType six_dims = frame_type("|u1", {1, 1, 1, 1, 1});
  six_dims.ndim = 6;
  ZincChannelFrameType trailing = frame_type("<f4", {4});
  trailing.dtype[4] = 'x';
  struct Case {
    ZincChannelFrameType type;
    const char* says;
  };
  const Case cases[] = {
      {frame_type("", {}), "dtype is empty"},
      {frame_type("u1", {8}), "not a numpy type string"},
      {frame_type("<u1", {8}), "not a numpy type string"},
      {frame_type("|f4", {8}), "not a numpy type string"},
      {frame_type("<f3", {8}), "not a numpy type string"},
      {frame_type("<U4", {8}), "not a numpy type string"},
      {frame_type("<f04", {8}), "not a numpy type string"},
      {trailing, "not a numpy type string"},
      {six_dims, "ndim 6"},
      {reserved_set, "reserved"},
      {beyond_ndim, "shape[1] is set beyond ndim"},
      {frame_type("|u1", {4, 0}), "shape[1] is 0"},
      {frame_type("<f8", {uint64_t{1} << 38}), "larger than 2^40"},
      {frame_type("<f8", {uint64_t{1} << 32, uint64_t{1} << 32, uint64_t{1} << 32}),
       "larger than 2^40"},
  };
  for (const Case& c : cases) {
    ZincChannel ch = reinterpret_cast<ZincChannel>(0x1);
    EXPECT_EQ(zinc_channel_create_typed(name.c_str(), ZINC_CHANNEL_LOSSLESS, 2, &c.type, 1, 0, &ch),
              ZINC_EINVAL)
        << c.says;
    EXPECT_EQ(ch, nullptr);
    EXPECT_TRUE(contains(zinc_last_error_message(), c.says))
        << c.says << " / " << zinc_last_error_message();
    EXPECT_FALSE(zinc::test::object_exists(name.name())) << c.says;
  }
  ZincChannel ch = reinterpret_cast<ZincChannel>(0x1);
  EXPECT_EQ(zinc_channel_create_typed(name.c_str(), ZINC_CHANNEL_LOSSLESS, 2, nullptr, 1, 0, &ch),
            ZINC_EINVAL);
  EXPECT_EQ(ch, nullptr);
}

TEST(Channel, lossless_frames_arrive_in_order_with_their_length) {
  ObjectGuard name(unique_name("ch-order"));
  ChannelGuard writer, reader;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 4, 100, 2, 0, writer.out()),
            ZINC_OK)
      << zinc_last_error_message();
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_OK);
  for (uint8_t i = 0; i < 10; ++i) {
    EXPECT_EQ(send_frame(writer, i, 10 + i), i);
    ZincChannelFrame frame{};
    ASSERT_EQ(zinc_channel_read(reader, 1000, &frame), ZINC_OK) << zinc_last_error_message();
    EXPECT_EQ(frame.sequence, i);
    EXPECT_EQ(frame.length, 10u + i);
    EXPECT_TRUE(all_bytes_are(frame, i));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(frame.data) % 64, 0u) << "payload is 64-byte aligned";
    EXPECT_EQ(zinc_channel_release(reader), ZINC_OK);
  }
  ZincChannelFrame frame{};
  EXPECT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_EAGAIN);
}

TEST(Channel, lossless_writer_blocks_when_slowest_reader_is_full) {
  ObjectGuard name(unique_name("ch-full"));
  ChannelGuard writer, fast, slow;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 4, 64, 2, 0, writer.out()),
            ZINC_OK);
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), fast.out()), ZINC_OK);
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), slow.out()), ZINC_OK);
  for (uint8_t i = 0; i < 4; ++i) {
    send_frame(writer, i);
    ZincChannelFrame frame{};
    ASSERT_EQ(zinc_channel_read(fast, 0, &frame), ZINC_OK);
    ASSERT_EQ(zinc_channel_release(fast), ZINC_OK);
  }
  ZincChannelFrame frame{};
  EXPECT_EQ(zinc_channel_acquire(writer, 0, &frame), ZINC_EAGAIN);
  EXPECT_TRUE(contains(zinc_last_error_message(), "4 frames behind")) << zinc_last_error_message();
  const auto start = Clock::now();
  EXPECT_EQ(zinc_channel_acquire(writer, 100, &frame), ZINC_ETIMEDOUT);
  EXPECT_GE(seconds_since(start), 0.099);
  EXPECT_LT(seconds_since(start), 2.0);
  // The slow reader still finds frame 0 intact, and releasing it makes room
  // for exactly one more frame.
  ASSERT_EQ(zinc_channel_read(slow, 0, &frame), ZINC_OK);
  EXPECT_EQ(frame.sequence, 0u);
  EXPECT_TRUE(all_bytes_are(frame, 0));
  EXPECT_EQ(zinc_channel_acquire(writer, 0, &frame), ZINC_EAGAIN) << "held frames hold back";
  ASSERT_EQ(zinc_channel_release(slow), ZINC_OK);
  ASSERT_EQ(zinc_channel_acquire(writer, 0, &frame), ZINC_OK);
  EXPECT_EQ(frame.sequence, 4u);
  ASSERT_EQ(zinc_channel_commit(writer, 1), ZINC_OK);
  EXPECT_EQ(zinc_channel_acquire(writer, 0, &frame), ZINC_EAGAIN);
}

TEST(Channel, blocked_writer_wakes_when_the_reader_releases) {
  ObjectGuard name(unique_name("ch-wake"));
  ChannelGuard writer, reader;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 1, 64, 1, 0, writer.out()),
            ZINC_OK);
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_OK);
  send_frame(writer, 7);
  std::atomic<int32_t> rc{1};
  std::thread blocked([&] {
    ZincChannelFrame frame{};
    rc = zinc_channel_acquire(writer, 10000, &frame);
  });
  ZincChannelFrame frame{};
  ASSERT_EQ(zinc_channel_read(reader, 1000, &frame), ZINC_OK);
  const auto start = Clock::now();
  ASSERT_EQ(zinc_channel_release(reader), ZINC_OK);
  blocked.join();
  EXPECT_EQ(rc.load(), ZINC_OK);
  EXPECT_LT(seconds_since(start), 2.0);
}

TEST(Channel, latest_value_reader_gets_the_newest_frame_once) {
  ObjectGuard name(unique_name("ch-latest"));
  ChannelGuard writer, reader;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LATEST, 3, 64, 1, 0, writer.out()),
            ZINC_OK);
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_OK);
  ZincChannelFrame frame{};
  EXPECT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_EAGAIN) << "no frame yet";
  for (uint8_t i = 0; i < 5; ++i) send_frame(writer, i);
  ASSERT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_OK);
  EXPECT_EQ(frame.sequence, 4u);
  EXPECT_TRUE(all_bytes_are(frame, 4));
  ASSERT_EQ(zinc_channel_release(reader), ZINC_OK);
  EXPECT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_EAGAIN) << "frame 4 was read already";
  send_frame(writer, 5);
  ASSERT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_OK);
  EXPECT_EQ(frame.sequence, 5u);
  ASSERT_EQ(zinc_channel_release(reader), ZINC_OK);
}

TEST(Channel, late_joining_reader_starts_at_newest) {
  ObjectGuard name(unique_name("ch-late"));
  ChannelGuard writer, reader;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LATEST, 4, 64, 2, 0, writer.out()),
            ZINC_OK);
  for (uint8_t i = 0; i < 9; ++i) send_frame(writer, i);
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_OK);
  ZincChannelFrame frame{};
  ASSERT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_OK);
  EXPECT_EQ(frame.sequence, 8u);
  EXPECT_TRUE(all_bytes_are(frame, 8));
}

TEST(Channel, late_joining_lossless_reader_starts_at_the_next_frame) {
  ObjectGuard name(unique_name("ch-late-lossless"));
  ChannelGuard writer, reader;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 4, 64, 2, 0, writer.out()),
            ZINC_OK);
  for (uint8_t i = 0; i < 3; ++i) send_frame(writer, i);
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_OK);
  ZincChannelFrame frame{};
  EXPECT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_EAGAIN);
  send_frame(writer, 3);
  ASSERT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_OK);
  EXPECT_EQ(frame.sequence, 3u);
}

TEST(Channel, latest_writer_never_waits_for_readers_holding_frames) {
  ObjectGuard name(unique_name("ch-pinned"));
  ChannelGuard writer, first, second;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LATEST, 4, 256, 2, 0, writer.out()),
            ZINC_OK);
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), first.out()), ZINC_OK);
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), second.out()), ZINC_OK);
  send_frame(writer, 1);
  ZincChannelFrame a{}, b{};
  ASSERT_EQ(zinc_channel_read(first, 0, &a), ZINC_OK);
  send_frame(writer, 2);
  ASSERT_EQ(zinc_channel_read(second, 0, &b), ZINC_OK);
  for (int i = 0; i < 100; ++i) {
    ZincChannelFrame frame{};
    ASSERT_EQ(zinc_channel_acquire(writer, 0, &frame), ZINC_OK) << i;
    EXPECT_NE(frame.data, a.data);
    EXPECT_NE(frame.data, b.data);
    std::memset(frame.data, 0xEE, frame.length);
    ASSERT_EQ(zinc_channel_commit(writer, frame.length), ZINC_OK);
  }
  EXPECT_TRUE(all_bytes_are(a, 1)) << "a pinned frame was overwritten";
  EXPECT_TRUE(all_bytes_are(b, 2)) << "a pinned frame was overwritten";
}

// Threads: every frame's bytes all equal its sequence's low byte, and the
// last 8 bytes hold the sequence. A torn frame mixes two frames' bytes.
TEST(Channel, latest_value_never_torn) {
  ObjectGuard name(unique_name("ch-torn"));
  ChannelGuard writer;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LATEST, 4, 4096, 2, 0, writer.out()),
            ZINC_OK);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> frames_read{0};
  std::atomic<uint64_t> torn{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      ChannelGuard reader;
      if (zinc_channel_open_reader(name.c_str(), reader.out()) != ZINC_OK) {
        torn += 1000000;  // reported below as a failure
        return;
      }
      uint64_t last = 0;
      while (!stop.load()) {
        ZincChannelFrame frame{};
        if (zinc_channel_read(reader, 20, &frame) != ZINC_OK) continue;
        uint64_t seq = 0;
        std::memcpy(&seq, frame.data + frame.length - 8, 8);
        const bool whole = seq == frame.sequence && seq >= last &&
                           std::all_of(frame.data, frame.data + frame.length - 8,
                                       [&](uint8_t b) { return b == uint8_t(seq); });
        if (!whole) ++torn;
        last = seq;
        ++frames_read;
        zinc_channel_release(reader);
      }
    });
  }
  const auto start = Clock::now();
  uint64_t sent = 0;
  while (seconds_since(start) < 0.3) {
    ZincChannelFrame frame{};
    ASSERT_EQ(zinc_channel_acquire(writer, 0, &frame), ZINC_OK) << zinc_last_error_message();
    std::memset(frame.data, uint8_t(frame.sequence), frame.length - 8);
    std::memcpy(frame.data + frame.length - 8, &frame.sequence, 8);
    ASSERT_EQ(zinc_channel_commit(writer, frame.length), ZINC_OK);
    ++sent;
  }
  stop = true;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(torn.load(), 0u);
  EXPECT_GT(frames_read.load(), 0u);
  EXPECT_GT(sent, 0u);
}

// The join race, forced: the writer laps the whole ring after the joining
// reader read write_seq but before its entry was published, so no scan of
// the writer saw the reader. The reader's second read of write_seq must move
// it past the overwritten frames (without it, its first read would find
// frame 0's slot rewritten: EBADMSG).
TEST(Channel, lossless_reader_joining_while_the_writer_laps_the_ring_loses_nothing) {
  ObjectGuard name(unique_name("ch-join-race"));
  ChannelGuard writer, reader;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 2, 64, 1, 0, writer.out()),
            ZINC_OK);
  static ZincChannel writer_for_hook;
  writer_for_hook = writer;
  {
    HookGuard hook(&zinc::core::testing::reader_join_hook, [] {
      for (uint8_t i = 0; i < 5; ++i) send_frame(writer_for_hook, i);
    });
    ASSERT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_OK);
  }
  ZincChannelFrame frame{};
  EXPECT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_EAGAIN) << zinc_last_error_message();
  send_frame(writer, 5);
  ASSERT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_OK) << zinc_last_error_message();
  EXPECT_EQ(frame.sequence, 5u);
  EXPECT_TRUE(all_bytes_are(frame, 5));
}

// Raw access to a channel's data area through a plain region handle, to play
// the other party's half of a race at an exact point.
struct RawChannel {
  explicit RawChannel(const std::string& name) { zinc_open(name.c_str(), &region); }
  ~RawChannel() { zinc_close(region); }
  std::atomic<uint64_t>& u64(uint64_t offset) {
    return *reinterpret_cast<std::atomic<uint64_t>*>(zinc_ptr(region) + offset);
  }
  std::atomic<uint32_t>& u32(uint64_t offset) {
    return *reinterpret_cast<std::atomic<uint32_t>*>(zinc_ptr(region) + offset);
  }
  ZincHandle region = nullptr;
};

// Frame numbers are exact 64-bit values (spec §10.4): a writer resumed at
// write_seq 2^32 - 2 (§10.3) and a reader whose cursor is there cross 2^32
// with every frame read in order. No test reaches frame 2^32 by writing, so
// both counts are planted before anyone writes.
// A lossless channel of four 64-byte slots whose next frame is `first`:
// its reader (the creator) and its writer, write_seq and the reader's cursor
// planted there.
void open_channel_at_frame(const ObjectGuard& name, uint64_t first, ChannelGuard& reader,
                           ChannelGuard& writer) {
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 4, 64, 1,
                                ZINC_CHANNEL_CREATE_READER, reader.out()),
            ZINC_OK);
  zinc::test::write_seq_word(reader).store(first);
  zinc::test::entry_cursor(reader, 0).store(first);
  ASSERT_EQ(zinc_channel_open_writer(name.c_str(), writer.out()), ZINC_OK);
}

TEST(Channel, lossless_frames_cross_2_pow_32) {
  ObjectGuard name(unique_name("ch-2pow32"));
  constexpr uint64_t kFirst = (uint64_t{1} << 32) - 2;
  ChannelGuard reader;
  ChannelGuard writer;
  ASSERT_NO_FATAL_FAILURE(open_channel_at_frame(name, kFirst, reader, writer));
  for (uint64_t f = kFirst; f < kFirst + 6; ++f) {
    const auto byte = static_cast<uint8_t>(f);
    EXPECT_EQ(send_frame(writer, byte), f);
    ZincChannelFrame frame{};
    ASSERT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_OK)
        << "frame " << f << ": " << zinc_last_error_message();
    EXPECT_EQ(frame.sequence, f);
    EXPECT_TRUE(all_bytes_are(frame, byte)) << "frame " << f;
    EXPECT_EQ(zinc_channel_release(reader), ZINC_OK);
  }
}

// Frame numbers end at 2^63 - 2 (spec section 10.4): frame 2^63 - 1 would
// commit as seq 2 * f + 2 = 2^64 = 0, "never written". The writer commits the
// last frame and refuses the next one.
TEST(Channel, frame_numbers_end_at_2_pow_63_minus_2) {
  ObjectGuard name(unique_name("ch-2pow63"));
  constexpr uint64_t kLast = (uint64_t{1} << 63) - 2;
  ChannelGuard reader;
  ChannelGuard writer;
  ASSERT_NO_FATAL_FAILURE(open_channel_at_frame(name, kLast, reader, writer));
  EXPECT_EQ(send_frame(writer, 7), kLast);
  ZincChannelFrame frame{};
  ASSERT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_OK) << zinc_last_error_message();
  EXPECT_EQ(frame.sequence, kLast);
  EXPECT_TRUE(all_bytes_are(frame, 7));
  EXPECT_EQ(zinc_channel_release(reader), ZINC_OK);
  EXPECT_EQ(zinc_channel_acquire(writer, 0, &frame), ZINC_EBADMSG) << "frame 2^63 - 1";
  EXPECT_TRUE(contains(zinc_last_error_message(), "where frame numbers end"))
      << zinc_last_error_message();
}

// The writer's half of the pin race, forced: a reader's pin is already in
// place when the writer marks the slot it would take next. The writer must
// put the slot's seq back and take another slot.
TEST(Channel, latest_writer_that_finds_its_slot_pinned_puts_it_back) {
  ObjectGuard name(unique_name("ch-pin-race"));
  ChannelGuard writer;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LATEST, 4, 64, 2, 0, writer.out()),
            ZINC_OK);
  send_frame(writer, 1);  // frame 0 in slot 0; the writer takes slot 1 next
  ZincChannelInfo info{};
  ASSERT_EQ(zinc_channel_info(writer, &info), ZINC_OK);
  RawChannel raw(name.name());
  const uint64_t slot1 = info.slots_offset + info.slot_stride;
  raw.u64(slot1).store(6);  // an old committed frame 2 in slot 1
  // Entry 1: a live reader (this process) pinning slot 1.
  raw.u64(128 + 64).store((uint64_t{1} << 32) | static_cast<uint32_t>(getpid()));
  raw.u32(128 + 64 + 24).store(2);
  ZincChannelFrame frame{};
  ASSERT_EQ(zinc_channel_acquire(writer, 0, &frame), ZINC_OK);
  EXPECT_EQ(frame.sequence, 1u);
  EXPECT_EQ(raw.u64(info.slots_offset + 2 * info.slot_stride).load(), 3u)
      << "the writer took slot 2 for frame 1";
  EXPECT_EQ(raw.u64(slot1).load(), 6u) << "the pinned slot's seq was put back";
  raw.u64(128 + 64).store(0);
}

// The reader's half, forced: the writer has marked the newest slot as being
// written (as if it took it between the reader's load of latest_slot and
// its pin). The reader must not use it, and finds nothing new.
TEST(Channel, latest_reader_never_uses_a_slot_marked_as_being_written) {
  ObjectGuard name(unique_name("ch-odd-slot"));
  ChannelGuard writer, reader;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LATEST, 3, 64, 1, 0, writer.out()),
            ZINC_OK);
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_OK);
  send_frame(writer, 1);
  ZincChannelInfo info{};
  ASSERT_EQ(zinc_channel_info(writer, &info), ZINC_OK);
  RawChannel raw(name.name());
  const uint64_t newest = info.slots_offset + info.latest_slot * info.slot_stride;
  raw.u64(newest).store(3);  // frame 1 being written in the newest slot
  ZincChannelFrame frame{};
  EXPECT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_EAGAIN);
  EXPECT_EQ(raw.u32(128 + 24).load(), 0u) << "the reader left no pin behind";
  raw.u64(newest).store(2);  // committed again
  ASSERT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_OK);
  EXPECT_EQ(frame.sequence, 0u);
}

// Anyone who can write the object can damage a committed slot's length: a
// read must refuse it (EBADMSG), never hand out a view past the slot.
TEST(Channel, reader_refuses_a_committed_frame_longer_than_its_slot) {
  for (const uint32_t mode : {ZINC_CHANNEL_LOSSLESS, ZINC_CHANNEL_LATEST}) {
    ObjectGuard name(unique_name("ch-long-frame"));
    ChannelGuard writer, reader;
    ASSERT_EQ(zinc_channel_create(name.c_str(), mode, 4, 100, 1, 0, writer.out()), ZINC_OK);
    ASSERT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_OK);
    send_frame(writer, 1);
    ZincChannelInfo info{};
    ASSERT_EQ(zinc_channel_info(writer, &info), ZINC_OK);
    const uint32_t slot = mode == ZINC_CHANNEL_LOSSLESS ? 0 : info.latest_slot;
    RawChannel raw(name.name());
    raw.u64(info.slots_offset + slot * info.slot_stride + 8).store(101);
    ZincChannelFrame frame{};
    EXPECT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_EBADMSG) << "mode " << mode;
    EXPECT_TRUE(contains(zinc_last_error_message(), "more than its size 100"))
        << zinc_last_error_message();
  }
}

TEST(Channel, dead_reader_stops_holding_back_writer) {
  ObjectGuard name(unique_name("ch-dead-reader"));
  ChannelGuard writer;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 2, 64, 2, 0, writer.out()),
            ZINC_OK);
  ChannelPeer peer({"reader-holding", name.name()});
  // A lossless reader starts at the next frame: send only once it joined.
  for (int i = 0; i < 500 && active_readers(writer) == 0; ++i) usleep(10000);
  ASSERT_EQ(active_readers(writer), 1u);
  send_frame(writer, 1);
  ASSERT_EQ(peer.read_line(), "ready");
  send_frame(writer, 2);
  ZincChannelFrame frame{};
  EXPECT_EQ(zinc_channel_acquire(writer, 0, &frame), ZINC_EAGAIN)
      << "the live reader holds it back";
  peer.kill_hard();
  const auto start = Clock::now();
  ASSERT_EQ(zinc_channel_acquire(writer, 5000, &frame), ZINC_OK) << zinc_last_error_message();
  EXPECT_LT(seconds_since(start), 2.0);
  EXPECT_EQ(frame.sequence, 2u);
  EXPECT_EQ(active_readers(writer), 0u) << "the dead reader's entry was reclaimed";
}

TEST(Channel, dead_readers_entries_are_reused_by_new_readers) {
  ObjectGuard name(unique_name("ch-dead-entry"));
  ChannelGuard writer, reader;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LATEST, 3, 64, 1, 0, writer.out()),
            ZINC_OK);
  {
    ChannelPeer peer({"reader", name.name()});
    ASSERT_EQ(peer.read_line(), "ready");
    EXPECT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_EBUSY);
    EXPECT_TRUE(contains(zinc_last_error_message(), "all 1 reader entries are held"));
  }
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_OK)
      << zinc_last_error_message();
}

void writer_killed_mid_frame(uint32_t mode) {
  ObjectGuard name(unique_name("ch-killed-writer"));
  ChannelGuard reader, writer;
  ASSERT_EQ(
      zinc_channel_create(name.c_str(), mode, 3, 4096, 1, ZINC_CHANNEL_CREATE_READER, reader.out()),
      ZINC_OK)
      << zinc_last_error_message();
  ChannelPeer peer({"writer-mid-frame", name.name(), "65", "2"});  // frames 0, 1 of 'A'
  ASSERT_EQ(peer.read_line(), "mid-frame");
  peer.kill_hard();

  ZincChannelFrame frame{};
  ASSERT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_OK);
  EXPECT_EQ(frame.sequence, mode == ZINC_CHANNEL_LOSSLESS ? 0u : 1u);
  EXPECT_TRUE(all_bytes_are(frame, 'A'));
  ASSERT_EQ(zinc_channel_release(reader), ZINC_OK);
  if (mode == ZINC_CHANNEL_LOSSLESS) {
    ASSERT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_OK);
    EXPECT_EQ(frame.sequence, 1u);
    ASSERT_EQ(zinc_channel_release(reader), ZINC_OK);
  }
  EXPECT_EQ(zinc_channel_read(reader, 100, &frame), ZINC_ETIMEDOUT) << "the half frame is hidden";

  // A new writer takes the dead writer's role and writes frame 2 anew.
  ASSERT_EQ(zinc_channel_open_writer(name.c_str(), writer.out()), ZINC_OK)
      << zinc_last_error_message();
  EXPECT_EQ(send_frame(writer, 'C'), 2u);
  ASSERT_EQ(zinc_channel_read(reader, 1000, &frame), ZINC_OK);
  EXPECT_EQ(frame.sequence, 2u);
  EXPECT_TRUE(all_bytes_are(frame, 'C'));
}

TEST(Channel, writer_killed_mid_frame_never_exposed_lossless) {
  writer_killed_mid_frame(ZINC_CHANNEL_LOSSLESS);
}

TEST(Channel, writer_killed_mid_frame_never_exposed_latest) {
  writer_killed_mid_frame(ZINC_CHANNEL_LATEST);
}

TEST(Channel, second_writer_refused) {
  ObjectGuard name(unique_name("ch-two-writers"));
  ChannelGuard reader, writer, second;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 2, 64, 1,
                                ZINC_CHANNEL_CREATE_READER, reader.out()),
            ZINC_OK);
  ASSERT_EQ(zinc_channel_open_writer(name.c_str(), writer.out()), ZINC_OK);
  second.channel = reinterpret_cast<ZincChannel>(0x1);
  EXPECT_EQ(zinc_channel_open_writer(name.c_str(), second.out()), ZINC_EBUSY);
  EXPECT_EQ(second.channel, nullptr);
  EXPECT_TRUE(contains(zinc_last_error_message(), "already has a writer"))
      << zinc_last_error_message();
  zinc_channel_close(writer.channel);
  writer.channel = nullptr;
  EXPECT_EQ(zinc_channel_open_writer(name.c_str(), second.out()), ZINC_OK)
      << "a closed writer's role is free again";
}

TEST(Channel, corrupted_channel_header_rejected) {
  ObjectGuard name(unique_name("ch-corrupt"));
  ZincHandle region = nullptr;
  ASSERT_EQ(zinc_create(name.c_str(), zinc_page_size(), &region), ZINC_OK);
  ChannelGuard ch;
  EXPECT_EQ(zinc_channel_open_reader(name.c_str(), ch.out()), ZINC_ENOMSG)
      << "a plain region is not a channel, and waiting will not make it one";
  EXPECT_TRUE(contains(zinc_last_error_message(), "holds no channel")) << zinc_last_error_message();
  const uint64_t magic = ZINC_CHANNEL_MAGIC;
  std::memcpy(zinc_ptr(region), &magic, 8);
  EXPECT_EQ(zinc_channel_open_reader(name.c_str(), ch.out()), ZINC_EBADMSG);
  EXPECT_TRUE(contains(zinc_last_error_message(), "version 0")) << zinc_last_error_message();
  const uint64_t other = 0x1122334455667788;
  std::memcpy(zinc_ptr(region), &other, 8);
  EXPECT_EQ(zinc_channel_open_writer(name.c_str(), ch.out()), ZINC_EBADMSG);
  EXPECT_EQ(ch.channel, nullptr);
  zinc_close(region);
}

TEST(Channel, check_channel_header_reports_each_broken_rule) {
  ObjectGuard name(unique_name("ch-check"));
  ChannelGuard writer;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LATEST, 3, 100, 1, 0, writer.out()),
            ZINC_OK);
  send_frame(writer, 9, 50);
  ZincChannelInfo info{};
  ASSERT_EQ(zinc_channel_info(writer, &info), ZINC_OK);
  // The data area as a peer would copy it: the object minus its header page.
  std::vector<uint8_t> object = zinc::test::read_raw_object(name.name());
  const std::vector<uint8_t> good(object.begin() + zinc_page_size(), object.end());
  ZincChannelInfo decoded{};
  ASSERT_EQ(zinc_check_channel_header(good.data(), good.size(), good.size(), &decoded), ZINC_OK)
      << zinc_last_error_message();
  EXPECT_EQ(decoded.mode, ZINC_CHANNEL_LATEST);
  EXPECT_EQ(decoded.slot_count, 3u);
  EXPECT_EQ(decoded.slot_size, 100u);
  EXPECT_EQ(decoded.write_seq, 1u);
  EXPECT_EQ(decoded.slot_stride, 64u + 128u);
  EXPECT_EQ(decoded.slots_offset, 128u + 64u + 64u) << "header, one entry, the slot map";
  EXPECT_EQ(decoded.writer_pid, getpid());
  EXPECT_EQ(decoded.writer_active, 1u);

  struct Damage {
    size_t offset;
    uint64_t value;
    size_t width;
    int32_t code;
    const char* says;
  };
  const uint64_t slot0 = decoded.slots_offset + decoded.slot_stride * decoded.latest_slot;
  const Damage damages[] = {
      {0, 0, 8, ZINC_ENOMSG, "holds no channel"},
      {0, 42, 8, ZINC_EBADMSG, "bad magic"},
      {8, 1, 2, ZINC_EBADMSG, "made by an older zinc"},
      {8, 3, 2, ZINC_EBADMSG, "made by a newer zinc"},
      {10, 3, 2, ZINC_EBADMSG, "mode 3"},
      {12, 1, 4, ZINC_EBADMSG, "unknown flags"},
      {16, 2, 4, ZINC_EBADMSG, "slot_count >= max_readers + 2"},
      {16, 60000, 4, ZINC_EBADMSG, "needs"},
      {20, 65, 4, ZINC_EBADMSG, "max_readers 65"},
      {24, 1 << 20, 8, ZINC_EBADMSG, "needs"},
      {40, 3, 4, ZINC_EBADMSG, "latest_slot 3"},
      {56, uint64_t{1} << 32, 8, ZINC_EBADMSG, "writer owner word"},
      {56, (uint64_t{1} << 32) | 0x80000000u, 8, ZINC_EBADMSG, "negative pid"},
      {128, uint64_t{3} << 32, 8, ZINC_EBADMSG, "reader entry 0"},
      {128 + 64 + 4, 3, 4, ZINC_EBADMSG, "slot map entry 1 names slot 3 of only 3"},
      {slot0 + 8, 101, 8, ZINC_EBADMSG, "more than the slot size 100"},
  };
  for (const Damage& d : damages) {
    std::vector<uint8_t> bad = good;
    std::memcpy(bad.data() + d.offset, &d.value, d.width);
    EXPECT_EQ(zinc_check_channel_header(bad.data(), bad.size(), bad.size(), nullptr), d.code)
        << d.says;
    EXPECT_TRUE(contains(zinc_last_error_message(), d.says))
        << d.says << ": " << zinc_last_error_message();
  }
  EXPECT_EQ(zinc_check_channel_header(good.data(), 127, good.size(), nullptr), ZINC_EINVAL);
  EXPECT_EQ(zinc_check_channel_header(nullptr, 128, good.size(), nullptr), ZINC_EINVAL);
  EXPECT_EQ(zinc_check_channel_header(good.data(), 128, 127, nullptr), ZINC_EINVAL);
  // The header alone passes without the tables.
  EXPECT_EQ(zinc_check_channel_header(good.data(), 128, good.size(), nullptr), ZINC_OK);
}

TEST(Channel, a_commit_is_bounded_by_the_slot_size_not_by_its_64_byte_stride) {
  // A 100-byte slot has 128 bytes of room before the next slot header (spec
  // §10.1's stride); the last 28 are padding, not payload (§10.4), so a
  // frame of 101 bytes is refused. Every other test uses 64-byte multiples,
  // where the two bounds agree.
  ObjectGuard name(unique_name("ch-stride"));
  ChannelGuard writer, reader;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 2, 100, 1, 0, writer.out()),
            ZINC_OK);
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_OK);
  ZincChannelFrame frame{};
  ASSERT_EQ(zinc_channel_acquire(writer, 0, &frame), ZINC_OK);
  for (const uint64_t length : {uint64_t{101}, uint64_t{128}}) {
    EXPECT_EQ(zinc_channel_commit(writer, length), ZINC_EINVAL) << length << " bytes";
    EXPECT_TRUE(contains(zinc_last_error_message(), "exceeds the slot size 100"));
  }
  ASSERT_EQ(zinc_channel_commit(writer, 100), ZINC_OK);
  ASSERT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_OK);
  EXPECT_EQ(frame.length, 100u);
  EXPECT_EQ(zinc_channel_release(reader), ZINC_OK);
}

TEST(Channel, calls_in_the_wrong_role_or_order_are_refused) {
  ObjectGuard name(unique_name("ch-misuse"));
  ChannelGuard writer, reader;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 2, 64, 1, 0, writer.out()),
            ZINC_OK);
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_OK);
  ZincChannelFrame frame{};
  EXPECT_EQ(zinc_channel_read(writer, 0, &frame), ZINC_EINVAL);
  EXPECT_EQ(zinc_channel_acquire(reader, 0, &frame), ZINC_EINVAL);
  EXPECT_EQ(zinc_channel_commit(writer, 1), ZINC_EINVAL);
  EXPECT_TRUE(contains(zinc_last_error_message(), "without an acquired slot"));
  EXPECT_EQ(zinc_channel_release(reader), ZINC_EINVAL);
  ZincChannelFrame again{};
  ASSERT_EQ(zinc_channel_acquire(writer, 0, &frame), ZINC_OK);
  ASSERT_EQ(zinc_channel_acquire(writer, 0, &again), ZINC_OK);
  EXPECT_EQ(again.data, frame.data) << "acquiring twice gives the same slot";
  EXPECT_EQ(again.sequence, frame.sequence);
  EXPECT_EQ(zinc_channel_commit(writer, 65), ZINC_EINVAL);
  EXPECT_TRUE(contains(zinc_last_error_message(), "exceeds the slot size 64"));
  ASSERT_EQ(zinc_channel_commit(writer, 64), ZINC_OK);
  ASSERT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_OK);
  EXPECT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_EINVAL);
  EXPECT_TRUE(contains(zinc_last_error_message(), "release frame 0"));
  EXPECT_EQ(zinc_channel_acquire(writer, 0, nullptr), ZINC_EINVAL);
  EXPECT_EQ(zinc_channel_read(reader, 0, nullptr), ZINC_EINVAL);
  EXPECT_EQ(zinc_channel_open_reader(nullptr, reader.out()), ZINC_EINVAL);
  EXPECT_EQ(zinc_channel_open_reader(name.c_str(), nullptr), ZINC_EINVAL);
  EXPECT_EQ(zinc_channel_open_reader("no/slash", reader.out()), ZINC_EINVAL);
  ChannelGuard missing;
  EXPECT_EQ(zinc_channel_open_reader("t-no-such-channel-x", missing.out()), ZINC_ENOENT);
}

TEST(Channel, closed_and_foreign_handles_are_detected) {
  ObjectGuard name(unique_name("ch-closed"));
  ZincChannel writer = nullptr;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 2, 64, 1, 0, &writer),
            ZINC_OK);
  zinc_channel_close(writer);
  EXPECT_FALSE(zinc::test::object_exists(name.name())) << "the creator's close unlinks";
  ZincChannelFrame frame{};
  ZincChannelInfo info{};
  EXPECT_EQ(zinc_channel_acquire(writer, 0, &frame), ZINC_EINVAL);
  EXPECT_EQ(zinc_channel_commit(writer, 0), ZINC_EINVAL);
  EXPECT_EQ(zinc_channel_info(writer, &info), ZINC_EINVAL);
  EXPECT_EQ(zinc_channel_ptr(writer), nullptr);
  zinc_channel_close(writer);  // double close: detected, no effect
  EXPECT_TRUE(contains(zinc_last_error_message(), "already closed"));
  EXPECT_EQ(zinc_channel_read(reinterpret_cast<ZincChannel>(0x1234), 0, &frame), ZINC_EINVAL);
  zinc_channel_close(nullptr);
}

TEST(Channel, frame_offsets_from_channel_ptr_are_the_same_in_every_mapping) {
  ObjectGuard name(unique_name("ch-ptr"));
  ChannelGuard writer;
  ChannelGuard reader;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 2, 100, 1, 0, writer.out()),
            ZINC_OK);
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_OK);
  ZincChannelInfo info{};
  ASSERT_EQ(zinc_channel_info(writer, &info), ZINC_OK);
  uint8_t* writer_base = zinc_channel_ptr(writer);
  uint8_t* reader_base = zinc_channel_ptr(reader);
  ASSERT_NE(writer_base, nullptr);
  ASSERT_NE(reader_base, writer_base) << "each handle maps the region anew";
  uint64_t magic = 0;
  std::memcpy(&magic, reader_base, sizeof magic);
  EXPECT_EQ(magic, ZINC_CHANNEL_MAGIC);
  for (uint64_t f = 0; f < 3; ++f) {
    ZincChannelFrame frame{};
    ASSERT_EQ(zinc_channel_acquire(writer, 1000, &frame), ZINC_OK);
    // The reader released the last frame: the writer reuses its slot, 0.
    const uint64_t offset = info.slots_offset + ZINC_CHANNEL_SLOT_HEADER_SIZE;
    EXPECT_EQ(frame.data, writer_base + offset);
    frame.data[0] = static_cast<uint8_t>(0xA0 + f);
    ASSERT_EQ(zinc_channel_commit(writer, 1), ZINC_OK);
    ZincChannelFrame got{};
    ASSERT_EQ(zinc_channel_read(reader, 1000, &got), ZINC_OK);
    EXPECT_EQ(got.data, reader_base + offset);
    EXPECT_EQ(reader_base[offset], 0xA0 + f);
    ASSERT_EQ(zinc_channel_release(reader), ZINC_OK);
  }
}

TEST(Channel, close_cancels_a_blocked_read) {
  ObjectGuard name(unique_name("ch-cancel"));
  ChannelGuard writer;
  ZincChannel reader = nullptr;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 2, 64, 1, 0, writer.out()),
            ZINC_OK);
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), &reader), ZINC_OK);
  std::atomic<int32_t> rc{1};
  std::atomic<bool> started{false};
  std::thread blocked([&] {
    ZincChannelFrame frame{};
    started = true;
    rc = zinc_channel_read(reader, 20000, &frame);
  });
  while (!started.load()) std::this_thread::yield();
  const auto start = Clock::now();
  zinc_channel_close(reader);
  blocked.join();
  // The close may also land before the read looked up the handle.
  EXPECT_TRUE(rc.load() == ZINC_ECANCELED || rc.load() == ZINC_EINVAL) << rc.load();
  EXPECT_LT(seconds_since(start), 2.0);
  EXPECT_EQ(active_readers(writer), 0u);
}

TEST(Channel, a_fork_childs_copy_of_a_reader_neither_reads_nor_drops_the_parents_pin) {
  ObjectGuard name(unique_name("ch-fork"));
  ChannelGuard writer, reader;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LATEST, 4, 64, 2, 0, writer.out()),
            ZINC_OK);
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_OK);
  send_frame(writer, 7);
  ZincChannelFrame held{};
  ASSERT_EQ(zinc_channel_read(reader, 1000, &held), ZINC_OK);
  const uint8_t* area = zinc_channel_ptr(reader);
  const auto pin = [&] {
    uint32_t value;
    std::memcpy(&value, area + ZINC_CHANNEL_HEADER_SIZE + 24, sizeof value);  // entry 0's held
    return value;
  };
  const uint32_t pinned = pin();
  ASSERT_NE(pinned, 0u);

  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ZincChannelFrame frame{};
    const bool refused = zinc_channel_release(reader) == ZINC_EINVAL &&
                         zinc_channel_read(reader, 0, &frame) == ZINC_EINVAL &&
                         zinc_channel_acquire(writer, 0, &frame) == ZINC_EINVAL &&
                         std::strstr(zinc_last_error_message(), "fork") != nullptr;
    zinc_channel_close(reader.channel);
    zinc_channel_close(writer.channel);
    _exit(refused ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "the child's calls were not refused with a message about fork()";
  EXPECT_EQ(pin(), pinned) << "the child's close dropped the parent's pin";
  EXPECT_EQ(active_readers(writer), 1u) << "the child's close freed the parent's entry";
  ZincChannelInfo info{};
  ASSERT_EQ(zinc_channel_info(writer, &info), ZINC_OK);
  EXPECT_EQ(info.writer_pid, getpid()) << "the child's close gave up the parent's writer role";
  EXPECT_TRUE(all_bytes_are(held, 7));
  EXPECT_EQ(zinc_channel_release(reader), ZINC_OK);
}

TEST(Channel, a_plain_v2_peer_sees_an_ordinary_region) {
  ObjectGuard name(unique_name("ch-plain"));
  ChannelGuard writer;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 8, 5000, 4, 0, writer.out()),
            ZINC_OK);
  ZincHandle region = nullptr;
  ASSERT_EQ(zinc_open(name.c_str(), &region), ZINC_OK);
  ZincChannelInfo info{};
  ASSERT_EQ(zinc_channel_info(writer, &info), ZINC_OK);
  EXPECT_GE(zinc_capacity(region), info.required_bytes);
  EXPECT_EQ(zinc_capacity(region) % zinc_page_size(), 0u);
  EXPECT_EQ(zinc_capacity(region) - info.required_bytes < zinc_page_size(), true);
  ZincHeaderInfo header{};
  EXPECT_EQ(zinc_inspect(name.c_str(), &header), ZINC_OK);
  EXPECT_EQ(header.version, 2);
  EXPECT_EQ(header.flags, ZINC_HEADER_FLAG_LOCKS) << "only bit 0, which a plain v2 peer ignores";
  zinc_close(region);
}

}  // namespace
