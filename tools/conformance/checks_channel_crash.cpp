// channel.*: participants killed with SIGKILL (docs/spec.md §10.8), played by
// forked children of the check process: a dead reader neither holds the
// writer back nor keeps its entry, a frame whose writer died before its
// commit is never shown, and a dead writer's role can be taken. Required
// when the port exports the channel calls.
#include <unistd.h>

#include "channel_format.hpp"
#include "channel_support.hpp"
#include "format.hpp"
#include "peer.hpp"
#include "raw_object.hpp"

namespace zinc::conformance {
namespace {

// A child that joins channel `name` as a reader and stays until killed.
int32_t join_as_reader(const Api& api, const std::string& name) {
  ZincChannel reader = nullptr;
  return api.channel_open_reader(name.c_str(), &reader);
}

void dead_reader_stops_holding_back_the_writer(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  ChannelHandle writer = create_channel(ctx, g.name(), kLossless, 2, 64, 2);
  const Api& api = ctx.zinc;
  const std::string name = g.name();
  ChannelChild child([&api, &name] { return join_as_reader(api, name); });
  ctx.require_code("child: zinc_channel_open_reader", 0, child.result());
  for (uint32_t f = 0; f < 2; ++f) {
    if (!expect_write(ctx, writer.get(), 64, f)) return;
  }
  ZincChannelFrame frame{};
  ctx.expect_code("zinc_channel_acquire(0) with the child's reader 2 frames behind (2 slots)",
                  ZINC_EAGAIN, ctx.zinc.channel_acquire(writer.get(), 0, &frame));
  child.kill_and_reap();
  const int64_t start = monotonic_ms();
  const int32_t rc = ctx.zinc.channel_acquire(writer.get(), 5000, &frame);
  const int64_t elapsed = monotonic_ms() - start;
  ctx.expect_code("zinc_channel_acquire(5000) after the reader was killed (SIGKILL, reaped)", 0,
                  rc);
  if (rc == 0) {
    ctx.note("the writer went on " + std::to_string(elapsed) + " ms after the reader died");
    ctx.expect_code("zinc_channel_commit", 0, ctx.zinc.channel_commit(writer.get(), 64));
  }
}

void dead_readers_entry_goes_to_a_new_reader(CheckContext& ctx) {
  for (const uint32_t mode : {kLossless, kLatest}) {
    ObjectGuard g(ctx.unique_name());
    const std::string m = mode_name(mode) + ": ";
    ChannelHandle writer = create_channel(ctx, g.name(), mode, 3, 64, 1);
    if (!expect_write(ctx, writer.get(), 64, 1)) return;
    const Api& api = ctx.zinc;
    const std::string name = g.name();
    ChannelChild child([&api, &name] { return join_as_reader(api, name); });
    ctx.require_code(m + "child: zinc_channel_open_reader (max_readers 1)", 0, child.result());
    ChannelHandle refused(ctx.zinc);
    ctx.expect_code(m + "zinc_channel_open_reader while the child's reader lives", ZINC_EBUSY,
                    ctx.zinc.channel_open_reader(g.c_str(), refused.out()));
    child.kill_and_reap();
    ChannelHandle reader(ctx.zinc);
    ctx.expect_code(m + "zinc_channel_open_reader after the child was killed (SIGKILL, reaped)", 0,
                    ctx.zinc.channel_open_reader(g.c_str(), reader.out()));
  }
}

void writer_killed_mid_frame_is_never_shown(CheckContext& ctx) {
  for (const uint32_t mode : {kLossless, kLatest}) {
    ObjectGuard g(ctx.unique_name());
    const std::string m = mode_name(mode) + ": ";
    ChannelHandle reader =
        create_channel(ctx, g.name(), mode, 3, 100, 1, ZINC_CHANNEL_CREATE_READER);
    const Api& api = ctx.zinc;
    const std::string name = g.name();
    // The child commits frame 0, then dies with frame 1 acquired and filled.
    ChannelChild child([&api, &name] {
      ZincChannel writer = nullptr;
      int32_t rc = api.channel_open_writer(name.c_str(), &writer);
      if (rc == 0) rc = write_frame(api, writer, 1000, 100, 1);
      ZincChannelFrame frame{};
      if (rc == 0) rc = api.channel_acquire(writer, 1000, &frame);
      if (rc == 0) fill_pattern(frame.data, 100, 2);
      return rc;
    });
    ctx.require_code(m + "child: open_writer, commit frame 0, acquire and fill frame 1", 0,
                     child.result());
    child.kill_and_reap();
    expect_frame(ctx, m + "frame 0, committed before the writer died", reader.get(), 0, 100, 1);
    const ReadFrame r = read_frame(ctx.zinc, reader.get(), 0);
    ctx.expect(r.rc == ZINC_EAGAIN, m + "zinc_channel_read(0) after frame 0",
               describe_code(ZINC_EAGAIN) + " (frame 1 was never committed)",
               r.rc == 0 ? "frame " + std::to_string(r.sequence) + " of " +
                               std::to_string(r.length) + " bytes"
                         : describe_code(r.rc));
    // The dead writer's role is free to take; the new writer writes frame 1.
    ChannelHandle writer(ctx.zinc);
    if (!ctx.expect_code(m + "zinc_channel_open_writer after the writer was killed", 0,
                         ctx.zinc.channel_open_writer(g.c_str(), writer.out()))) {
      continue;
    }
    uint64_t sequence = 0;
    ctx.expect_code(m + "the new writer's first frame", 0,
                    write_frame(ctx.zinc, writer.get(), 1000, 60, 3, &sequence));
    ctx.expect_eq(m + "its sequence (the dead writer committed frame 0 only)", 1, sequence);
    expect_frame(ctx, m + "the new writer's frame", reader.get(), 1, 60, 3);
  }
}

void second_writer_in_another_process_is_busy(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  ChannelHandle writer = create_channel(ctx, g.name(), kLossless, 2, 64, 1);
  const Api& api = ctx.zinc;
  const std::string name = g.name();
  ChannelChild child([&api, &name] {
    ZincChannel second = nullptr;
    return api.channel_open_writer(name.c_str(), &second);
  });
  ctx.expect_code("child: zinc_channel_open_writer while this process is the writer", ZINC_EBUSY,
                  child.result());
  // The writer word names this process, active (§10.3).
  const ChannelFields h = decode_channel_header(read_data_area(g.name(), 128).data());
  ctx.expect(owner_holder(h.writer) == active_owner(getpid()),
             "the writer owner word (bytes 56..63)",
             hex(active_owner(getpid())) + " (this pid, active; bits 33-63 a generation)",
             hex(h.writer));
}

// docs/spec.md §10.3, the pid rule (a region without liveness locks): an
// active owner word names a live process, but whether that process is the
// holder depends on when it started. Started more than 2 s after joined_at
// and not mapping the region: a recycled pid, the holder is dead and its
// role is taken over. Started before joined_at: the holder, alive (-16).
void recycled_pid_in_a_plain_channel_follows_the_pid_rule(CheckContext& ctx) {
  namespace o = channel_offset;
  // A live process that has nothing to do with the channel (forked before
  // anything is mapped): the process a recycled pid names.
  ChannelChild stranger([] { return 0; });
  ctx.require_code("a live process unrelated to the channel (a forked child)", 0,
                   stranger.result());
  const uint64_t word = active_owner(static_cast<int32_t>(stranger.pid())) | (uint64_t{2} << 33);
  const uint64_t hour_ago = realtime_ns() - 3600ULL * 1000000000ULL;
  const struct {
    uint64_t joined_at;
    int32_t expected;
    const char* when;
  } cases[] = {
      {hour_ago, 0, "an hour before it started (a recycled pid: its holder is dead)"},
      {realtime_ns(), ZINC_EBUSY, "after it started (the pid rule: the holder, alive)"},
  };
  for (const auto& c : cases) {
    ObjectGuard g(ctx.unique_name());
    PlainChannel channel = plain_channel(g.name(), kLossless, 4, 64, 2);
    channel.store(o::kWriter, 8, word);
    channel.store(o::kWriterJoinedAt, 8, c.joined_at);
    for (uint32_t i = 0; i < 2; ++i) {
      channel.store(channel.entry(i) + o::kEntryOwner, 8, word);
      channel.store(channel.entry(i) + o::kEntryJoinedAt, 8, c.joined_at);
    }
    plant_object(g.name(), channel.object, channel.object.size());
    const std::string owned = std::string(" of a flags-0 channel whose owner words name pid ") +
                              std::to_string(stranger.pid()) + ", joined " + c.when;
    ChannelHandle writer(ctx.zinc);
    ctx.expect_code("zinc_channel_open_writer" + owned, c.expected,
                    ctx.zinc.channel_open_writer(g.c_str(), writer.out()));
    ChannelHandle reader(ctx.zinc);
    ctx.expect_code("zinc_channel_open_reader (every entry taken)" + owned, c.expected,
                    ctx.zinc.channel_open_reader(g.c_str(), reader.out()));
  }
}

const RegisterChecks registered({
    {.name = "channel.dead_reader_stops_holding_back_the_writer",
     .summary = "a lossless writer held back by a reader in a child goes on within 5 s of the "
                "child's SIGKILL",
     .needs = channel_functions(),
     .run = dead_reader_stops_holding_back_the_writer},
    {.name = "channel.recycled_pid_in_a_plain_channel_follows_the_pid_rule",
     .summary = "flags-0 channel, owner words naming a live unrelated pid: joined an hour before "
                "it started, writer and readers take the roles over; joined after, -16",
     .section = "§10.3",
     .needs = channel_functions(),
     .run = recycled_pid_in_a_plain_channel_follows_the_pid_rule},
    {.name = "channel.dead_readers_entry_goes_to_a_new_reader",
     .summary = "max_readers 1: -16 while a child's reader lives, 0 once it was killed, in both "
                "modes",
     .needs = channel_functions(),
     .run = dead_readers_entry_goes_to_a_new_reader},
    {.name = "channel.writer_killed_mid_frame_is_never_shown",
     .summary = "a writer killed with a frame acquired and filled: readers see the frames before "
                "it only; a new writer takes the role and writes that frame anew",
     .needs = channel_functions(),
     .run = writer_killed_mid_frame_is_never_shown},
    {.name = "channel.second_writer_in_another_process_is_busy",
     .summary = "open_writer in a child while this process writes gives -16; the writer word is "
                "this pid with the active bit",
     .needs = channel_functions(),
     .run = second_writer_in_another_process_is_busy},
});

}  // namespace
}  // namespace zinc::conformance
