// Channel liveness across pid namespaces (issue 18, docs/spec.md §4.5):
// writers and readers in containers that share /dev/shm but not pids.
// Every judgement here must come out the same whichever side of the
// namespace boundary the judge is on. A participant in the namespace runs
// at a chosen pid there: 1 or 2 (what container processes usually are) or
// a pid no host process has (so a pid-based judge on the host calls it dead).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "liveness_peers.hpp"
#include "liveness_support.hpp"
#include "test_support.hpp"
#include "zinc.h"

namespace {

using zinc::test::ChannelGuard;
using zinc::test::commit_filled;
using zinc::test::dead_pid;
using zinc::test::ExitedMainThreadProcess;
using zinc::test::filled_with;
using zinc::test::LineLink;
using zinc::test::NamespacedProcess;
using zinc::test::ObjectGuard;
using zinc::test::said;
using zinc::test::unique_name;

constexpr uint32_t kSlotSize = 64;

class PidNamespaceChannel : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string reason = zinc::test::pid_namespace_unavailable_reason();
    if (!reason.empty()) GTEST_SKIP() << reason;
  }
};

// Issue 18 point 1, namespaced judge: a lossless writer in another pid
// namespace, held back by a live host reader that holds frame 0, must time
// out; it must not take the reader's entry and overwrite the held frame.
TEST_F(PidNamespaceChannel, NamespacedWriterTimesOutBehindLiveHostReaderHoldingAFrame) {
  ObjectGuard name(unique_name("ns-writer-held"));
  ChannelGuard reader;
  ASSERT_EQ(zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 2, kSlotSize, 2,
                                ZINC_CHANNEL_CREATE_READER, reader.out()),
            ZINC_OK);
  NamespacedProcess writer(
      [&](LineLink& link) {
        ZincChannel w = nullptr;
        const int32_t rc = zinc_channel_open_writer(name.c_str(), &w);
        link.send(said("open", rc));
        if (rc != ZINC_OK) return 1;
        link.send(said("commit", commit_filled(w, 0x10)));
        link.send(said("commit", commit_filled(w, 0x11)));
        link.read_line();  // "acquire": the reader holds frame 0 now
        // Frame 2 reuses frame 0's slot. Try three times, as a writer that
        // keeps producing would, writing each frame it is given.
        for (uint8_t i = 0; i < 3; ++i) {
          const int32_t got = commit_filled(w, static_cast<uint8_t>(0x12 + i));
          link.send(said("acquire", got));
          if (got != ZINC_OK) break;
        }
        link.send("done");
        link.read_line();  // "exit"
        zinc_channel_close(w);
        return 0;
      },
      1);
  LineLink& link = writer.link();
  ASSERT_EQ(link.read_line(), said("open", ZINC_OK));
  ASSERT_EQ(link.read_line(), said("commit", ZINC_OK));
  ASSERT_EQ(link.read_line(), said("commit", ZINC_OK));
  ZincChannelFrame held{};
  ASSERT_EQ(zinc_channel_read(reader, 5000, &held), ZINC_OK);
  ASSERT_EQ(held.sequence, 0u);
  const std::vector<uint8_t> copy(held.data, held.data + held.length);
  ASSERT_TRUE(filled_with(held, 0x10));

  link.send("acquire");
  std::vector<std::string> answers;
  for (std::string line = link.read_line(); line != "done"; line = link.read_line()) {
    answers.push_back(line);
  }
  ASSERT_FALSE(answers.empty());
  EXPECT_EQ(answers.front(), said("acquire", ZINC_ETIMEDOUT))
      << "the namespaced writer judged the live host reader dead";
  EXPECT_EQ(answers.size(), 1u);
  EXPECT_TRUE(std::equal(copy.begin(), copy.end(), held.data))
      << "the held frame was overwritten: byte 0 is now 0x" << std::hex << int(held.data[0]);

  // The reader still owns its entry and goes on with frame 1, intact.
  EXPECT_EQ(zinc_channel_release(reader), ZINC_OK);
  ZincChannelFrame next{};
  ASSERT_EQ(zinc_channel_read(reader, 5000, &next), ZINC_OK);
  EXPECT_EQ(next.sequence, 1u);
  EXPECT_TRUE(filled_with(next, 0x11));
  EXPECT_EQ(zinc_channel_release(reader), ZINC_OK);
  link.send("exit");
  EXPECT_EQ(writer.wait_exit(), 0);
}

// Issue 18 point 1, host judge: a host writer held back by a live reader in
// another namespace (at a pid no host process has) times out and leaves
// the reader's held frame alone.
TEST_F(PidNamespaceChannel, HostWriterTimesOutBehindLiveNamespacedReaderHoldingAFrame) {
  ObjectGuard name(unique_name("ns-reader-held"));
  ChannelGuard writer;
  ASSERT_EQ(
      zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 2, kSlotSize, 2, 0, writer.out()),
      ZINC_OK);
  NamespacedProcess reader(
      [&](LineLink& link) {
        ZincChannel r = nullptr;
        const int32_t rc = zinc_channel_open_reader(name.c_str(), &r);
        link.send(said("open", rc));
        if (rc != ZINC_OK) return 1;
        ZincChannelFrame held{};
        const int32_t got_held = zinc_channel_read(r, 10'000, &held);
        const std::vector<uint8_t> copy(held.data, held.data + held.length);
        link.send(said("held", got_held));
        link.read_line();  // "check"
        link.send(std::equal(copy.begin(), copy.end(), held.data) ? "intact" : "changed");
        ZincChannelFrame next{};
        link.send(said("release", zinc_channel_release(r)));
        const int32_t got = zinc_channel_read(r, 5000, &next);
        link.send(said("next", got) + " " + std::to_string(got == 0 ? next.sequence : 99) + " " +
                  std::to_string(got == 0 && filled_with(next, 0x11)));
        if (got == ZINC_OK) zinc_channel_release(r);
        link.read_line();  // "exit"
        zinc_channel_close(r);
        return 0;
      },
      dead_pid());
  LineLink& link = reader.link();
  ASSERT_EQ(link.read_line(), said("open", ZINC_OK));
  ASSERT_EQ(commit_filled(writer, 0x10), ZINC_OK);
  ASSERT_EQ(commit_filled(writer, 0x11), ZINC_OK);
  ASSERT_EQ(link.read_line(), said("held", ZINC_OK));

  const int32_t rc = commit_filled(writer, 0x12);
  EXPECT_EQ(rc, ZINC_ETIMEDOUT) << "the host writer judged the live namespaced reader dead";
  if (rc == ZINC_OK) commit_filled(writer, 0x13);  // what a writer that goes on would do
  link.send("check");
  EXPECT_EQ(link.read_line(), "intact");
  EXPECT_EQ(link.read_line(), said("release", ZINC_OK));
  EXPECT_EQ(link.read_line(), said("next", ZINC_OK) + " 1 1");
  link.send("exit");
  EXPECT_EQ(reader.wait_exit(), 0);
}

// Issue 18 point 2, namespaced judge: a second writer in another namespace
// is refused while the host writer lives.
TEST_F(PidNamespaceChannel, SecondWriterInNamespaceIsRefusedWhileHostWriterLives) {
  ObjectGuard name(unique_name("ns-second-writer"));
  ChannelGuard writer;
  ASSERT_EQ(
      zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 4, kSlotSize, 2, 0, writer.out()),
      ZINC_OK);
  NamespacedProcess second(
      [&](LineLink& link) {
        ZincChannel w = nullptr;
        const int32_t rc = zinc_channel_open_writer(name.c_str(), &w);
        link.send(said("open", rc));
        // A writer it should never have become commits, as in the issue.
        if (rc == ZINC_OK) link.send(said("commit", commit_filled(w, 0x77)));
        link.read_line();  // "exit"
        zinc_channel_close(w);
        return 0;
      },
      1);
  EXPECT_EQ(second.link().read_line(), said("open", ZINC_EBUSY))
      << "two writers: the namespaced one took the live host writer's role";
  second.link().send("exit");
  EXPECT_EQ(second.wait_exit(), 0);
  EXPECT_EQ(commit_filled(writer, 0x10), ZINC_OK);
  ZincChannelInfo info{};
  ASSERT_EQ(zinc_channel_info(writer, &info), ZINC_OK);
  EXPECT_EQ(info.write_seq, 1u) << "another writer committed frames";
}

// Issue 18 point 2, host judge: a host process cannot take the writer role
// from a live writer in another namespace.
TEST_F(PidNamespaceChannel, SecondWriterOnHostIsRefusedWhileNamespacedWriterLives) {
  ObjectGuard name(unique_name("host-second-writer"));
  NamespacedProcess first(
      [&](LineLink& link) {
        ZincChannel w = nullptr;
        const int32_t rc =
            zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 4, kSlotSize, 2, 0, &w);
        link.send(said("create", rc));
        link.read_line();  // "commit"
        link.send(said("commit", commit_filled(w, 0x21)));
        link.read_line();  // "exit"
        zinc_channel_close(w);
        return 0;
      },
      dead_pid());
  ASSERT_EQ(first.link().read_line(), said("create", ZINC_OK));
  ChannelGuard second;
  EXPECT_EQ(zinc_channel_open_writer(name.c_str(), second.out()), ZINC_EBUSY)
      << "two writers: the host took the live namespaced writer's role";
  first.link().send("commit");
  EXPECT_EQ(first.link().read_line(), said("commit", ZINC_OK));
  first.link().send("exit");
  EXPECT_EQ(first.wait_exit(), 0);
}

// Issue 18 point 2, exited main thread: a writer process whose main thread
// called pthread_exit while a worker thread goes on writing keeps its role.
TEST(ExitedMainThreadChannel, SecondWriterIsRefusedWhileWorkerThreadOfWriterLives) {
  ObjectGuard name(unique_name("zombie-leader-writer"));
  // Made by the child's main thread, used by its worker after that exited.
  auto writer = std::make_shared<ZincChannel>(nullptr);
  ExitedMainThreadProcess first(
      [&name, writer](LineLink& link) {
        link.send(said("create", zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 4,
                                                     kSlotSize, 2, 0, writer.get())));
      },
      [writer](LineLink& link) {
        link.read_line(60'000);  // "commit"
        link.send(said("commit", commit_filled(*writer, 0x31)));
        link.read_line();  // "exit"
        zinc_channel_close(*writer);
        return 0;
      });
  ASSERT_EQ(first.link().read_line(), said("create", ZINC_OK));
  ChannelGuard second;
  EXPECT_EQ(zinc_channel_open_writer(name.c_str(), second.out()), ZINC_EBUSY)
      << "two writers: the writer whose main thread exited was judged dead";
  first.link().send("commit");
  EXPECT_EQ(first.link().read_line(), said("commit", ZINC_OK));
  first.link().send("exit");
  EXPECT_EQ(first.wait_exit(), 0);
}

// Issue 18 point 3: a reader that was pid 1 (or 2) in its namespace dies
// while the lossless writer on the host is held back by it. The writer must
// get room: the dead reader's entry is reclaimed within a generous bound.
void writer_gets_room_after_namespaced_reader_dies(pid_t reader_pid) {
  ObjectGuard name(unique_name("ns-reader-dies-" + std::to_string(reader_pid)));
  ChannelGuard writer;
  ASSERT_EQ(
      zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 2, kSlotSize, 1, 0, writer.out()),
      ZINC_OK);
  NamespacedProcess reader(
      [&](LineLink& link) {
        ZincChannel r = nullptr;
        link.send(said("open", zinc_channel_open_reader(name.c_str(), &r)) + " pid " +
                  std::to_string(getpid()));
        link.read_line();         // "die"
        kill(getpid(), SIGKILL);  // (a namespace's init is immune: the test kills it)
        return 1;
      },
      reader_pid);
  const std::string opened = reader.link().read_line();
  const std::string want = said("open", ZINC_OK) + " pid " + std::to_string(reader_pid);
#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer starts a runtime thread in the namespace's init, and a
  // thread takes an id from the same pid space: the reader may land on the
  // next pid. Then this scenario (a reader that was exactly pid 2) cannot be
  // set up in this build; the release and ASan builds run it.
  if (opened != want && opened.rfind(said("open", ZINC_OK) + " pid ", 0) == 0) {
    reader.kill_namespace();
    reader.wait_exit();
    GTEST_SKIP() << "pid " << reader_pid << " was taken in the new namespace under TSan (" << opened
                 << ")";
  }
#endif
  ASSERT_EQ(opened, want);
  ASSERT_EQ(commit_filled(writer, 0x10), ZINC_OK);
  ASSERT_EQ(commit_filled(writer, 0x11), ZINC_OK);
  ZincChannelFrame frame{};
  ASSERT_EQ(zinc_channel_acquire(writer, 0, &frame), ZINC_EAGAIN)
      << "the reader holds no frame back";
  // pid 1 is the namespace's init, which its own signals cannot kill: kill
  // the namespace from the host. A pid 2 kills itself; its init lives on.
  if (reader_pid == 1) {
    reader.kill_namespace();
  } else {
    reader.link().send("die");
  }
  EXPECT_EQ(reader.wait_exit(), 128 + SIGKILL);
  EXPECT_EQ(zinc_channel_acquire(writer, 10'000, &frame), ZINC_OK)
      << "the dead reader (pid " << reader_pid << " in its namespace) still holds the writer back";
}

TEST_F(PidNamespaceChannel, WriterGetsRoomWhenReaderThatWasPid1InItsNamespaceDies) {
  writer_gets_room_after_namespaced_reader_dies(1);
}

TEST_F(PidNamespaceChannel, WriterGetsRoomWhenReaderThatWasPid2InItsNamespaceDies) {
  writer_gets_room_after_namespaced_reader_dies(2);
}

}  // namespace
