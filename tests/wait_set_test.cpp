// Wait sets (docs/spec.md §11) through the C ABI: one scenario per test.
// A killed writer is tests/channel_peer.cpp, killed with SIGKILL after it
// reports that it holds the role.
#include "wait_set.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "futex.hpp"
#include "handle_table.hpp"
#include "multi_wait.hpp"
#include "liveness_support.hpp"
#include "test_support.hpp"
#include "zinc.h"
#include "program_paths.hpp"

namespace {

using zinc::test::ChannelGuard;
using zinc::test::create_with_reader;
using zinc::test::ObjectGuard;
using zinc::test::RegionGuard;
using zinc::test::sleepers_at;
using zinc::test::sleepers_of;
using zinc::test::unique_name;

// A wait long enough that only a lost wake-up (or a hang) reaches it.
constexpr uint32_t kLongMs = 10000;

pid_t this_thread_id() {
  return static_cast<pid_t>(syscall(SYS_gettid));
}

class SetGuard {
 public:
  SetGuard() { EXPECT_EQ(zinc_wait_set_create(&set), ZINC_OK) << zinc_last_error_message(); }
  SetGuard(const SetGuard&) = delete;
  SetGuard& operator=(const SetGuard&) = delete;
  ~SetGuard() { zinc_wait_set_close(set); }
  operator ZincWaitSet() const { return set; }
  ZincWaitSet set = nullptr;
};

// The keys one wait reports (empty on timeout; a failure fails the test).
std::vector<uint64_t> wait_keys(ZincWaitSet set, uint32_t timeout_ms, uint32_t max_keys = 64) {
  std::vector<uint64_t> keys(max_keys);
  const int32_t n = zinc_wait_set_wait(set, timeout_ms, keys.data(), max_keys);
  if (n == ZINC_ETIMEDOUT) return {};
  EXPECT_GT(n, 0) << zinc_last_error_message();
  keys.resize(n > 0 ? static_cast<size_t>(n) : 0);
  std::sort(keys.begin(), keys.end());
  return keys;
}

void commit_frame(ZincChannel writer, uint8_t byte) {
  ZincChannelFrame frame{};
  ASSERT_EQ(zinc_channel_acquire(writer, 1000, &frame), ZINC_OK) << zinc_last_error_message();
  std::memset(frame.data, byte, frame.length);
  ASSERT_EQ(zinc_channel_commit(writer, frame.length), ZINC_OK);
}

// A thread blocked in zinc_wait_set_wait, with its result.
class Waiter {
 public:
  Waiter(ZincWaitSet set, uint32_t timeout_ms) {
    thread_ = std::thread([this, set, timeout_ms] {
      tid_ = this_thread_id();
      keys_.resize(64);
      result_ = zinc_wait_set_wait(set, timeout_ms, keys_.data(), 64);
      done_ = true;
    });
  }
  ~Waiter() {
    if (thread_.joinable()) thread_.join();
  }
  // Whether the thread is asleep in the kernel (futex_waitv) within 5 s.
  bool asleep() { return zinc::test::await_futex_sleep(tid_); }
  int32_t result() {
    thread_.join();
    return result_;
  }
  uint64_t first_key() const { return keys_[0]; }
  bool done() const { return done_; }

 private:
  std::thread thread_;
  std::atomic<pid_t> tid_{0};
  std::vector<uint64_t> keys_;
  std::atomic<int32_t> result_{0};
  std::atomic<bool> done_{false};
};

// ---- regions ----------------------------------------------------------------

TEST(WaitSet, empty_set_times_out) {
  SetGuard set;
  uint64_t key = 0;
  EXPECT_EQ(zinc_wait_set_wait(set, 0, &key, 1), ZINC_ETIMEDOUT);
  EXPECT_EQ(zinc_wait_set_wait(set, 20, &key, 1), ZINC_ETIMEDOUT);
}

TEST(WaitSet, notified_region_is_reported_by_its_key) {
  ObjectGuard name(unique_name("ws-region"));
  RegionGuard a, b;
  ASSERT_EQ(zinc_create(name.c_str(), zinc_page_size(), a.out()), ZINC_OK);
  ObjectGuard other(unique_name("ws-region-b"));
  ASSERT_EQ(zinc_create(other.c_str(), zinc_page_size(), b.out()), ZINC_OK);
  SetGuard set;
  ASSERT_EQ(zinc_wait_set_add_region(set, a, 11), ZINC_OK);
  ASSERT_EQ(zinc_wait_set_add_region(set, b, 22), ZINC_OK);
  EXPECT_TRUE(wait_keys(set, 0).empty());
  zinc_notify(b);
  EXPECT_EQ(wait_keys(set, kLongMs), std::vector<uint64_t>{22});
}

TEST(WaitSet, region_notification_is_reported_once) {
  ObjectGuard name(unique_name("ws-once"));
  RegionGuard region;
  ASSERT_EQ(zinc_create(name.c_str(), zinc_page_size(), region.out()), ZINC_OK);
  SetGuard set;
  ASSERT_EQ(zinc_wait_set_add_region(set, region, 1), ZINC_OK);
  zinc_notify(region);
  zinc_notify(region);
  EXPECT_EQ(wait_keys(set, kLongMs), std::vector<uint64_t>{1});
  EXPECT_TRUE(wait_keys(set, 0).empty());
  // The set's report does not consume the handle's notification.
  EXPECT_EQ(zinc_try_wait(region), ZINC_OK);
}

TEST(WaitSet, notification_the_handle_has_not_consumed_is_reported_at_add) {
  ObjectGuard name(unique_name("ws-pending"));
  RegionGuard region;
  ASSERT_EQ(zinc_create(name.c_str(), zinc_page_size(), region.out()), ZINC_OK);
  zinc_notify(region);
  SetGuard set;
  ASSERT_EQ(zinc_wait_set_add_region(set, region, 5), ZINC_OK);
  EXPECT_EQ(wait_keys(set, 0), std::vector<uint64_t>{5});
}

// The crux of §11.2: a notifier skips FUTEX_WAKE when no sleeper is
// registered. Here every handle of the region is counted and nobody else
// waits, so a set that slept without registering would miss this notify
// and sleep for kLongMs. The notify comes only once the waiting thread is
// asleep in futex_waitv, so the wake (not a re-check) is what ends the wait.
TEST(WaitSet, notify_wakes_a_set_asleep_in_the_kernel) {
  ObjectGuard name(unique_name("ws-registered"));
  RegionGuard owner, member;
  ASSERT_EQ(zinc_create(name.c_str(), zinc_page_size(), owner.out()), ZINC_OK);
  ASSERT_EQ(zinc_open(name.c_str(), member.out()), ZINC_OK);
  SetGuard set;
  ASSERT_EQ(zinc_wait_set_mechanism(set), ZINC_WAIT_SET_FUTEX_WAITV)
      << "this kernel has no futex_waitv; the polling fallback has its own test";
  ASSERT_EQ(zinc_wait_set_add_region(set, member, 7), ZINC_OK);
  Waiter waiter(set, kLongMs);
  ASSERT_TRUE(waiter.asleep());
  EXPECT_EQ(sleepers_of(owner), 1u) << "the set must count itself as a sleeper";
  zinc_notify(owner);
  EXPECT_EQ(waiter.result(), 1);
  EXPECT_EQ(waiter.first_key(), 7u);
  EXPECT_EQ(sleepers_of(owner), 0u) << "the set must leave the count as it found it";
}

TEST(WaitSet, notify_wakes_a_member_in_a_helper_threads_batch) {
  // 300 regions: three batches, two of them slept on by pool threads.
  constexpr size_t kRegions = 300;
  std::vector<std::unique_ptr<ObjectGuard>> names;
  std::vector<std::unique_ptr<RegionGuard>> regions;
  SetGuard set;
  for (size_t i = 0; i < kRegions; ++i) {
    names.push_back(std::make_unique<ObjectGuard>(unique_name("ws-batch")));
    regions.push_back(std::make_unique<RegionGuard>());
    ASSERT_EQ(zinc_create(names.back()->c_str(), zinc_page_size(), regions.back()->out()), ZINC_OK);
    ASSERT_EQ(zinc_wait_set_add_region(set, *regions.back(), 1000 + i), ZINC_OK);
  }
  for (size_t target : {size_t{299}, size_t{130}, size_t{0}}) {
    Waiter waiter(set, kLongMs);
    ASSERT_TRUE(waiter.asleep());
    EXPECT_EQ(sleepers_of(*regions[target]), 1u);
    zinc_notify(*regions[target]);
    EXPECT_EQ(waiter.result(), 1);
    EXPECT_EQ(waiter.first_key(), 1000 + target);
  }
  EXPECT_GE(zinc::core::multi_wait::pool_threads(), 2u);
}

TEST(WaitSet, more_ready_members_than_keys_are_all_reported_over_several_waits) {
  constexpr size_t kRegions = 10;
  std::vector<std::unique_ptr<ObjectGuard>> names;
  std::vector<std::unique_ptr<RegionGuard>> regions;
  SetGuard set;
  for (size_t i = 0; i < kRegions; ++i) {
    names.push_back(std::make_unique<ObjectGuard>(unique_name("ws-many")));
    regions.push_back(std::make_unique<RegionGuard>());
    ASSERT_EQ(zinc_create(names.back()->c_str(), zinc_page_size(), regions.back()->out()), ZINC_OK);
    ASSERT_EQ(zinc_wait_set_add_region(set, *regions.back(), i), ZINC_OK);
    zinc_notify(*regions.back());
  }
  std::vector<uint64_t> seen;
  for (int round = 0; round < 4; ++round) {
    for (uint64_t key : wait_keys(set, 0, 3)) seen.push_back(key);
  }
  std::sort(seen.begin(), seen.end());
  std::vector<uint64_t> all(kRegions);
  for (size_t i = 0; i < kRegions; ++i) all[i] = i;
  EXPECT_EQ(seen, all);
}

// ---- channels ---------------------------------------------------------------

TEST(WaitSet, lossless_reader_is_ready_until_the_frame_is_read) {
  ObjectGuard name(unique_name("ws-lossless"));
  ChannelGuard writer, reader;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 4, 64, 2, 0, writer.out()),
            ZINC_OK);
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_OK);
  SetGuard set;
  ASSERT_EQ(zinc_wait_set_add_channel(set, reader, 3), ZINC_OK);
  EXPECT_TRUE(wait_keys(set, 0).empty());
  commit_frame(writer, 1);
  EXPECT_EQ(wait_keys(set, kLongMs), std::vector<uint64_t>{3});
  EXPECT_EQ(wait_keys(set, 0), std::vector<uint64_t>{3}) << "level-triggered until read";
  ZincChannelFrame frame{};
  ASSERT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_OK);
  EXPECT_TRUE(wait_keys(set, 0).empty()) << "a reader holding a frame is not ready";
  ASSERT_EQ(zinc_channel_release(reader), ZINC_OK);
  EXPECT_TRUE(wait_keys(set, 0).empty());
}

TEST(WaitSet, commit_wakes_a_set_asleep_on_a_reader) {
  ObjectGuard name(unique_name("ws-commit"));
  ChannelGuard writer, reader;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 4, 64, 2, 0, writer.out()),
            ZINC_OK);
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_OK);
  SetGuard set;
  ASSERT_EQ(zinc_wait_set_add_channel(set, reader, 9), ZINC_OK);
  Waiter waiter(set, kLongMs);
  ASSERT_TRUE(waiter.asleep());
  // Without it the commit's notify would skip the wake (the set's look at
  // the writer's liveness, once a second, would still find the frame).
  EXPECT_EQ(sleepers_at(zinc_channel_ptr(reader)), 1u) << "the set must count itself as a sleeper";
  commit_frame(writer, 1);
  EXPECT_EQ(waiter.result(), 1);
  EXPECT_EQ(waiter.first_key(), 9u);
}

TEST(WaitSet, latest_reader_is_ready_only_for_a_newer_frame) {
  ObjectGuard name(unique_name("ws-latest"));
  ChannelGuard writer, reader;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LATEST, 4, 64, 2, 0, writer.out()),
            ZINC_OK);
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_OK);
  SetGuard set;
  ASSERT_EQ(zinc_wait_set_add_channel(set, reader, 4), ZINC_OK);
  EXPECT_TRUE(wait_keys(set, 0).empty());
  commit_frame(writer, 1);
  commit_frame(writer, 2);
  EXPECT_EQ(wait_keys(set, 0), std::vector<uint64_t>{4});
  ZincChannelFrame frame{};
  ASSERT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_OK);
  ASSERT_EQ(zinc_channel_release(reader), ZINC_OK);
  EXPECT_TRUE(wait_keys(set, 0).empty()) << "the newest frame was read";
  commit_frame(writer, 3);
  EXPECT_EQ(wait_keys(set, 0), std::vector<uint64_t>{4});
}

// Damage that a read reports at once (docs/spec.md §11.1): the set calls
// the reader ready, so its caller learns of it from the read, instead of
// sleeping on a channel whose read would not wait.
TEST(WaitSet, reader_of_damaged_slot_metadata_is_ready_and_read_says_ebadmsg) {
  ObjectGuard name(unique_name("ws-damaged"));
  ChannelGuard writer, reader;
  ASSERT_EQ(create_with_reader(name, ZINC_CHANNEL_LATEST, writer, reader), ZINC_OK);
  commit_frame(writer, 1);
  ZincChannelFrame frame{};
  ASSERT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_OK);
  ASSERT_EQ(zinc_channel_release(reader), ZINC_OK);
  SetGuard set;
  ASSERT_EQ(zinc_wait_set_add_channel(set, reader, 5), ZINC_OK);
  ASSERT_TRUE(wait_keys(set, 0).empty()) << "the newest frame was read";
  // The reader's cursor moved past write_seq + 1: only damage puts it there.
  zinc::test::entry_cursor(reader, 0).store(zinc::test::write_seq_word(reader).load() + 5);
  EXPECT_EQ(wait_keys(set, 0), std::vector<uint64_t>{5});
  EXPECT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_EBADMSG);
}

// A forged write_seq with no newer frame behind it is not a frame: the
// latest reader's read says "nothing new", and so must the set.
TEST(WaitSet, latest_reader_with_a_forged_write_seq_and_no_frame_is_not_ready) {
  ObjectGuard name(unique_name("ws-forged-seq"));
  ChannelGuard writer, reader;
  ASSERT_EQ(create_with_reader(name, ZINC_CHANNEL_LATEST, writer, reader), ZINC_OK);
  SetGuard set;
  ASSERT_EQ(zinc_wait_set_add_channel(set, reader, 6), ZINC_OK);
  zinc::test::write_seq_word(reader).store(uint64_t{1} << 63);  // past 2^63 - 1
  ZincChannelFrame frame{};
  EXPECT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_EAGAIN) << "no slot holds a frame";
  EXPECT_TRUE(wait_keys(set, 0).empty());
}

// A lossless writer's room is counted from its own frame number, as its
// acquire counts it: a write_seq another process forged cannot make the set
// sleep on a writer whose acquire returns at once.
TEST(WaitSet, lossless_writer_room_ignores_a_forged_write_seq) {
  ObjectGuard name(unique_name("ws-writer-seq"));
  ChannelGuard writer, reader;
  ASSERT_EQ(create_with_reader(name, ZINC_CHANNEL_LOSSLESS, writer, reader), ZINC_OK);
  SetGuard set;
  ASSERT_EQ(zinc_wait_set_add_channel(set, writer, 9), ZINC_OK);
  zinc::test::write_seq_word(writer).store(1000);  // the reader's cursor is 0
  EXPECT_EQ(wait_keys(set, 0), std::vector<uint64_t>{9});
  ZincChannelFrame frame{};
  EXPECT_EQ(zinc_channel_acquire(writer, 0, &frame), ZINC_OK);
  EXPECT_EQ(frame.sequence, 0u) << "the writer counts its own frames";
}

// The writer's side of §11.2: a lossless writer's sleeper flag. A release
// wakes the writer only when writer_sleeping is set; the set sets it.
TEST(WaitSet, release_wakes_a_set_asleep_on_a_full_lossless_writer) {
  ObjectGuard name(unique_name("ws-room"));
  ChannelGuard writer, reader;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 2, 64, 1, 0, writer.out()),
            ZINC_OK);
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_OK);
  SetGuard set;
  ASSERT_EQ(zinc_wait_set_add_channel(set, writer, 8), ZINC_OK);
  EXPECT_EQ(wait_keys(set, 0), std::vector<uint64_t>{8}) << "an empty ring has room";
  commit_frame(writer, 1);
  commit_frame(writer, 2);
  EXPECT_TRUE(wait_keys(set, 0).empty()) << "the ring is full";
  Waiter waiter(set, kLongMs);
  ASSERT_TRUE(waiter.asleep());
  // writer_sleeping (docs/spec.md §10.2), an atomic word of the channel header.
  const auto* writer_sleeping =
      reinterpret_cast<const std::atomic<uint32_t>*>(zinc_channel_ptr(writer) + 48);
  EXPECT_EQ(writer_sleeping->load(), 1u) << "the set must raise the writer's sleeper flag";
  ZincChannelFrame frame{};
  ASSERT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_OK);
  ASSERT_EQ(zinc_channel_release(reader), ZINC_OK);
  EXPECT_EQ(waiter.result(), 1);
  EXPECT_EQ(waiter.first_key(), 8u);
  EXPECT_EQ(writer_sleeping->load(), 0u) << "writer_sleeping is clear once nobody sleeps";
}

TEST(WaitSet, reader_of_a_closed_channel_is_ready_and_read_says_epipe) {
  ObjectGuard name(unique_name("ws-epipe"));
  ChannelGuard writer, reader;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 4, 64, 2, 0, writer.out()),
            ZINC_OK);
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_OK);
  SetGuard set;
  ASSERT_EQ(zinc_wait_set_add_channel(set, reader, 6), ZINC_OK);
  Waiter waiter(set, kLongMs);
  ASSERT_TRUE(waiter.asleep());
  zinc_channel_close(writer.channel);  // the creator: the name goes, readers are told
  writer.channel = nullptr;
  EXPECT_EQ(waiter.result(), 1);
  EXPECT_EQ(waiter.first_key(), 6u);
  ZincChannelFrame frame{};
  EXPECT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_EPIPE);
}

TEST(WaitSet, reader_of_a_killed_writer_is_ready_once_the_name_is_gone) {
  ObjectGuard name(unique_name("ws-killed"));
  ChannelGuard owner, reader;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 4, 64, 2,
                                ZINC_CHANNEL_CREATE_READER, owner.out()),
            ZINC_OK);
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), reader.out()), ZINC_OK);
  int out[2];
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  const pid_t peer = fork();
  if (peer == 0) {
    dup2(out[1], STDOUT_FILENO);
    execl(zinc::test::paths::kChannelPeer, zinc::test::paths::kChannelPeer, "writer-mid-frame", name.c_str(), "1",
          "0", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  char line[32] = {};
  pollfd pfd{out[0], POLLIN, 0};
  ASSERT_EQ(poll(&pfd, 1, 20000), 1);
  ASSERT_GT(read(out[0], line, sizeof line - 1), 0);
  close(out[0]);
  ASSERT_EQ(std::string(line).rfind("mid-frame", 0), 0u) << line;
  kill(peer, SIGKILL);
  waitpid(peer, nullptr, 0);

  SetGuard set;
  ASSERT_EQ(zinc_wait_set_add_channel(set, reader, 12), ZINC_OK);
  EXPECT_TRUE(wait_keys(set, 0).empty()) << "a new writer may still take over";
  zinc_channel_close(owner.channel);  // the creator leaves: the name goes
  owner.channel = nullptr;
  // Nobody notifies a killed writer's readers: the set judges its peers.
  EXPECT_EQ(wait_keys(set, kLongMs), std::vector<uint64_t>{12});
  ZincChannelFrame frame{};
  EXPECT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_EPIPE);
}

// ---- closing ----------------------------------------------------------------

TEST(WaitSet, close_from_another_thread_cancels_the_wait) {
  ZincWaitSet set = nullptr;
  ASSERT_EQ(zinc_wait_set_create(&set), ZINC_OK);
  Waiter waiter(set, kLongMs);
  ASSERT_TRUE(waiter.asleep());
  zinc_wait_set_close(set);
  EXPECT_EQ(waiter.result(), ZINC_ECANCELED);
  uint64_t key = 0;
  EXPECT_EQ(zinc_wait_set_wait(set, 0, &key, 1), ZINC_EINVAL) << "a closed set";
  zinc_wait_set_close(set);  // a second close is ignored
}

TEST(WaitSet, member_closed_while_waiting_is_reported_once_and_dropped) {
  ObjectGuard name(unique_name("ws-member-closed"));
  ChannelGuard writer;
  ZincChannel reader = nullptr;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 4, 64, 2, 0, writer.out()),
            ZINC_OK);
  ASSERT_EQ(zinc_channel_open_reader(name.c_str(), &reader), ZINC_OK);
  SetGuard set;
  ASSERT_EQ(zinc_wait_set_add_channel(set, reader, 77), ZINC_OK);
  Waiter waiter(set, kLongMs);
  ASSERT_TRUE(waiter.asleep());
  zinc_channel_close(reader);  // returns only once the set let go of it
  EXPECT_EQ(waiter.result(), 1);
  EXPECT_EQ(waiter.first_key(), 77u);
  EXPECT_TRUE(wait_keys(set, 0).empty()) << "reported once, then dropped";
  EXPECT_EQ(zinc_wait_set_remove(set, reader), ZINC_ENOENT);
}

TEST(WaitSet, region_closed_while_waiting_is_reported) {
  ObjectGuard name(unique_name("ws-region-closed"));
  ZincHandle region = nullptr;
  ASSERT_EQ(zinc_create(name.c_str(), zinc_page_size(), &region), ZINC_OK);
  SetGuard set;
  ASSERT_EQ(zinc_wait_set_add_region(set, region, 31), ZINC_OK);
  Waiter waiter(set, kLongMs);
  ASSERT_TRUE(waiter.asleep());
  zinc_close(region);
  EXPECT_EQ(waiter.result(), 1);
  EXPECT_EQ(waiter.first_key(), 31u);
}

TEST(WaitSet, interrupt_ends_one_wait_with_eagain) {
  SetGuard set;
  Waiter waiter(set, kLongMs);
  ASSERT_TRUE(waiter.asleep());
  ASSERT_EQ(zinc_wait_set_interrupt(set), ZINC_OK);
  EXPECT_EQ(waiter.result(), ZINC_EAGAIN);
  uint64_t key = 0;
  EXPECT_EQ(zinc_wait_set_wait(set, 0, &key, 1), ZINC_ETIMEDOUT) << "one interrupt, one wait";
  ASSERT_EQ(zinc_wait_set_interrupt(set), ZINC_OK);  // none waits: the next wait answers it
  EXPECT_EQ(zinc_wait_set_wait(set, kLongMs, &key, 1), ZINC_EAGAIN);
  EXPECT_EQ(zinc_wait_set_interrupt(nullptr), ZINC_EINVAL);
}

// ---- signals ----------------------------------------------------------------

// How a set sleeps: one futex_waitv, batches in pool threads, or polling.
enum class Sleep { kOneCall, kBatches, kPolling };

// A set of regions that sleeps as `how` does, for the signal tests.
class SleepingSet {
 public:
  explicit SleepingSet(Sleep how) {
    if (how == Sleep::kPolling) ::setenv("ZINC_WAIT_SET", "poll", 1);
    EXPECT_EQ(zinc_wait_set_create(&set_), ZINC_OK);
    ::unsetenv("ZINC_WAIT_SET");
    const size_t regions = how == Sleep::kBatches ? 300 : 1;  // 300: three batches
    for (size_t i = 0; i < regions; ++i) {
      names_.push_back(std::make_unique<ObjectGuard>(unique_name("ws-signal")));
      regions_.push_back(std::make_unique<RegionGuard>());
      EXPECT_EQ(zinc_create(names_.back()->c_str(), zinc_page_size(), regions_.back()->out()),
                ZINC_OK);
      EXPECT_EQ(zinc_wait_set_add_region(set_, *regions_.back(), i), ZINC_OK);
    }
  }
  SleepingSet(const SleepingSet&) = delete;
  SleepingSet& operator=(const SleepingSet&) = delete;
  ~SleepingSet() { zinc_wait_set_close(set_); }
  operator ZincWaitSet() const { return set_; }

 private:
  ZincWaitSet set_ = nullptr;
  std::vector<std::unique_ptr<ObjectGuard>> names_;
  std::vector<std::unique_ptr<RegionGuard>> regions_;
};

// Installs a SIGUSR1 handler that only counts, with or without SA_RESTART,
// for the test's lifetime.
class CountingHandler {
 public:
  explicit CountingHandler(bool restart) {
    struct sigaction action {};
    action.sa_handler = [](int) { ++caught; };
    sigemptyset(&action.sa_mask);
    action.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGUSR1, &action, &previous_);
    caught = 0;
  }
  CountingHandler(const CountingHandler&) = delete;
  CountingHandler& operator=(const CountingHandler&) = delete;
  ~CountingHandler() { sigaction(SIGUSR1, &previous_, nullptr); }
  static inline std::atomic<int> caught{0};

 private:
  struct sigaction previous_ {};
};

class WaitSetSignals : public ::testing::TestWithParam<Sleep> {
 protected:
  void SetUp() override {
    if (GetParam() != Sleep::kPolling && !zinc::core::futex::wait_any_available()) {
      GTEST_SKIP() << "no futex_waitv here; the polling case runs";
    }
  }
};

TEST_P(WaitSetSignals, interruptible_wait_returns_eagain_when_a_handler_ran) {
  SleepingSet set(GetParam());
  CountingHandler handler(false);
  std::atomic<pid_t> tid{0};
  std::atomic<int32_t> result{1};
  std::thread waiter([&] {
    tid = this_thread_id();
    uint64_t keys[4];
    result = zinc_wait_set_wait_interruptible(set, kLongMs, keys, 4);
  });
  ASSERT_TRUE(zinc::test::await_futex_sleep(tid));
  // A signal that lands while the set looks, between two sleeps (the
  // polling fallback's are short), cannot end a sleep: send until one does.
  const auto sent = std::chrono::steady_clock::now();
  while (result.load() == 1 && std::chrono::steady_clock::now() - sent < std::chrono::seconds(2)) {
    pthread_kill(waiter.native_handle(), SIGUSR1);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  waiter.join();
  EXPECT_EQ(result.load(), ZINC_EAGAIN) << zinc_last_error_message();
  EXPECT_GE(CountingHandler::caught.load(), 1);
  EXPECT_LT(std::chrono::steady_clock::now() - sent, std::chrono::seconds(3))
      << "no signal ended the sleep";
  uint64_t key = 0;
  EXPECT_EQ(zinc_wait_set_wait_interruptible(set, 0, &key, 1), ZINC_ETIMEDOUT)
      << "a signal is no member: nothing is left ready";
}

TEST_P(WaitSetSignals, plain_wait_sleeps_through_a_signal_storm_to_its_timeout) {
  SleepingSet set(GetParam());
  CountingHandler handler(false);
  std::atomic<bool> done{false};
  std::atomic<int32_t> result{1};
  const auto start = std::chrono::steady_clock::now();
  std::thread waiter([&] {
    uint64_t keys[4];
    result = zinc_wait_set_wait(set, 300, keys, 4);
    done = true;
  });
  while (!done) {
    pthread_kill(waiter.native_handle(), SIGUSR1);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  waiter.join();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(result.load(), ZINC_ETIMEDOUT) << zinc_last_error_message();
  EXPECT_GE(elapsed, std::chrono::milliseconds(300));
  EXPECT_LT(elapsed, std::chrono::seconds(3));
  EXPECT_GT(CountingHandler::caught.load(), 10) << "the storm did not reach the waiter";
}

TEST_P(WaitSetSignals, interruptible_wait_still_reports_a_member) {
  SleepingSet set(GetParam());
  ObjectGuard name(unique_name("ws-signal-member"));
  RegionGuard owner, member;
  ASSERT_EQ(zinc_create(name.c_str(), zinc_page_size(), owner.out()), ZINC_OK);
  ASSERT_EQ(zinc_open(name.c_str(), member.out()), ZINC_OK);
  ASSERT_EQ(zinc_wait_set_add_region(set, member, 9999), ZINC_OK);
  std::atomic<pid_t> tid{0};
  std::atomic<int32_t> result{1};
  uint64_t keys[4] = {};
  std::thread waiter([&] {
    tid = this_thread_id();
    result = zinc_wait_set_wait_interruptible(set, kLongMs, keys, 4);
  });
  ASSERT_TRUE(zinc::test::await_futex_sleep(tid));
  zinc_notify(owner);
  waiter.join();
  EXPECT_EQ(result.load(), 1);
  EXPECT_EQ(keys[0], 9999u);
}

INSTANTIATE_TEST_SUITE_P(Sleeps, WaitSetSignals,
                         ::testing::Values(Sleep::kOneCall, Sleep::kBatches, Sleep::kPolling),
                         [](const ::testing::TestParamInfo<Sleep>& info) {
                           switch (info.param) {
                             case Sleep::kOneCall: return std::string("one_futex_waitv");
                             case Sleep::kBatches: return std::string("batches_in_pool_threads");
                             case Sleep::kPolling: return std::string("polling_fallback");
                           }
                           return std::string("unknown");
                         });

// ---- membership and arguments ---------------------------------------------

TEST(WaitSet, bad_arguments_are_refused_with_a_message) {
  ObjectGuard name(unique_name("ws-args"));
  RegionGuard region;
  ASSERT_EQ(zinc_create(name.c_str(), zinc_page_size(), region.out()), ZINC_OK);
  SetGuard set;
  uint64_t key = 0;
  EXPECT_EQ(zinc_wait_set_create(nullptr), ZINC_EINVAL);
  EXPECT_EQ(zinc_wait_set_add_region(nullptr, region, 1), ZINC_EINVAL);
  EXPECT_EQ(zinc_wait_set_add_region(set, nullptr, 1), ZINC_EINVAL);
  EXPECT_EQ(zinc_wait_set_add_channel(set, region, 1), ZINC_EINVAL) << "a region is no channel";
  EXPECT_NE(std::string(zinc_last_error_message()).find("channel"), std::string::npos);
  EXPECT_EQ(zinc_wait_set_add_region(reinterpret_cast<ZincWaitSet>(region.handle), region, 1),
            ZINC_EINVAL)
      << "a region handle is no set";
  EXPECT_EQ(zinc_wait_set_wait(set, 0, nullptr, 1), ZINC_EINVAL);
  EXPECT_EQ(zinc_wait_set_wait(set, 0, &key, 0), ZINC_EINVAL);
  EXPECT_EQ(zinc_wait_set_remove(set, region), ZINC_ENOENT);
  ASSERT_EQ(zinc_wait_set_add_region(set, region, 1), ZINC_OK);
  EXPECT_EQ(zinc_wait_set_add_region(set, region, 2), ZINC_EEXIST);
  EXPECT_EQ(zinc_wait_set_remove(set, region), ZINC_OK);
  EXPECT_EQ(zinc_wait_set_mechanism(nullptr), ZINC_EINVAL);
}

TEST(WaitSet, removed_member_is_no_longer_reported) {
  ObjectGuard name(unique_name("ws-removed"));
  RegionGuard region;
  ASSERT_EQ(zinc_create(name.c_str(), zinc_page_size(), region.out()), ZINC_OK);
  SetGuard set;
  ASSERT_EQ(zinc_wait_set_add_region(set, region, 1), ZINC_OK);
  ASSERT_EQ(zinc_wait_set_remove(set, region), ZINC_OK);
  zinc_notify(region);
  EXPECT_TRUE(wait_keys(set, 0).empty());
}

TEST(WaitSet, add_from_another_thread_wakes_the_wait_to_include_the_member) {
  ObjectGuard name(unique_name("ws-add-late"));
  RegionGuard region;
  ASSERT_EQ(zinc_create(name.c_str(), zinc_page_size(), region.out()), ZINC_OK);
  zinc_notify(region);  // pending: reported as soon as the set has it
  SetGuard set;
  Waiter waiter(set, kLongMs);
  ASSERT_TRUE(waiter.asleep());
  ASSERT_EQ(zinc_wait_set_add_region(set, region, 44), ZINC_OK);
  EXPECT_EQ(waiter.result(), 1);
  EXPECT_EQ(waiter.first_key(), 44u);
}

// ---- the descriptor -----------------------------------------------------------

bool readable(int fd, int timeout_ms) {
  pollfd pfd{fd, POLLIN, 0};
  return poll(&pfd, 1, timeout_ms) == 1 && (pfd.revents & POLLIN) != 0;
}

TEST(WaitSet, fd_is_readable_while_a_member_is_ready_and_a_wait_clears_it) {
  ObjectGuard name(unique_name("ws-fd"));
  RegionGuard region;
  ASSERT_EQ(zinc_create(name.c_str(), zinc_page_size(), region.out()), ZINC_OK);
  SetGuard set;
  ASSERT_EQ(zinc_wait_set_add_region(set, region, 2), ZINC_OK);
  const int fd = zinc_wait_set_fd(set);
  ASSERT_GE(fd, 0) << zinc_last_error_message();
  EXPECT_EQ(zinc_wait_set_fd(set), fd) << "one descriptor per set";
  EXPECT_FALSE(readable(fd, 0));
  zinc_notify(region);
  EXPECT_TRUE(readable(fd, kLongMs));
  EXPECT_EQ(wait_keys(set, 0), std::vector<uint64_t>{2});
  EXPECT_FALSE(readable(fd, 0)) << "the wait cleared it";
  zinc_notify(region);
  EXPECT_TRUE(readable(fd, kLongMs)) << "and the set's thread looks again";
  EXPECT_EQ(wait_keys(set, 0), std::vector<uint64_t>{2});
}

// ---- the fallback -------------------------------------------------------------

TEST(WaitSet, polling_fallback_reports_regions_and_channels) {
  ::setenv("ZINC_WAIT_SET", "poll", 1);
  SetGuard set;
  ::unsetenv("ZINC_WAIT_SET");
  ASSERT_EQ(zinc_wait_set_mechanism(set), ZINC_WAIT_SET_POLL);
  ObjectGuard region_name(unique_name("ws-poll-region"));
  ObjectGuard channel_name(unique_name("ws-poll-channel"));
  RegionGuard region;
  ChannelGuard writer, reader;
  ASSERT_EQ(zinc_create(region_name.c_str(), zinc_page_size(), region.out()), ZINC_OK);
  ASSERT_EQ(
      zinc_channel_create(channel_name.c_str(), ZINC_CHANNEL_LOSSLESS, 4, 64, 2, 0, writer.out()),
      ZINC_OK);
  ASSERT_EQ(zinc_channel_open_reader(channel_name.c_str(), reader.out()), ZINC_OK);
  ASSERT_EQ(zinc_wait_set_add_region(set, region, 1), ZINC_OK);
  ASSERT_EQ(zinc_wait_set_add_channel(set, reader, 2), ZINC_OK);
  {
    Waiter waiter(set, kLongMs);
    ASSERT_TRUE(waiter.asleep());  // between two looks
    zinc_notify(region);
    EXPECT_EQ(waiter.result(), 1);
    EXPECT_EQ(waiter.first_key(), 1u);
  }
  {
    Waiter waiter(set, kLongMs);
    ASSERT_TRUE(waiter.asleep());
    commit_frame(writer, 1);
    EXPECT_EQ(waiter.result(), 1);
    EXPECT_EQ(waiter.first_key(), 2u);
  }
  EXPECT_EQ(sleepers_of(region), 0u) << "a polling set registers nowhere";
}

TEST(WaitSet, polling_fallback_close_cancels_the_wait) {
  ::setenv("ZINC_WAIT_SET", "poll", 1);
  ZincWaitSet set = nullptr;
  ASSERT_EQ(zinc_wait_set_create(&set), ZINC_OK);
  ::unsetenv("ZINC_WAIT_SET");
  Waiter waiter(set, kLongMs);
  ASSERT_TRUE(waiter.asleep());
  zinc_wait_set_close(set);
  EXPECT_EQ(waiter.result(), ZINC_ECANCELED);
}

}  // namespace
