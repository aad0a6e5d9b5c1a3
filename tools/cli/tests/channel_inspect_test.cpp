// zinc inspect on channels: the channel header, the writer and each reader
// with its liveness and lag, typed frames, a corrupt channel header in the
// library's words, and a plain region with no channel section. Inspect only
// reads: the data area is byte for byte the same afterwards.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "cli_runner.hpp"
#include "scenario.hpp"
#include "test_support.hpp"
#include "zinc.h"

namespace zinc::cli::test {
namespace {

using zinc::test::object_path;
using zinc::test::ObjectGuard;
using zinc::test::unique_name;

std::vector<char> object_bytes(const std::string& name) {
  std::ifstream in(object_path(name), std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A reader of channel `name` in a child process, killed and reaped: its entry
// stays behind with a pid that no longer runs.
pid_t dead_reader(const std::string& name) {
  int ready[2];
  EXPECT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  if (child == 0) {
    ZincChannel reader = nullptr;
    const char rc = zinc_channel_open_reader(name.c_str(), &reader) == ZINC_OK ? 'y' : 'n';
    if (write(ready[1], &rc, 1) != 1) _exit(1);
    for (;;) pause();
  }
  close(ready[1]);
  char rc = 0;
  EXPECT_EQ(read(ready[0], &rc, 1), 1);
  close(ready[0]);
  EXPECT_EQ(rc, 'y');
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  return child;
}

void write_frames(ZincChannel writer, int count) {
  for (int i = 0; i < count; ++i) {
    ZincChannelFrame frame{};
    ASSERT_EQ(zinc_channel_acquire(writer, 1000, &frame), ZINC_OK);
    std::memset(frame.data, i, frame.length);
    ASSERT_EQ(zinc_channel_commit(writer, frame.length), ZINC_OK);
  }
}

TEST(CliInspectChannel, LosslessChannelShowsWriterReadersAndLag) {
  ObjectGuard g(unique_name("cli-chan-lossless"));
  ZincChannel writer = nullptr;
  ASSERT_EQ(zinc_channel_create(g.c_str(), ZINC_CHANNEL_LOSSLESS, 4, 64, 3, 0, &writer), ZINC_OK);
  ZincChannel reader = nullptr;
  ASSERT_EQ(zinc_channel_open_reader(g.c_str(), &reader), ZINC_OK);
  const pid_t dead = dead_reader(g.name());
  write_frames(writer, 4);
  ZincChannelFrame frame{};
  ASSERT_EQ(zinc_channel_read(reader, 0, &frame), ZINC_OK);
  ASSERT_EQ(zinc_channel_release(reader), ZINC_OK);
  const std::vector<char> before = object_bytes(g.name());

  const Result r = run_zinc({"inspect", g.name(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const JsonValue doc = JsonValue::parse(r.out);
  EXPECT_EQ(doc["kind"].str(), "channel");
  const JsonValue& c = doc["channel"];
  EXPECT_TRUE(c["valid"].boolean()) << r.out;
  EXPECT_EQ(c["mode"].str(), "lossless");
  EXPECT_EQ(c["slot_count"].num(), 4);
  EXPECT_EQ(c["slot_size"].num(), 64);
  EXPECT_EQ(c["max_readers"].num(), 3);
  EXPECT_TRUE(c["frame_type"].is_null());
  EXPECT_EQ(c["write_seq"].num(), 4);
  EXPECT_TRUE(c["latest_slot"].is_null());
  EXPECT_EQ(c["writer"]["pid"].num(), getpid());
  EXPECT_EQ(c["writer"]["state"].str(), "alive");
  ASSERT_EQ(c["readers"].array().size(), 2u) << r.out;
  for (const JsonValue& entry : c["readers"].array()) {
    if (entry["pid"].num() == getpid()) {
      EXPECT_EQ(entry["state"].str(), "alive");
      EXPECT_EQ(entry["cursor"].num(), 1);
      EXPECT_EQ(entry["lag"].num(), 3);
    } else {
      EXPECT_EQ(entry["pid"].num(), dead);
      EXPECT_EQ(entry["state"].str(), "dead");
      EXPECT_EQ(entry["cursor"].num(), 0);
      EXPECT_EQ(entry["lag"].num(), 4);
    }
  }
  EXPECT_EQ(object_bytes(g.name()), before) << "inspect changed the object";

  const Result text = run_zinc({"inspect", g.name()});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_TRUE(contains(text.out, "\nchannel in the data area\n  mode        1 (lossless)\n"))
      << text.out;
  EXPECT_TRUE(contains(text.out, "  write_seq   4 (frames committed)\n")) << text.out;
  EXPECT_TRUE(contains(text.out, "  writer      pid " + std::to_string(getpid()) + " (alive)\n"))
      << text.out;
  EXPECT_TRUE(
      contains(text.out, "pid " + std::to_string(getpid()) + " (alive), cursor 1, 3 behind\n"))
      << text.out;
  EXPECT_TRUE(contains(text.out, "pid " + std::to_string(dead) + " (dead), cursor 0, 4 behind\n"))
      << text.out;
  EXPECT_TRUE(contains(text.out, "\nchannel valid\n")) << text.out;

  const Result ls = run_zinc({"ls", "--prefix", g.name()});
  EXPECT_TRUE(contains(ls.out, "live (channel)")) << ls.out;
  EXPECT_EQ(ls_entry(run_zinc({"ls", "--prefix", g.name(), "--json"}).out, g.name())["kind"].str(),
            "channel");
  zinc_channel_close(reader);
  zinc_channel_close(writer);
}

TEST(CliInspectChannel, LatestChannelShowsTheNewestSlotAndAPin) {
  ObjectGuard g(unique_name("cli-chan-latest"));
  ZincChannel writer = nullptr;
  ASSERT_EQ(zinc_channel_create(g.c_str(), ZINC_CHANNEL_LATEST, 4, 32, 2, 0, &writer), ZINC_OK);
  ZincChannel reader = nullptr;
  ASSERT_EQ(zinc_channel_open_reader(g.c_str(), &reader), ZINC_OK);
  write_frames(writer, 3);
  ZincChannelFrame held{};
  ASSERT_EQ(zinc_channel_read(reader, 0, &held), ZINC_OK);
  ZincChannelInfo info{};
  ASSERT_EQ(zinc_channel_info(writer, &info), ZINC_OK);

  const Result r = run_zinc({"inspect", g.name(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const JsonValue doc = JsonValue::parse(r.out);
  const JsonValue& c = doc["channel"];
  EXPECT_EQ(c["mode"].str(), "latest");
  EXPECT_EQ(c["write_seq"].num(), 3);
  EXPECT_EQ(c["latest_slot"].num(), info.latest_slot);
  ASSERT_EQ(c["readers"].array().size(), 1u) << r.out;
  EXPECT_EQ(c["readers"][0]["held_slot"].num(), info.latest_slot) << "the reader pins the newest";
  EXPECT_EQ(c["readers"][0]["cursor"].num(), 3) << "latest: the last frame read + 1";

  const Result text = run_zinc({"inspect", g.name()});
  EXPECT_TRUE(contains(text.out, "  mode        2 (latest)\n")) << text.out;
  EXPECT_TRUE(contains(text.out, "  latest_slot " + std::to_string(info.latest_slot) + "\n"))
      << text.out;
  EXPECT_TRUE(contains(text.out, ", holds slot " + std::to_string(info.latest_slot) + "\n"))
      << text.out;
  zinc_channel_close(reader);
  zinc_channel_close(writer);
}

TEST(CliInspectChannel, TypedChannelShowsDtypeAndShape) {
  ObjectGuard g(unique_name("cli-chan-typed"));
  ZincChannelFrameType type{};
  std::memcpy(type.dtype, "<f4", 3);
  type.ndim = 2;
  type.shape[0] = 2;
  type.shape[1] = 3;
  ZincChannel writer = nullptr;
  ASSERT_EQ(zinc_channel_create_typed(g.c_str(), ZINC_CHANNEL_LOSSLESS, 2, &type, 1, 0, &writer),
            ZINC_OK);
  const Result r = run_zinc({"inspect", g.name(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const JsonValue doc = JsonValue::parse(r.out);
  const JsonValue& c = doc["channel"];
  EXPECT_EQ(c["slot_size"].num(), 24);
  EXPECT_EQ(c["frame_type"]["dtype"].str(), "<f4");
  ASSERT_EQ(c["frame_type"]["shape"].array().size(), 2u);
  EXPECT_EQ(c["frame_type"]["shape"][0].num(), 2);
  EXPECT_EQ(c["frame_type"]["shape"][1].num(), 3);
  EXPECT_TRUE(c["readers"].array().empty());
  const Result text = run_zinc({"inspect", g.name()});
  EXPECT_TRUE(contains(text.out, "  frame_type  \"<f4\" (2, 3)\n")) << text.out;
  EXPECT_TRUE(contains(text.out, "  readers     none\n")) << text.out;
  zinc_channel_close(writer);
}

TEST(CliInspectChannel, CorruptChannelHeaderSaysWhyInTheLibrarysWords) {
  ObjectGuard g(unique_name("cli-chan-corrupt"));
  ZincChannel writer = nullptr;
  ASSERT_EQ(zinc_channel_create(g.c_str(), ZINC_CHANNEL_LOSSLESS, 2, 64, 1, 0, &writer), ZINC_OK);
  // Version 9 in the channel header (data-area bytes 8..9).
  const int fd = open(object_path(g.name()).c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  const uint16_t version = 9;
  ASSERT_EQ(pwrite(fd, &version, sizeof version, static_cast<off_t>(kPage) + 8), 2);
  std::vector<uint8_t> header(ZINC_CHANNEL_HEADER_SIZE);
  ASSERT_EQ(pread(fd, header.data(), header.size(), static_cast<off_t>(kPage)), 128);
  close(fd);
  ASSERT_EQ(zinc_check_channel_header(header.data(), header.size(), 8 * kPage, nullptr),
            ZINC_EBADMSG);
  const std::string library_says = zinc_last_error_message();
  ZincChannel reader = nullptr;
  ASSERT_EQ(zinc_channel_open_reader(g.c_str(), &reader), ZINC_EBADMSG);

  const Result r = run_zinc({"inspect", g.name(), "--json"});
  EXPECT_EQ(r.exit_code, 4) << "the region is valid but its channel is damaged: " << r.err;
  const JsonValue doc = JsonValue::parse(r.out);
  const JsonValue& c = doc["channel"];
  EXPECT_FALSE(c["valid"].boolean());
  EXPECT_EQ(c["code"].num(), ZINC_EBADMSG);
  EXPECT_EQ(c["error"].str(), library_says);
  const Result text = run_zinc({"inspect", g.name()});
  EXPECT_TRUE(contains(text.out, "\nchannel invalid: " + library_says + "\n")) << text.out;
  zinc_channel_close(writer);
}

TEST(CliInspectChannel, PlainRegionHasNoChannelSection) {
  ObjectGuard g(unique_name("cli-chan-plain"));
  ZincHandle owner = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), kPage, &owner), ZINC_OK);
  std::memcpy(zinc_ptr(owner), "not a channel", 13);
  const Result r = run_zinc({"inspect", g.name(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const JsonValue doc = JsonValue::parse(r.out);
  EXPECT_EQ(doc["kind"].str(), "region");
  EXPECT_TRUE(doc["channel"].is_null());
  const Result text = run_zinc({"inspect", g.name()});
  EXPECT_FALSE(contains(text.out, "channel")) << text.out;
  const Result ls = run_zinc({"ls", "--prefix", g.name()});
  EXPECT_FALSE(contains(ls.out, "(channel)")) << ls.out;
  zinc_close(owner);
}

}  // namespace
}  // namespace zinc::cli::test
