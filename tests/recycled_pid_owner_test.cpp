// Recycled pids (issue 20, docs/spec.md §4.4, §4.5, §10.3): an owner word
// whose pid now belongs to another live process. Where the region has the
// liveness-lock flag the role's lock decides and the pid is never read: a
// word whose lock is free is a dead holder's, whoever its pid names now.
// Without the flag the pid rule decides by start time: a process that
// started more than 2 s after the holder joined, and does not map the
// region, is not the holder. Each test forges the words with the pid of a
// live child that has nothing to do with the channel, as pid reuse would.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "liveness_support.hpp"
#include "test_support.hpp"
#include "zinc.h"

namespace {

using zinc::test::ChannelGuard;
using zinc::test::commit_filled;
using zinc::test::entry_cursor;
using zinc::test::entry_owner;
using zinc::test::ObjectGuard;
using zinc::test::realtime_ns;
using zinc::test::unique_name;
using zinc::test::writer_word;

constexpr uint64_t kHourNs = 3600ULL * 1000000000ULL;

// A live process unrelated to any channel: forked before the test maps
// anything, so it maps nothing and holds no lock. Killed and reaped at the
// end of the scope.
class Stranger {
 public:
  Stranger() : pid_(fork()) {
    if (pid_ == 0) {
      alarm(60);  // never outlives a test that crashed
      for (;;) pause();
    }
  }
  Stranger(const Stranger&) = delete;
  Stranger& operator=(const Stranger&) = delete;
  ~Stranger() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  int32_t pid() const { return pid_; }

 private:
  pid_t pid_;
};

// An active owner word (§10.3): pid, the active bit, a generation.
uint64_t active_word(int32_t pid, uint64_t generation) {
  return uint64_t{static_cast<uint32_t>(pid)} | (uint64_t{1} << 32) | (generation << 33);
}

std::atomic<uint64_t>& writer_joined_at(ZincChannel channel) {
  return *reinterpret_cast<std::atomic<uint64_t>*>(zinc_channel_ptr(channel) + 64);
}
std::atomic<uint64_t>& entry_joined_at(ZincChannel channel, uint32_t index) {
  return *reinterpret_cast<std::atomic<uint64_t>*>(zinc::test::reader_entry(channel, index) + 8);
}

TEST(RecycledPidOwner, WriterWordNamingALiveStrangerIsTakenOverWhereLocksDecide) {
  Stranger stranger;
  ASSERT_GT(stranger.pid(), 0);
  ObjectGuard name(unique_name("recycled-writer"));
  ChannelGuard reader;  // the creator joins as a reader: the writer role stays free
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 4, 64, 1,
                                ZINC_CHANNEL_CREATE_READER, reader.out()),
            ZINC_OK);
  // The pid rule would call the stranger the writer: it started before joined_at.
  writer_word(reader).store(active_word(stranger.pid(), 5));
  writer_joined_at(reader).store(realtime_ns());

  EXPECT_EQ(zinc_channel_role_state(name.c_str(), -1), ZINC_CREATOR_DEAD)
      << "the writer lock is free: the pid must not be read";
  ChannelGuard writer;
  ASSERT_EQ(zinc_channel_open_writer(name.c_str(), writer.out()), ZINC_OK)
      << zinc_last_error_message();
  EXPECT_EQ(writer_word(reader).load(), active_word(getpid(), 6))
      << "the new writer's word: this process, the forged generation + 1";
  ASSERT_EQ(commit_filled(writer, 0x21), ZINC_OK);
  ZincChannelFrame frame{};
  ASSERT_EQ(zinc_channel_read(reader, 1000, &frame), ZINC_OK);
  EXPECT_EQ(frame.sequence, 0u);
  EXPECT_EQ(zinc_channel_release(reader), ZINC_OK);
}

TEST(RecycledPidOwner, ReaderEntryNamingALiveStrangerHoldsNoWriterBackWhereLocksDecide) {
  Stranger stranger;
  ASSERT_GT(stranger.pid(), 0);
  ObjectGuard name(unique_name("recycled-reader"));
  ChannelGuard writer;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 2, 64, 1, 0, writer.out()),
            ZINC_OK);
  entry_owner(writer, 0).store(active_word(stranger.pid(), 3));
  entry_joined_at(writer, 0).store(realtime_ns());
  entry_cursor(writer, 0).store(0);

  EXPECT_EQ(zinc_channel_role_state(name.c_str(), 0), ZINC_CREATOR_DEAD);
  ASSERT_EQ(commit_filled(writer, 1), ZINC_OK);
  ASSERT_EQ(commit_filled(writer, 2), ZINC_OK);
  // The ring is full for an entry at cursor 0; its lock is free, so the
  // writer reclaims it instead of waiting for a reader that is not there.
  EXPECT_EQ(commit_filled(writer, 3, 5000), ZINC_OK) << zinc_last_error_message();
  const uint64_t word = entry_owner(writer, 0).load();
  EXPECT_EQ(word & 0x1FFFFFFFFull, 0u) << "the reclaimed entry is free (pid 0, not active)";
}

// A channel in a region without the flag, as the original or a plain v2
// peer lays it out: one reader entry; the writer and the entry name the
// stranger, joined at `joined_at`.
void plant_plain_channel(const std::string& name, int32_t pid, uint64_t joined_at) {
  const uint64_t page = zinc_page_size();
  std::vector<uint8_t> object = zinc::test::valid_header_page(name, page);  // flags 0
  object.resize(2 * page, 0);
  uint8_t* data = object.data() + page;
  auto put = [&](uint64_t at, uint64_t value, size_t size) {
    std::memcpy(data + at, &value, size);
  };
  put(0, 0x5A494E435F43484EULL, 8);  // "ZINC_CHN"
  put(8, ZINC_CHANNEL_VERSION, 2);   // version (layout 2: the slot map, all 0, follows the entry)
  put(10, ZINC_CHANNEL_LOSSLESS, 2);
  put(16, 4, 4);            // slot_count
  put(20, 1, 4);            // max_readers
  put(24, 64, 8);           // slot_size
  put(40, 0xFFFFFFFFu, 4);  // latest_slot: none
  put(56, active_word(pid, 2), 8);
  put(64, joined_at, 8);
  put(ZINC_CHANNEL_HEADER_SIZE, active_word(pid, 1), 8);
  put(ZINC_CHANNEL_HEADER_SIZE + 8, joined_at, 8);
  zinc::test::write_raw_object(name, object, object.size());
}

TEST(RecycledPidOwner, PlainChannelJudgesALiveStrangerByItsStartTime) {
  Stranger stranger;
  ASSERT_GT(stranger.pid(), 0);
  const struct {
    uint64_t joined_at;
    int32_t role_state;
    int32_t open_rc;
    const char* what;
  } cases[] = {
      {realtime_ns() - kHourNs, ZINC_CREATOR_PID_REUSED, ZINC_OK,
       "joined an hour before the process with its pid started: a recycled pid"},
      {realtime_ns(), ZINC_CREATOR_ALIVE, ZINC_EBUSY,
       "joined after the process with its pid started: the holder"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    ObjectGuard name(unique_name("recycled-plain"));
    plant_plain_channel(name.name(), stranger.pid(), c.joined_at);
    EXPECT_EQ(zinc_channel_role_state(name.c_str(), -1), c.role_state);
    EXPECT_EQ(zinc_channel_role_state(name.c_str(), 0), c.role_state);
    ChannelGuard writer;
    EXPECT_EQ(zinc_channel_open_writer(name.c_str(), writer.out()), c.open_rc)
        << zinc_last_error_message();
    ChannelGuard reader;
    EXPECT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), c.open_rc)
        << zinc_last_error_message();
  }
}

}  // namespace
