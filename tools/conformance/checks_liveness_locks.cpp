// liveness_locks.*: the liveness-lock protocol (docs/spec.md §4.5, issue 18),
// required of a port whose regions set header flags bit 0. Every handle holds
// an open-file-description read lock on byte 24 of the object, the creator a
// write lock on byte 28, a channel's writer a write lock on its `writer`
// word's first byte and each reader on its entry's `owner` word's first
// byte; judges ask the kernel (F_OFD_GETLK), so a judge in another pid
// namespace sees the same as one beside the holder. A port whose regions do
// not set the flag keeps the pid rule; these checks skip for it.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "channel_format.hpp"
#include "channel_support.hpp"
#include "check_support.hpp"
#include "peer.hpp"
#include "raw_object.hpp"

namespace zinc::conformance {
namespace {

constexpr uint16_t kLivenessLocksFlag = 1;
constexpr off_t kAttachByte = 24;   // first byte of ref_count
constexpr off_t kCreatorByte = 28;  // first byte of owner_pid

// The object of region `name`, opened for the kit's own lock queries (a
// descriptor of its own: its locks are not the candidate's).
class ObjectFd {
 public:
  explicit ObjectFd(const std::string& name)
      : fd_(open(("/dev/shm/zinc_" + name).c_str(), O_RDWR | O_CLOEXEC)) {}
  ObjectFd(const ObjectFd&) = delete;
  ObjectFd& operator=(const ObjectFd&) = delete;
  ~ObjectFd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// The type of a lock another open file description holds on `byte` that
// conflicts with a `wanted` lock (F_RDLCK or F_WRLCK), or F_UNLCK for none.
// -1 if the kernel cannot tell (no F_OFD_GETLK).
int conflicting_lock(int fd, off_t byte, short wanted) {
  struct flock query {};
  query.l_type = wanted;
  query.l_whence = SEEK_SET;
  query.l_start = byte;
  query.l_len = 1;
  if (fcntl(fd, F_OFD_GETLK, &query) != 0) return -1;
  return query.l_type;
}

std::string lock_name(int type) {
  switch (type) {
    case F_RDLCK: return "a read lock (F_RDLCK)";
    case F_WRLCK: return "a write lock (F_WRLCK)";
    case F_UNLCK: return "no lock";
    default: return "no answer from F_OFD_GETLK";
  }
}

void expect_lock(CheckContext& ctx, const std::string& what, int fd, off_t byte, int expected) {
  // Asking for a write lock reports any lock; asking for a read lock then
  // tells a read lock (no conflict) from a write lock.
  int held = conflicting_lock(fd, byte, F_WRLCK);
  if (held == F_WRLCK && conflicting_lock(fd, byte, F_RDLCK) == F_UNLCK) held = F_RDLCK;
  ctx.expect(held == expected, what + " (byte " + std::to_string(byte) + ")", lock_name(expected),
             lock_name(held));
}

// Skips unless the candidate's region `name` says it takes liveness locks.
void require_flag(CheckContext& ctx, const std::string& name) {
  const HeaderFields header = read_header(name);
  if ((header.flags & kLivenessLocksFlag) == 0) {
    ctx.skip("the candidate's regions do not set the liveness-lock flag (header flags bit 0)");
  }
}

void creator_and_handles_hold_their_locks(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle creator = create_region(ctx, g.name(), ctx.page());
  require_flag(ctx, g.name());
  ObjectFd object(g.name());
  ctx.require(object.get() >= 0, "open of the region's object", "a descriptor",
              std::strerror(errno));
  expect_lock(ctx, "the creator's lock while the creator's handle is open", object.get(),
              kCreatorByte, F_WRLCK);
  expect_lock(ctx, "the attach lock while the creator's handle is open", object.get(), kAttachByte,
              F_RDLCK);

  Handle reader = open_region(ctx, g.name());
  creator.close();  // unlinks the name; the kit's descriptor still reaches the object
  expect_lock(ctx, "the creator's lock once the creator closed", object.get(), kCreatorByte,
              F_UNLCK);
  expect_lock(ctx, "the attach lock while another handle is open", object.get(), kAttachByte,
              F_RDLCK);
  reader.close();
  expect_lock(ctx, "the attach lock once every handle closed", object.get(), kAttachByte, F_UNLCK);
}

void creator_lock_goes_with_the_creator(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  auto creator = ctx.candidate_peer();
  require_answer(ctx, *creator, "create " + g.name() + " " + std::to_string(ctx.page()),
                 rc_line(0));
  require_flag(ctx, g.name());
  ObjectFd object(g.name());
  expect_lock(ctx, "the creator's lock while the creator (a peer) runs", object.get(), kCreatorByte,
              F_WRLCK);
  creator->kill_hard();
  expect_lock(ctx, "the creator's lock once the creator was killed", object.get(), kCreatorByte,
              F_UNLCK);
  expect_lock(ctx, "the attach lock once the only handle's process was killed", object.get(),
              kAttachByte, F_UNLCK);
  ctx.expect_code("zinc_remove_stale of the killed creator's region", 0,
                  ctx.zinc.remove_stale(g.c_str(), ZINC_REMOVE_DEFAULT));
}

void channel_roles_hold_their_owner_word_locks(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  constexpr uint32_t kReaders = 3;
  ChannelHandle writer(ctx.zinc);
  ctx.require_code(
      "zinc_channel_create (lossless, 4 slots of 64 bytes, 3 readers)", 0,
      ctx.zinc.channel_create(g.c_str(), ZINC_CHANNEL_LOSSLESS, 4, 64, kReaders, 0, writer.out()));
  require_flag(ctx, g.name());
  ObjectFd object(g.name());
  const off_t data = static_cast<off_t>(ctx.page());
  const off_t writer_byte = data + 56;
  auto entry_byte = [&](uint32_t i) { return data + ZINC_CHANNEL_HEADER_SIZE + 64 * off_t(i); };
  expect_lock(ctx, "the writer role's lock", object.get(), writer_byte, F_WRLCK);
  for (uint32_t i = 0; i < kReaders; ++i) {
    expect_lock(ctx, "reader entry " + std::to_string(i) + "'s lock before any reader joined",
                object.get(), entry_byte(i), F_UNLCK);
  }
  ChannelHandle reader(ctx.zinc);
  ctx.require_code("zinc_channel_open_reader", 0,
                   ctx.zinc.channel_open_reader(g.c_str(), reader.out()));
  uint32_t locked = 0;
  for (uint32_t i = 0; i < kReaders; ++i) {
    if (conflicting_lock(object.get(), entry_byte(i), F_WRLCK) == F_WRLCK) ++locked;
  }
  ctx.expect_eq("reader entries write-locked with one reader joined", 1, locked);
  reader.close();
  for (uint32_t i = 0; i < kReaders; ++i) {
    expect_lock(ctx, "reader entry " + std::to_string(i) + "'s lock after the reader closed",
                object.get(), entry_byte(i), F_UNLCK);
  }
  writer.close();
  expect_lock(ctx, "the writer role's lock after the writer closed", object.get(), writer_byte,
              F_UNLCK);
}

// Runs `judge` as pid 1 of a new pid namespace with its own /proc; its
// result, or -1000 - step when the namespace could not be made (not root,
// or refused in a container).
int32_t judge_in_new_pid_namespace(const std::function<int32_t()>& judge) {
  int result_pipe[2];
  if (pipe(result_pipe) != 0) return -1000;
  const pid_t outer = fork();
  if (outer < 0) return -1001;
  if (outer == 0) {
    close(result_pipe[0]);
    int32_t value = -1002;
    if (unshare(CLONE_NEWPID | CLONE_NEWNS) == 0 &&
        mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0) {
      const pid_t init = fork();
      if (init == 0) {
        int32_t answer = -1003;
        if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) == 0) {
          answer = judge();
        }
        (void)!write(result_pipe[1], &answer, sizeof answer);
        _exit(0);
      }
      int status = 0;
      waitpid(init, &status, 0);
      _exit(0);
    }
    (void)!write(result_pipe[1], &value, sizeof value);
    _exit(0);
  }
  close(result_pipe[1]);
  int32_t value = -1004;
  if (read(result_pipe[0], &value, sizeof value) != sizeof value) value = -1004;
  close(result_pipe[0]);
  waitpid(outer, nullptr, 0);
  return value;
}

void judge_in_another_pid_namespace_sees_a_live_creator(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle creator = create_region(ctx, g.name(), ctx.page());
  require_flag(ctx, g.name());
  const std::string name = g.name();
  const Api& zinc = ctx.zinc;
  const int32_t state =
      judge_in_new_pid_namespace([&] { return zinc.creator_state(name.c_str()); });
  if (state <= -1000) {
    ctx.skip(
        "cannot make a pid namespace with its own /proc here (needs root; unshare may be "
        "refused in a container)");
  }
  ctx.expect(state == ZINC_CREATOR_ALIVE,
             "zinc_creator_state in another pid namespace while the creator runs",
             "1 (ZINC_CREATOR_ALIVE)", describe_code(state));
  const int32_t removed = judge_in_new_pid_namespace(
      [&] { return zinc.remove_stale(name.c_str(), ZINC_REMOVE_DEFAULT); });
  ctx.expect_code("zinc_remove_stale in another pid namespace while the creator runs", ZINC_EBUSY,
                  removed);
  ctx.expect(object_exists(g.name()), "the live creator's region after that", "still there",
             "removed");
}

std::vector<uint8_t> le_bytes(uint64_t value, size_t size) {
  std::vector<uint8_t> bytes(size);
  store_le(bytes.data(), size, value);
  return bytes;
}

// A live process that has nothing to do with the region: forked before the
// check maps anything, it holds no descriptor and no lock of it. Its pid is
// what a recycled pid in an owner field names.
int32_t start_stranger(CheckContext& ctx, ChannelChild& stranger) {
  ctx.require_code("a live process unrelated to the region (a forked child)", 0, stranger.result());
  return static_cast<int32_t>(stranger.pid());
}

// docs/spec.md §4.4 (the verdicts) and §4.5: with flags bit 0 the creator
// lock alone decides; owner_pid is never read. A recycled owner_pid that
// names a live unrelated process (started before created_at, so the pid
// rule would call it the creator) keeps no dead creator alive, and a live
// creator whose owner_pid names nobody (0, or a reaped process) stays alive.
void recycled_pid_keeps_no_dead_creator_alive(CheckContext& ctx) {
  ChannelChild stranger([] { return 0; });
  const int32_t stranger_pid = start_stranger(ctx, stranger);
  ChannelChild gone([] { return 0; });
  ctx.require_code("a child that is then killed and reaped", 0, gone.result());
  gone.kill_and_reap();
  const int32_t gone_pid = static_cast<int32_t>(gone.pid());

  ObjectGuard dead(ctx.unique_name());
  auto creator = ctx.candidate_peer();
  require_answer(ctx, *creator, "create " + dead.name() + " " + std::to_string(ctx.page()),
                 rc_line(0));
  require_flag(ctx, dead.name());
  creator->kill_hard();
  patch_object(dead.name(), kCreatorByte, le_bytes(static_cast<uint32_t>(stranger_pid), 4));
  patch_object(dead.name(), 32, le_bytes(realtime_ns(), 8));  // created_at: after it started
  const std::string recycled =
      "a SIGKILLed creator's region whose owner_pid now names a live "
      "unrelated process (pid " +
      std::to_string(stranger_pid) + ")";
  if (ctx.zinc.has("zinc_creator_state")) {
    const int32_t state = ctx.zinc.creator_state(dead.c_str());
    ctx.expect(state == ZINC_CREATOR_DEAD, "zinc_creator_state of " + recycled,
               "0 (ZINC_CREATOR_DEAD: the creator lock is free)", describe_code(state));
  }
  ctx.expect_code("zinc_remove_stale(DEFAULT) of " + recycled, 0,
                  ctx.zinc.remove_stale(dead.c_str(), ZINC_REMOVE_DEFAULT));
  ctx.expect(!object_exists(dead.name()), recycled + " afterwards", "removed", "still there");

  ObjectGuard live(ctx.unique_name());
  Handle owner = create_region(ctx, live.name(), ctx.page());
  for (int32_t pid : {0, gone_pid}) {
    patch_object(live.name(), kCreatorByte, le_bytes(static_cast<uint32_t>(pid), 4));
    const std::string region =
        "a live creator's region whose owner_pid says " +
        (pid == 0 ? std::string("0") : "pid " + std::to_string(pid) + " (reaped)");
    if (ctx.zinc.has("zinc_creator_state")) {
      const int32_t state = ctx.zinc.creator_state(live.c_str());
      ctx.expect(state == ZINC_CREATOR_ALIVE, "zinc_creator_state of " + region,
                 "1 (ZINC_CREATOR_ALIVE: the creator lock is held)", describe_code(state));
    }
    ctx.expect_code("zinc_remove_stale(DEFAULT) of " + region, ZINC_EBUSY,
                    ctx.zinc.remove_stale(live.c_str(), ZINC_REMOVE_DEFAULT));
    ctx.require(object_exists(live.name()), region + " afterwards", "still there", "removed");
  }
}

// docs/spec.md §10.3 with §4.5: a channel role's lock alone says whether its
// holder lives. Owner words that name a live unrelated process (a recycled
// pid, with joined_at after it started) but whose locks are free are dead
// holders': a writer takes the writer role over, a reader takes the entry,
// and a lossless writer is not held back by such an entry's cursor.
void recycled_pid_keeps_no_dead_holder_in_its_role(CheckContext& ctx) {
  namespace o = channel_offset;
  ChannelChild stranger([] { return 0; });
  const int32_t stranger_pid = start_stranger(ctx, stranger);
  constexpr uint32_t kSlots = 4;
  ObjectGuard g(ctx.unique_name());
  // The creator joins as a reader (entry 0), so the writer role is free to forge.
  ChannelHandle first_reader = create_channel(ctx, g.name(), ZINC_CHANNEL_LOSSLESS, kSlots, 64, 2,
                                              ZINC_CHANNEL_CREATE_READER);
  require_flag(ctx, g.name());
  const uint64_t data = ctx.page();
  const ChannelLayout layout = channel_layout(kSlots, 64, 2);
  const uint64_t forged_writer = active_owner(stranger_pid) | (uint64_t{5} << 33);
  const std::string stranger_text =
      "pid " + std::to_string(stranger_pid) + ", a live unrelated process";

  patch_object(g.name(), data + o::kWriter, le_bytes(forged_writer, 8));
  patch_object(g.name(), data + o::kWriterJoinedAt, le_bytes(realtime_ns(), 8));
  ChannelHandle writer(ctx.zinc);
  const int32_t opened = ctx.zinc.channel_open_writer(g.c_str(), writer.out());
  ctx.expect_code("zinc_channel_open_writer while the writer word names " + stranger_text +
                      " and the writer lock is free",
                  0, opened);
  if (opened == 0) {
    const uint64_t word = load_le(read_data_area(g.name(), 64).data() + o::kWriter, 8);
    ctx.expect(owner_holder(word) == active_owner(getpid()) && (word >> 33) == 6,
               "the writer word after the take-over",
               "this process, active, generation 6 (the forged word's + 1)", hex(word));
  }

  auto forge_entry = [&] {
    const uint64_t at = data + layout.entry(1);
    patch_object(g.name(), at + o::kEntryOwner,
                 le_bytes(active_owner(stranger_pid) | (uint64_t{3} << 33), 8));
    patch_object(g.name(), at + o::kEntryJoinedAt, le_bytes(realtime_ns(), 8));
    patch_object(g.name(), at + o::kEntryCursor, le_bytes(0, 8));
  };
  forge_entry();
  {
    ChannelHandle second_reader(ctx.zinc);
    ctx.expect_code(
        "zinc_channel_open_reader with entry 0 held by a live reader and entry 1 "
        "naming " +
            stranger_text + " (its lock free)",
        0, ctx.zinc.channel_open_reader(g.c_str(), second_reader.out()));
  }
  if (opened != 0) return;

  // Entry 1 names the stranger again, at cursor 0: the writer passes frame
  // kSlots - 1 only once it finds that entry's lock free.
  forge_entry();
  for (uint32_t frame = 0; frame <= kSlots + 1; ++frame) {
    const int32_t rc = write_frame(ctx.zinc, writer.get(), 3000, 64, frame);
    if (!ctx.expect(rc == 0,
                    "zinc_channel_acquire + commit of frame " + std::to_string(frame) +
                        " while reader entry 1 names " + stranger_text +
                        " at cursor 0 (its lock free)",
                    "0 (a dead reader holds nothing back)", describe_code(rc))) {
      return;
    }
    expect_frame(ctx, "the creator-reader's read of frame " + std::to_string(frame),
                 first_reader.get(), frame, 64, frame);
  }
}

const RegisterChecks registered({
    {.name = "liveness_locks.creator_and_handles_hold_their_locks",
     .summary = "with flags bit 0: the creator write-locks byte 28 and every handle read-locks "
                "byte 24 (open-file-description locks) for as long as it is open",
     .run = creator_and_handles_hold_their_locks},
    {.name = "liveness_locks.creator_lock_goes_with_the_creator",
     .summary = "with flags bit 0: a SIGKILLed creator's locks are gone and its region is "
                "removable",
     .needs = {"zinc_remove_stale"},
     .run = creator_lock_goes_with_the_creator},
    {.name = "liveness_locks.channel_roles_hold_their_owner_word_locks",
     .summary = "with flags bit 0: the writer write-locks its role word's first byte, a reader "
                "its entry's, until they close",
     .needs = channel_functions(),
     .run = channel_roles_hold_their_owner_word_locks},
    {.name = "liveness_locks.judge_in_another_pid_namespace_sees_a_live_creator",
     .summary = "with flags bit 0: zinc_creator_state and zinc_remove_stale in another pid "
                "namespace call a live creator alive (as root; skipped otherwise)",
     .needs = {"zinc_creator_state", "zinc_remove_stale"},
     .run = judge_in_another_pid_namespace_sees_a_live_creator},
    {.name = "liveness_locks.recycled_pid_keeps_no_dead_creator_alive",
     .summary = "with flags bit 0: a killed creator's region whose owner_pid names a live "
                "unrelated process is dead and removable; a live creator with owner_pid 0 or a "
                "reaped pid is alive",
     .needs = {"zinc_remove_stale"},
     .run = recycled_pid_keeps_no_dead_creator_alive},
    {.name = "liveness_locks.recycled_pid_keeps_no_dead_holder_in_its_role",
     .summary = "with flags bit 0: writer and reader words naming a live unrelated process with "
                "free locks are taken over, and such an entry never holds a lossless writer back",
     .section = "§10.3",
     .needs = channel_functions(),
     .run = recycled_pid_keeps_no_dead_holder_in_its_role},
});

}  // namespace
}  // namespace zinc::conformance
