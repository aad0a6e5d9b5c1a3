// channel.* at the edges a port gets wrong while the main checks pass
// (docs/spec.md §10): handles inherited through fork(), how soon a release
// wakes a held-back writer, slot sizes that are not multiples of 64, a latest
// writer stopped at random moments, and a latest writer resumed after a
// crash.
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "channel_format.hpp"
#include "channel_support.hpp"
#include "format.hpp"
#include "peer.hpp"
#include "raw_object.hpp"

namespace zinc::conformance {
namespace {

ChannelFields channel_header_now(const std::string& name) {
  const std::vector<uint8_t> area = read_data_area(name, kChannelHeaderSize);
  if (area.size() < kChannelHeaderSize) throw KitError("cannot read the channel header");
  return decode_channel_header(area.data());
}

// §10.9: a child's copies of the parent's handles refuse acquire, commit,
// read and release with EINVAL, and its close leaves the parent's roles.
void forked_child_cannot_use_the_parents_handles(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  ChannelHandle writer = create_channel(ctx, g.name(), kLossless, 4, 64, 2);
  ChannelHandle reader = open_reader(ctx, g.name());
  if (!expect_write(ctx, writer.get(), 64, 11)) return;
  std::fflush(nullptr);
  int fds[2];
  if (pipe(fds) != 0) throw KitError("pipe failed");
  const pid_t child = fork();
  if (child < 0) throw KitError("fork failed");
  if (child == 0) {
    close(fds[0]);
    ZincChannelFrame frame{};
    int32_t codes[3];
    codes[0] = ctx.zinc.channel_read(reader.get(), 0, &frame);
    codes[1] = ctx.zinc.channel_acquire(writer.get(), 0, &frame);
    codes[2] = ctx.zinc.channel_commit(writer.get(), 0);
    ctx.zinc.channel_close(reader.get());
    ctx.zinc.channel_close(writer.get());
    (void)!write(fds[1], codes, sizeof codes);
    _exit(0);
  }
  close(fds[1]);
  int32_t codes[3] = {INT32_MIN, INT32_MIN, INT32_MIN};
  const bool answered = read(fds[0], codes, sizeof codes) == sizeof codes;
  close(fds[0]);
  waitpid(child, nullptr, 0);
  ctx.require(answered, "the child", "reports its calls' codes", "died first");
  ctx.expect_code("zinc_channel_read(parent's reader, 0) in a fork() child", ZINC_EINVAL, codes[0]);
  ctx.expect_code("zinc_channel_acquire(parent's writer, 0) in a fork() child", ZINC_EINVAL,
                  codes[1]);
  ctx.expect_code("zinc_channel_commit(parent's writer, 0) in a fork() child", ZINC_EINVAL,
                  codes[2]);
  // The parent's reader still has frame 0 to read, and its writer still
  // writes: the child neither consumed nor released anything of theirs.
  expect_frame(ctx, "frame 0, read by the parent after the child closed its copies", reader.get(),
               0, 64, 11);
  expect_write(ctx, writer.get(), 64, 12);
  expect_frame(ctx, "frame 1, written by the parent after that", reader.get(), 1, 64, 12);
}

// §10.5: a held-back lossless writer sets writer_sleeping before it sleeps,
// and a release wakes it at once; the 50 ms bound is only for judging dead
// readers.
void held_back_writer_resumes_at_the_release(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  ChannelHandle writer = create_channel(ctx, g.name(), kLossless, 1, 64, 1);
  ChannelHandle reader = open_reader(ctx, g.name());
  if (!expect_write(ctx, writer.get(), 64, 0)) return;  // the ring (one slot) is full
  constexpr int kTrials = 9;
  std::vector<int64_t> latencies_us;
  int flagged = 0;
  for (int trial = 1; trial <= kTrials; ++trial) {
    std::atomic<pid_t> tid{0};
    std::atomic<int64_t> done_us{0};
    std::atomic<int32_t> rc{0};
    std::thread blocked([&] {
      tid.store(current_tid());
      rc.store(write_frame(ctx.zinc, writer.get(), 5000, 64, static_cast<uint32_t>(trial)));
      done_us.store(static_cast<int64_t>(realtime_ns() / 1000));
    });
    while (tid.load() == 0) usleep(100);
    const bool asleep = wait_until_asleep(getpid(), tid.load(), 2000);
    // Asleep in the kernel now: the flag must be up.
    const std::vector<uint8_t> area = read_data_area(g.name(), kChannelHeaderSize);
    const uint32_t sleeping =
        static_cast<uint32_t>(load_le(&area[channel_offset::kWriterSleeping], 4));
    if (asleep && sleeping == 1) ++flagged;
    const ReadFrame r = read_frame(ctx.zinc, reader.get(), 2000);  // reads and releases
    const int64_t released_us = static_cast<int64_t>(realtime_ns() / 1000);
    blocked.join();
    if (!ctx.expect_code("trial " + std::to_string(trial) + ": read and release of the frame", 0,
                         r.rc) ||
        !ctx.expect_code("trial " + std::to_string(trial) + ": the held-back write", 0,
                         rc.load())) {
      return;
    }
    latencies_us.push_back(std::max<int64_t>(0, done_us.load() - released_us));
  }
  ctx.expect(flagged >= kTrials - 2,
             "writer_sleeping (channel bytes 48..51) while the held-back writer was asleep",
             "1 in (nearly) every trial",
             std::to_string(flagged) + " of " + std::to_string(kTrials));
  std::sort(latencies_us.begin(), latencies_us.end());
  const int64_t median = latencies_us[latencies_us.size() / 2];
  ctx.note("held-back writer resumed " + std::to_string(median) +
           " us (median) after the release; slowest " + std::to_string(latencies_us.back()) +
           " us");
  ctx.expect(median < 20000, "median time from a release to the held-back write's return",
             "< 20 ms (the release wakes the writer; not its 50 ms look for dead readers)",
             std::to_string(median / 1000) + " ms");
}

// §10.4: a slot of 100 bytes takes a 100-byte frame and refuses 101, although
// the slots are laid out 128 bytes apart.
void slot_size_not_a_multiple_of_64_bounds_the_frame(CheckContext& ctx) {
  constexpr uint64_t kSlot = 100;
  for (uint16_t mode : {kLossless, kLatest}) {
    const std::string label = mode == kLossless ? "lossless" : "latest";
    ObjectGuard g(ctx.unique_name());
    ChannelHandle writer = create_channel(ctx, g.name(), mode, 3, kSlot, 1);
    ChannelHandle reader = open_reader(ctx, g.name());
    ZincChannelFrame frame{};
    ctx.require_code(label + ": zinc_channel_acquire", 0,
                     ctx.zinc.channel_acquire(writer.get(), 0, &frame));
    ctx.expect_eq(label + ": the acquired frame's length (room in the slot)", kSlot, frame.length);
    ctx.expect_code(label + ": zinc_channel_commit(101) into a 100-byte slot", ZINC_EINVAL,
                    ctx.zinc.channel_commit(writer.get(), kSlot + 1));
    fill_pattern(frame.data, kSlot, 21);
    ctx.expect_code(label + ": zinc_channel_commit(100) into a 100-byte slot", 0,
                    ctx.zinc.channel_commit(writer.get(), kSlot));
    expect_frame(ctx, label + ": the 100-byte frame", reader.get(), 0, kSlot, 21);
    if (!ctx.expect_code(label + ": a second 100-byte frame", 0,
                         write_frame(ctx.zinc, writer.get(), 0, kSlot, 22))) {
      continue;
    }
    expect_frame(ctx, label + ": the second 100-byte frame", reader.get(), 1, kSlot, 22);
  }
}

// The writer of the two latest checks: frames of kLatestFrame bytes with the
// pattern for their own sequence, from a child that opened the writer role.
constexpr uint64_t kLatestFrame = 65536;

int32_t latest_writer_loop(const Api& api, const std::string& name, uint64_t frames) {
  ZincChannel writer = nullptr;
  const int32_t rc = api.channel_open_writer(name.c_str(), &writer);
  if (rc != 0) return rc;
  for (uint64_t f = 0; f < frames; ++f) {
    ZincChannelFrame frame{};
    if (api.channel_acquire(writer, 0, &frame) != 0) return ZINC_EBADMSG;
    fill_pattern(frame.data, kLatestFrame, static_cast<uint32_t>(frame.sequence));
    if (api.channel_commit(writer, kLatestFrame) != 0) return ZINC_EBADMSG;
  }
  return 0;
}

// §10.6, §10.8: latest_slot only ever names a committed slot. A writer in a
// child is stopped (SIGSTOP) at random moments; at each stop latest_slot is
// 0xFFFFFFFF or a slot whose seq is even, non-zero and at most write_seq's
// frame. Then it is killed, and the newest frame is still readable.
void latest_slot_never_names_an_uncommitted_slot(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  constexpr uint32_t kSlots = 3;
  ChannelHandle reader =
      create_channel(ctx, g.name(), kLatest, kSlots, kLatestFrame, 1, ZINC_CHANNEL_CREATE_READER);
  const std::string name = g.name();
  const Api& api = ctx.zinc;
  ChannelChild writer([&api, name] { return latest_writer_loop(api, name, UINT64_MAX); });
  const int64_t until = monotonic_ms() + 5000;
  while (channel_header_now(name).write_seq == 0 && monotonic_ms() < until) usleep(1000);
  ctx.require(channel_header_now(name).write_seq > 0, "the child writer", "commits frames",
              "no frame within 5 s");
  const ChannelLayout layout = channel_layout(kSlots, kLatestFrame, 1);
  std::mt19937 random(static_cast<uint32_t>(getpid()));
  constexpr int kStops = 120;
  int bad = 0;
  std::string first_bad;
  for (int stop = 0; stop < kStops; ++stop) {
    usleep(static_cast<useconds_t>(random() % 400));
    if (kill(writer.pid(), SIGSTOP) != 0) break;
    int status = 0;
    waitpid(writer.pid(), &status, WUNTRACED);
    const std::vector<uint8_t> area = read_data_area(name, layout.required_bytes);
    const ChannelFields h = decode_channel_header(area.data());
    if (h.latest_slot != kNoSlot) {
      const uint64_t seq =
          h.latest_slot < kSlots
              ? load_le(&area[layout.slot(h.latest_slot) + channel_offset::kSlotSeq], 8)
              : 1;
      const bool committed = seq != 0 && seq % 2 == 0 && seq / 2 - 1 <= h.write_seq;
      if (!committed && ++bad == 1) {
        first_bad = "stop " + std::to_string(stop) + ": latest_slot " +
                    std::to_string(h.latest_slot) + " whose seq is " + std::to_string(seq) +
                    " (write_seq " + std::to_string(h.write_seq) + ")";
      }
    }
    kill(writer.pid(), SIGCONT);
  }
  ctx.expect(bad == 0,
             "latest_slot at " + std::to_string(kStops) + " random SIGSTOPs of a latest writer",
             "always a committed slot (seq even, non-zero)",
             std::to_string(bad) + " stops where it was not; first: " + first_bad);
  writer.kill_and_reap();
  const ChannelFields last = channel_header_now(name);
  const ReadFrame r = read_frame(ctx.zinc, reader.get(), 1000);
  ctx.expect(r.rc == 0 && r.sequence + 1 >= last.write_seq &&
                 r.hash == frame_hash(kLatestFrame, static_cast<uint32_t>(r.sequence)),
             "zinc_channel_read after the writer was SIGKILLed",
             "the newest committed frame (" + std::to_string(last.write_seq - 1) + "), whole",
             r.rc != 0 ? describe_code(r.rc)
                       : "frame " + std::to_string(r.sequence) +
                             (r.hash == frame_hash(kLatestFrame, static_cast<uint32_t>(r.sequence))
                                  ? ""
                                  : " with wrong bytes"));
}

// The commit order of §10.5 and §10.6: length, the even seq, then (latest)
// latest_slot, then write_seq. A stop at a random moment almost never lands
// between two adjacent stores, so the kit traces a writer in a child and
// single-steps one whole commit, one machine instruction at a time, checking
// after each that every frame below write_seq is committed in its slot and
// (latest) that latest_slot names a committed slot. Deterministic: a store
// made too early is seen at the instruction that makes it.
struct SteppedCommit {
  bool traced = false;  // false: ptrace is not permitted
  long steps = 0;
  uint64_t write_seq = 0;
  int bad = 0;
  std::string first_bad;
};

SteppedCommit step_one_commit(CheckContext& ctx, const std::string& name, uint16_t mode,
                              uint32_t slots, uint64_t size, uint32_t stepped) {
  SteppedCommit r;
  std::fflush(nullptr);
  const pid_t child = fork();
  if (child < 0) throw KitError("fork failed");
  if (child == 0) {
    alarm(60);
    if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) _exit(90);
    ZincChannel writer = nullptr;
    if (ctx.zinc.channel_open_writer(name.c_str(), &writer) != 0) _exit(91);
    for (uint32_t f = 0; f <= stepped; ++f) {
      ZincChannelFrame frame{};
      if (ctx.zinc.channel_acquire(writer, 0, &frame) != 0) _exit(92);
      fill_pattern(frame.data, size, f);
      if (f == stepped) raise(SIGSTOP);  // the kit takes over here
      if (ctx.zinc.channel_commit(writer, size) != 0) _exit(93);
    }
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 90) return r;
  r.traced = true;
  ctx.require(WIFSTOPPED(status), "the traced child writer", "stops before the stepped commit",
              WIFEXITED(status) ? "exited " + std::to_string(WEXITSTATUS(status)) : "killed");
  const ChannelLayout layout = channel_layout(slots, size, 1);
  constexpr long kMaxSteps = 3000000;
  auto seq_of = [&](const std::vector<uint8_t>& area, uint32_t slot) {
    return load_le(&area[layout.slot(slot) + channel_offset::kSlotSeq], 8);
  };
  for (;;) {
    const std::vector<uint8_t> area = read_data_area(name, layout.required_bytes);
    const ChannelFields h = decode_channel_header(area.data());
    r.write_seq = h.write_seq;
    std::string wrong;
    if (mode == kLossless) {
      // Each frame below write_seq is committed in the slot its map entry
      // names (§10.5: the entry is stored before the commit).
      for (uint64_t f = h.write_seq > slots ? h.write_seq - slots : 0; f < h.write_seq; ++f) {
        const auto slot = static_cast<uint32_t>(load_le(&area[layout.map_entry(f)], 4));
        const uint64_t seq = slot < slots ? seq_of(area, slot) : 1;
        if (seq != 2 * f + 2 && wrong.empty()) {
          wrong = "frame " + std::to_string(f) + " (< write_seq " + std::to_string(h.write_seq) +
                  ") whose mapped slot " + std::to_string(slot) + " has seq " + std::to_string(seq);
        }
      }
    } else if (h.latest_slot != kNoSlot) {
      const uint64_t seq = h.latest_slot < slots ? seq_of(area, h.latest_slot) : 1;
      if (seq == 0 || seq % 2 == 1 || seq / 2 - 1 > h.write_seq) {
        wrong = "latest_slot " + std::to_string(h.latest_slot) + " whose seq is " +
                std::to_string(seq) + " (write_seq " + std::to_string(h.write_seq) + ")";
      }
    }
    if (!wrong.empty() && ++r.bad == 1) {
      r.first_bad = "after instruction " + std::to_string(r.steps) + ": " + wrong;
    }
    if (r.write_seq > stepped || r.steps >= kMaxSteps) break;
    if (ptrace(PTRACE_SINGLESTEP, child, nullptr, nullptr) != 0) break;
    if (waitpid(child, &status, 0) != child || !WIFSTOPPED(status)) break;
    ++r.steps;
  }
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  return r;
}

void commit_keeps_the_store_order_at_every_instruction(CheckContext& ctx) {
  for (uint16_t mode : {kLossless, kLatest}) {
    const std::string label = mode == kLossless ? "lossless" : "latest";
    ObjectGuard g(ctx.unique_name());
    constexpr uint32_t kSlots = 3;
    constexpr uint64_t kSize = 64;
    // The creator is the (idle) reader; in lossless mode it holds the writer
    // back after kSlots frames, so the stepped commit is frame 2.
    ChannelHandle reader =
        create_channel(ctx, g.name(), mode, kSlots, kSize, 1, ZINC_CHANNEL_CREATE_READER);
    const uint32_t stepped = mode == kLossless ? 2 : 3;
    const SteppedCommit r = step_one_commit(ctx, g.name(), mode, kSlots, kSize, stepped);
    if (!r.traced) ctx.skip("ptrace(PTRACE_TRACEME) is not permitted here");
    ctx.note(label + ": single-stepped " + std::to_string(r.steps) + " instructions of a commit");
    ctx.expect(r.write_seq > stepped, label + ": write_seq after single-stepping a commit",
               std::to_string(stepped + 1) + " (the commit completed)",
               std::to_string(r.write_seq) + " after " + std::to_string(r.steps) + " instructions");
    ctx.expect(
        r.bad == 0, label + ": the shared state after each instruction of a commit",
        mode == kLossless ? "every frame below write_seq committed in its slot"
                          : "latest_slot always names a committed slot (seq even, non-zero)",
        std::to_string(r.bad) + " instructions after which it was not; first " + r.first_bad);
  }
}

// §10.5, the join race: a lossless reader stores its cursor, goes active,
// then reads write_seq again. The kit single-steps a reader's
// zinc_channel_open_reader in a traced child and, after every instruction
// of it, commits a frame if the ring has room, so every interleaving of the
// join with the writer's room check happens, without a hook in the library.
// The frame the reader then reads first must be intact.
void join_race_forced_instruction_by_instruction(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  constexpr uint64_t kSize = 64;
  ChannelHandle writer = create_channel(ctx, g.name(), kLossless, 2, kSize, 1);
  uint64_t next = 0;
  auto write_if_room = [&] {
    uint64_t sequence = 0;
    if (write_frame(ctx.zinc, writer.get(), 0, kSize, static_cast<uint32_t>(next), &sequence) ==
        0) {
      ++next;
    }
  };
  write_if_room();
  int fds[2];
  if (pipe(fds) != 0) throw KitError("pipe failed");
  std::fflush(nullptr);
  const pid_t child = fork();
  if (child < 0) throw KitError("fork failed");
  if (child == 0) {
    close(fds[0]);
    alarm(60);
    if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) _exit(90);
    raise(SIGSTOP);  // the kit steps from here...
    ZincChannel reader = nullptr;
    const int32_t open_rc = ctx.zinc.channel_open_reader(g.c_str(), &reader);
    raise(SIGSTOP);  // ...to here
    int64_t answer[3] = {open_rc, 0, 0};
    if (open_rc == 0) {
      const ReadFrame r = read_frame(ctx.zinc, reader, 2000);
      answer[0] = r.rc;
      answer[1] = static_cast<int64_t>(r.sequence);
      answer[2] = r.rc == 0 && r.hash == frame_hash(r.length, static_cast<uint32_t>(r.sequence));
    }
    (void)!write(fds[1], answer, sizeof answer);
    _exit(0);
  }
  close(fds[1]);
  int status = 0;
  waitpid(child, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 90) {
    close(fds[0]);
    ctx.skip("ptrace(PTRACE_TRACEME) is not permitted here");
  }
  long steps = 0;
  bool joined = false;
  while (WIFSTOPPED(status) && steps < 3000000) {
    if (ptrace(PTRACE_SINGLESTEP, child, nullptr, nullptr) != 0) break;
    if (waitpid(child, &status, 0) != child) break;
    if (WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP) {
      joined = true;
      break;
    }
    ++steps;
    write_if_room();
  }
  const uint64_t written_during_join = next;
  write_if_room();  // something to read, if the join left the reader at the end
  ptrace(PTRACE_DETACH, child, nullptr, nullptr);
  int64_t answer[3] = {INT32_MIN, 0, 0};
  const bool answered = read(fds[0], answer, sizeof answer) == sizeof answer;
  close(fds[0]);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  ctx.note("single-stepped " + std::to_string(steps) + " instructions of the join; " +
           std::to_string(written_during_join) + " frames written by then");
  ctx.require(joined && answered, "the traced reader's join",
              "completes and the reader reports its first read",
              joined ? "no report" : "did not finish within 3,000,000 instructions");
  ctx.expect(answer[0] == 0 && answer[2] == 1,
             "the first zinc_channel_read of a reader whose join was interleaved with the writer "
             "instruction by instruction",
             "0 and an intact frame (the join read write_seq again after going active)",
             answer[0] != 0 ? describe_code(static_cast<int32_t>(answer[0]))
                            : "frame " + std::to_string(answer[1]) + " with wrong bytes");
}

// §10.6 acquire: a writer that takes over a latest channel never writes into
// the slot latest_slot names, so the dead writer's last frame stays readable.
void resumed_latest_writer_keeps_the_newest_frame(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  ChannelHandle reader =
      create_channel(ctx, g.name(), kLatest, 3, kLatestFrame, 1, ZINC_CHANNEL_CREATE_READER);
  const std::string name = g.name();
  const Api& api = ctx.zinc;
  {
    ChannelChild first([&api, name] { return latest_writer_loop(api, name, 1); });
    ctx.require_code("a child writer commits frame 0 (in slot 0)", 0, first.result());
    first.kill_and_reap();
  }
  ChannelHandle second = open_writer(ctx, g.name());
  ZincChannelFrame frame{};
  ctx.require_code("zinc_channel_acquire of the writer that took over", 0,
                   ctx.zinc.channel_acquire(second.get(), 0, &frame));
  // Acquired, not committed: the dead writer's frame 0 is still the newest.
  const ReadFrame r = read_frame(ctx.zinc, reader.get(), 200);
  ctx.expect(r.rc == 0 && r.sequence == 0 && r.hash == frame_hash(kLatestFrame, 0),
             "zinc_channel_read while the new writer holds an acquired slot",
             "frame 0 of the dead writer, whole (its slot is latest_slot: never taken)",
             r.rc != 0 ? describe_code(r.rc) : "frame " + std::to_string(r.sequence));
}

const RegisterChecks registered({
    {.name = "channel.forked_child_cannot_use_the_parents_handles",
     .requirement = Requirement::kExtension,
     .summary = "in a fork() child, the parent's reader and writer handles refuse read, acquire "
                "and commit with -22; the parent still reads frame 0 and writes on",
     .section = "§10.9",
     .needs = channel_functions(),
     .run = forked_child_cannot_use_the_parents_handles},
    {.name = "channel.held_back_writer_resumes_at_the_release",
     .summary = "a lossless writer held back by a full ring sets writer_sleeping and resumes "
                "within 20 ms (median of 9) of the reader's release, not at its 50 ms look",
     .section = "§10.5",
     .needs = channel_functions(),
     .run = held_back_writer_resumes_at_the_release},
    {.name = "channel.slot_size_not_a_multiple_of_64_bounds_the_frame",
     .summary = "slot_size 100 (lossless and latest): acquire offers 100 bytes, commit(101) is "
                "-22, 100-byte frames arrive whole",
     .section = "§10.4",
     .needs = channel_functions(),
     .run = slot_size_not_a_multiple_of_64_bounds_the_frame},
    {.name = "channel.latest_slot_never_names_an_uncommitted_slot",
     .summary = "a latest writer in a child, SIGSTOPped at 120 random moments: latest_slot always "
                "names a committed slot; after its SIGKILL the newest frame reads whole",
     .section = "§10.6",
     .needs = channel_functions(),
     .run = latest_slot_never_names_an_uncommitted_slot},
    {.name = "channel.commit_keeps_the_store_order_at_every_instruction",
     .summary = "a writer in a traced child is single-stepped through one commit (lossless, "
                "latest): after every instruction each frame below write_seq is committed in its "
                "slot, and latest_slot names a committed slot",
     .section = "§10.6",
     .needs = channel_functions(),
     .run = commit_keeps_the_store_order_at_every_instruction},
    {.name = "channel.join_race_forced_instruction_by_instruction",
     .summary = "a lossless reader's join is single-stepped in a traced child with a frame "
                "committed (when there is room) after each instruction: its first read is intact",
     .section = "§10.5",
     .needs = channel_functions(),
     .run = join_race_forced_instruction_by_instruction},
    {.name = "channel.resumed_latest_writer_keeps_the_newest_frame",
     .summary = "a latest writer killed after frame 0; the writer that takes over acquires a "
                "slot: the reader still gets frame 0, whole",
     .section = "§10.6",
     .needs = channel_functions(),
     .run = resumed_latest_writer_keeps_the_newest_frame},
});

}  // namespace
}  // namespace zinc::conformance
