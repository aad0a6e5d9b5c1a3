// stale.*: crash recovery, a [reference] addition (docs/spec.md §4.4):
// whether a region's creator still runs (one that exited but was not yet
// reaped is dead), which processes map a region, and when zinc_remove_stale
// may remove one. The protocol half (a region outlives its creator and stays
// usable) is in xproc.*.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "channel_support.hpp"
#include "check_support.hpp"
#include "peer.hpp"
#include "raw_object.hpp"

namespace zinc::conformance {
namespace {

std::string state_name(int32_t state) {
  switch (state) {
    case ZINC_CREATOR_DEAD: return "0 (ZINC_CREATOR_DEAD)";
    case ZINC_CREATOR_ALIVE: return "1 (ZINC_CREATOR_ALIVE)";
    case ZINC_CREATOR_PID_REUSED: return "2 (ZINC_CREATOR_PID_REUSED)";
    case ZINC_CREATOR_UNKNOWN: return "3 (ZINC_CREATOR_UNKNOWN)";
    default: return describe_code(state);
  }
}

void expect_creator_state(CheckContext& ctx, const std::string& what, int32_t expected,
                          int32_t actual) {
  ctx.expect(actual == expected, what, state_name(expected), state_name(actual));
}

// A peer that created region `name` (one page, filled with pattern 7).
std::unique_ptr<Peer> peer_creator(CheckContext& ctx, const std::string& name) {
  auto creator = ctx.candidate_peer();
  require_answer(ctx, *creator, "create " + name + " " + std::to_string(ctx.page()), rc_line(0));
  require_answer(ctx, *creator, "fill 7", "ok");
  return creator;
}

void unreaped_creator_is_dead(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  auto creator = peer_creator(ctx, g.name());
  expect_creator_state(ctx, "zinc_creator_state while the creator runs", ZINC_CREATOR_ALIVE,
                       ctx.zinc.creator_state(g.c_str()));
  if (!creator->kill_unreaped()) {
    ctx.skip("the peer process is not this kit's child (--peer-command without exec)");
  }
  // The creator is a zombie now: its pid exists, but it runs nothing and
  // maps nothing.
  expect_creator_state(ctx, "zinc_creator_state of a creator that exited but is not reaped",
                       ZINC_CREATOR_DEAD, ctx.zinc.creator_state(g.c_str()));
  ctx.expect_code("zinc_remove_stale(name, DRY_RUN) of the zombie creator's region", 0,
                  ctx.zinc.remove_stale(g.c_str(), ZINC_REMOVE_DRY_RUN));
  ctx.expect(object_exists(g.name()), "the region after the dry run", "still there", "removed");
  ctx.expect_code("zinc_remove_stale(name, IF_UNMAPPED) of the zombie creator's region", 0,
                  ctx.zinc.remove_stale(g.c_str(), ZINC_REMOVE_IF_UNMAPPED));
  ctx.expect(!object_exists(g.name()), "the region after zinc_remove_stale returned 0", "removed",
             "still there");

  // The same for a region without liveness locks (flags 0, as the original
  // or a plain v2 peer writes it), judged by the pid rule (§4.4): its
  // owner_pid names a child that exited and is not reaped yet.
  ObjectGuard plain(ctx.unique_name());
  const pid_t zombie = fork();
  if (zombie == 0) _exit(0);
  ctx.require(zombie > 0, "fork()", "a child", "failed");
  siginfo_t info{};
  waitid(P_PID, static_cast<id_t>(zombie), &info, WEXITED | WNOWAIT);  // exited, not reaped
  std::vector<uint8_t> page = valid_header_page(plain.name(), ctx.page());
  store_le(page.data() + offset::kOwnerPid, 4, static_cast<uint64_t>(zombie));
  store_le(page.data() + offset::kCreatedAt, 8, realtime_ns());
  plant_object(plain.name(), page, 2 * ctx.page());
  expect_creator_state(ctx, "zinc_creator_state of a flags-0 region whose owner_pid is a zombie",
                       ZINC_CREATOR_DEAD, ctx.zinc.creator_state(plain.c_str()));
  waitpid(zombie, nullptr, 0);
}

void mapped_by_lists_each_mapping_process(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  auto reader = ctx.candidate_peer();
  require_answer(ctx, *reader, "open " + g.name(), rc_line(0));
  std::vector<int32_t> want = {static_cast<int32_t>(getpid()), static_cast<int32_t>(reader->pid())};
  std::sort(want.begin(), want.end());
  auto describe = [](const std::vector<int32_t>& pids) {
    std::string text;
    for (int32_t pid : pids) text += (text.empty() ? "" : ", ") + std::to_string(pid);
    return "[" + text + "]";
  };
  int32_t pids[8] = {};
  int32_t count = ctx.zinc.mapped_by(g.c_str(), pids, 8);
  ctx.expect(count == 2 && std::vector<int32_t>(pids, pids + 2) == want,
             "zinc_mapped_by with this process and a peer mapping the region",
             "2, pids " + describe(want) + " in increasing order",
             std::to_string(count) + ", pids " +
                 describe(std::vector<int32_t>(pids, pids + std::clamp(count, 0, 8))));
  ctx.expect_code("zinc_mapped_by(name, NULL, 0): the count alone", 2,
                  ctx.zinc.mapped_by(g.c_str(), nullptr, 0));
  require_answer(ctx, *reader, "close", "ok");
  count = ctx.zinc.mapped_by(g.c_str(), pids, 8);
  ctx.expect(count == 1 && pids[0] == static_cast<int32_t>(getpid()),
             "zinc_mapped_by after the peer closed its handle",
             "1, pid " + std::to_string(getpid()),
             std::to_string(count) + ", first pid " + std::to_string(pids[0]));
}

void remove_if_unmapped_keeps_a_mapped_region(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  auto creator = peer_creator(ctx, g.name());
  Handle reader = open_region(ctx, g.name());
  creator->kill_hard();
  // The creator is dead and reaped; only this process maps the region.
  ctx.expect_code("zinc_remove_stale(name, IF_UNMAPPED) while this process maps it", ZINC_EBUSY,
                  ctx.zinc.remove_stale(g.c_str(), ZINC_REMOVE_IF_UNMAPPED));
  ctx.expect_code("zinc_remove_stale(name, IF_UNMAPPED | DRY_RUN) while this process maps it",
                  ZINC_EBUSY,
                  ctx.zinc.remove_stale(g.c_str(), ZINC_REMOVE_IF_UNMAPPED | ZINC_REMOVE_DRY_RUN));
  ctx.expect(object_exists(g.name()), "the region after the refused removals", "still there",
             "removed");
  ctx.expect_eq("the reader's bytes that differ from what the dead creator wrote", 0,
                pattern_mismatches(reader.data(), ctx.page(), 7));
  reader.close();
  ctx.expect_code("zinc_remove_stale(name, IF_UNMAPPED) once nobody maps it", 0,
                  ctx.zinc.remove_stale(g.c_str(), ZINC_REMOVE_IF_UNMAPPED));
  ctx.expect(!object_exists(g.name()), "the region after zinc_remove_stale returned 0", "removed",
             "still there");
}

void remove_stale_keeps_what_is_not_stale(CheckContext& ctx) {
  ObjectGuard live(ctx.unique_name());
  Handle owner = create_region(ctx, live.name(), ctx.page());
  ctx.expect_code("zinc_remove_stale of a region whose creator (this process) runs", ZINC_EBUSY,
                  ctx.zinc.remove_stale(live.c_str(), ZINC_REMOVE_DEFAULT));
  ctx.expect(object_exists(live.name()), "the live region after that", "still there", "removed");

  ObjectGuard invalid(ctx.unique_name());
  plant_object(invalid.name(), std::vector<uint8_t>(64, 0xab), 2 * ctx.page());
  ctx.expect_code("zinc_remove_stale of an object that is not a valid region", ZINC_EBADMSG,
                  ctx.zinc.remove_stale(invalid.c_str(), ZINC_REMOVE_DEFAULT));
  ctx.expect(object_exists(invalid.name()), "the invalid object after that", "left alone",
             "removed");

  ObjectGuard missing(ctx.unique_name());
  ctx.expect_code("zinc_remove_stale of a name nobody created", ZINC_ENOENT,
                  ctx.zinc.remove_stale(missing.c_str(), ZINC_REMOVE_DEFAULT));

  ObjectGuard killed(ctx.unique_name());
  auto creator = peer_creator(ctx, killed.name());
  creator->kill_hard();
  ctx.expect_code("zinc_remove_stale(name, DEFAULT) of a SIGKILLed creator's region", 0,
                  ctx.zinc.remove_stale(killed.c_str(), ZINC_REMOVE_DEFAULT));
  ctx.expect(!object_exists(killed.name()), "that region afterwards", "removed", "still there");
}

// What zinc_remove_stale must return for an unfinished object in its grace
// period (docs/spec.md §4.4, step 1): the code zinc_inspect gives it, -11
// (or -74 where open reports it as the original does). A port without
// zinc_inspect may give either.
void expect_inspect_code(CheckContext& ctx, const std::string& what, const std::string& name,
                         int32_t actual) {
  if (ctx.zinc.has("zinc_inspect")) {
    const int32_t inspected = ctx.zinc.inspect(name.c_str(), nullptr);
    if (inspected == ZINC_EAGAIN || inspected == ZINC_EBADMSG) {
      ctx.expect(actual == inspected, what, describe_code(inspected) + " (its zinc_inspect code)",
                 describe_code(actual));
      return;
    }
  }
  ctx.expect_code_in(what, {ZINC_EAGAIN, ZINC_EBADMSG}, actual);
}

// The two unfinished objects a creator leaves between its shm_open and its
// publish: an empty one, and a 2-page one whose magic is still 0.
struct UnfinishedObjects {
  explicit UnfinishedObjects(CheckContext& ctx)
      : empty(ctx.unique_name()), unpublished(ctx.unique_name()) {
    plant_object(empty.name(), {}, 0);
    plant_object(unpublished.name(), std::vector<uint8_t>(64, 0), 2 * ctx.page());
  }
  ObjectGuard empty;
  ObjectGuard unpublished;
  std::vector<std::pair<const ObjectGuard*, std::string>> labelled() const {
    return {{&empty, "an empty object made just now"},
            {&unpublished, "a 2-page object with magic 0 made just now"}};
  }
};

// Asks zinc_remove_stale about each unfinished object with each flag set a
// gc uses; every answer is the object's inspect code and nothing is removed.
void expect_unfinished_objects_kept(CheckContext& ctx, const UnfinishedObjects& objects,
                                    const std::string& situation) {
  for (const auto& [object, description] : objects.labelled()) {
    for (uint32_t flags : {ZINC_REMOVE_DEFAULT, ZINC_REMOVE_IF_UNMAPPED, ZINC_REMOVE_DRY_RUN}) {
      const char* flag_name = flags == ZINC_REMOVE_DEFAULT       ? "DEFAULT"
                              : flags == ZINC_REMOVE_IF_UNMAPPED ? "IF_UNMAPPED"
                                                                 : "DRY_RUN";
      const std::string label =
          "zinc_remove_stale(" + description + situation + ", " + flag_name + ")";
      expect_inspect_code(ctx, label + " (in its 10 s grace period)", object->name(),
                          ctx.zinc.remove_stale(object->c_str(), flags));
      ctx.expect(object_exists(object->name()), "the object after " + label, "left alone",
                 "removed");
      if (!object_exists(object->name())) return;
    }
  }
}

// docs/spec.md §4.4: an unfinished object (size 0, or magic 0) is what a
// creator leaves between its shm_open and its publish. remove_stale leaves
// it alone for 10 s after its last change, so a live creator is never robbed
// of the name mid-create, and says so with the object's inspect code (-11).
// (The aged half is stale.abandoned_unfinished_objects_are_stale_after_the_grace.)
void unfinished_object_in_its_grace_period_is_kept(CheckContext& ctx) {
  const UnfinishedObjects objects(ctx);
  expect_unfinished_objects_kept(ctx, objects, "");
}

// docs/spec.md §4.4, step 1 before step 2: the grace period is judged before
// the mappers, so an unfinished object that a process maps (or holds open,
// as a creator between shm_open and mmap does) still gets its inspect code
// in its grace period, not -16.
void mapped_unfinished_object_keeps_its_inspect_code(CheckContext& ctx) {
  const UnfinishedObjects objects(ctx);
  const std::string empty = object_path(objects.empty.name());
  const std::string unpublished = object_path(objects.unpublished.name());
  const size_t size = 2 * ctx.page();
  // Another process, as a creator would be: the empty object held open (it
  // cannot be mapped), the unpublished one mapped.
  ChannelChild creator([&]() -> int32_t {
    if (open(empty.c_str(), O_RDWR) < 0) return -errno;
    const int fd = open(unpublished.c_str(), O_RDWR);
    if (fd < 0) return -errno;
    void* mapped = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    return mapped == MAP_FAILED ? -errno : 0;
  });
  ctx.require_code("a process that holds the empty object open and maps the other", 0,
                   creator.result());
  expect_unfinished_objects_kept(ctx, objects, ", open in another process");
}

// The aged half of the grace period (docs/spec.md §4.4, steps 2 and 3). The
// kit cannot set an object's st_ctime back, so the objects are planted when
// the run starts (prepare, in the kit's own process) and judged when this
// check's turn comes, by which time the other checks have usually taken more
// than the 10 s; run alone, it waits for the rest.
constexpr uint64_t kGraceNs = 10'000'000'000;
constexpr uint64_t kGraceMarginNs = 500'000'000;
// A process of the kit's that maps the third object from the start of the
// run (a creator that is slow, not dead); -1 if it could not be started. Set
// in the kit's process before the check processes are forked from it.
pid_t aged_object_mapper = -1;

void plant_aged_unfinished_objects(const RunOptions& options, int index) {
  const std::string mapped = region_name(options, index, 2);
  try {
    plant_object(region_name(options, index, 0), {}, 0);
    plant_object(region_name(options, index, 1), std::vector<uint8_t>(64, 0),
                 2 * system_page_size());
    plant_object(mapped, std::vector<uint8_t>(64, 0), 2 * system_page_size());
  } catch (const KitError&) {
    return;  // the check reports the missing objects
  }
  const pid_t child = fork();
  if (child != 0) {
    aged_object_mapper = child;
    return;
  }
  // Maps the object until the check has removed its name (it never outlives
  // the kit, nor 15 minutes).
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  alarm(900);
  const std::string path = object_path(mapped);
  const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0 || mmap(nullptr, 2 * system_page_size(), PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED) {
    _exit(1);
  }
  close(fd);
  while (access(path.c_str(), F_OK) == 0) usleep(100000);
  _exit(0);
}

uint64_t changed_at_ns(const std::string& name) {
  struct stat st {};
  if (stat(object_path(name).c_str(), &st) != 0) return 0;
  return uint64_t(st.st_ctim.tv_sec) * 1000000000ULL + uint64_t(st.st_ctim.tv_nsec);
}

void abandoned_unfinished_objects_are_stale_after_the_grace(CheckContext& ctx) {
  ObjectGuard empty(ctx.unique_name());
  ObjectGuard unpublished(ctx.unique_name());
  ObjectGuard mapped(ctx.unique_name());
  uint64_t newest = 0;
  for (const ObjectGuard* g : {&empty, &unpublished, &mapped}) {
    ctx.require(object_exists(g->name()), "unfinished object " + g->name(),
                "planted when the run started", "missing");
    newest = std::max(newest, changed_at_ns(g->name()));
  }
  ctx.require(aged_object_mapper > 0 && kill(aged_object_mapper, 0) == 0,
              "the kit's process that maps " + mapped.name(), "running since the run started",
              "not running");
  const uint64_t ready = newest + kGraceNs + kGraceMarginNs;
  const uint64_t now = realtime_ns();
  if (now < ready) {
    ctx.note("waited " + std::to_string((ready - now) / 1000000) +
             " ms for the objects to be 10.5 s old (the checks before this one took less)");
    std::this_thread::sleep_for(std::chrono::nanoseconds(ready - now));
  }

  const std::string mapped_text = "an unfinished object 10.5 s old that another process maps";
  for (uint32_t flags :
       {uint32_t{ZINC_REMOVE_DEFAULT}, uint32_t{ZINC_REMOVE_IF_UNMAPPED | ZINC_REMOVE_DRY_RUN}}) {
    ctx.expect_code(std::string("zinc_remove_stale(") + mapped_text +
                        (flags == ZINC_REMOVE_DEFAULT ? ", DEFAULT)" : ", IF_UNMAPPED | DRY_RUN)"),
                    ZINC_EBUSY, ctx.zinc.remove_stale(mapped.c_str(), flags));
  }
  ctx.expect(object_exists(mapped.name()), mapped_text + " afterwards", "still there", "removed");

  const std::string empty_text = "an empty object 10.5 s old that nobody maps or holds";
  ctx.expect_code("zinc_remove_stale(" + empty_text + ", DRY_RUN)", 0,
                  ctx.zinc.remove_stale(empty.c_str(), ZINC_REMOVE_DRY_RUN));
  ctx.expect(object_exists(empty.name()), empty_text + " after the dry run", "still there",
             "removed");
  ctx.expect_code("zinc_remove_stale(" + empty_text + ", IF_UNMAPPED)", 0,
                  ctx.zinc.remove_stale(empty.c_str(), ZINC_REMOVE_IF_UNMAPPED));
  ctx.expect(!object_exists(empty.name()), empty_text + " afterwards", "removed", "still there");

  const std::string unpublished_text = "a magic-0 object 10.5 s old that nobody maps or holds";
  if (ctx.zinc.has("zinc_create_ex")) {
    Handle replaced(ctx.zinc);
    ctx.expect_code("zinc_create_ex(name, P, REPLACE_STALE) over " + unpublished_text, 0,
                    ctx.zinc.create_ex(unpublished.c_str(), ctx.page(), ZINC_CREATE_REPLACE_STALE,
                                       replaced.out()));
  } else {
    ctx.expect_code("zinc_remove_stale(" + unpublished_text + ", DEFAULT)", 0,
                    ctx.zinc.remove_stale(unpublished.c_str(), ZINC_REMOVE_DEFAULT));
  }
}

// docs/spec.md §4.4, the verdicts: owner_pid <= 0 in a region without
// liveness locks names no process, so the creator cannot be judged
// (ZINC_CREATOR_UNKNOWN), and a creator that cannot be judged is never taken
// for a dead one: remove_stale refuses (-16), REPLACE_STALE fails (-17), and
// only ZINC_REMOVE_FORCE removes the region.
void creator_that_cannot_be_judged_is_never_dead(CheckContext& ctx) {
  for (int32_t owner_pid : {0, -1}) {
    ObjectGuard g(ctx.unique_name());
    std::vector<uint8_t> page = valid_header_page(g.name(), ctx.page());
    store_le(page.data() + offset::kOwnerPid, 4, static_cast<uint32_t>(owner_pid));
    store_le(page.data() + offset::kCreatedAt, 8, realtime_ns());
    plant_object(g.name(), page, 2 * ctx.page());
    const std::string region = "a flags-0 region with owner_pid " + std::to_string(owner_pid);
    if (ctx.zinc.has("zinc_creator_state")) {
      expect_creator_state(ctx, "zinc_creator_state of " + region, ZINC_CREATOR_UNKNOWN,
                           ctx.zinc.creator_state(g.c_str()));
    }
    ctx.expect_code("zinc_remove_stale(DEFAULT) of " + region, ZINC_EBUSY,
                    ctx.zinc.remove_stale(g.c_str(), ZINC_REMOVE_DEFAULT));
    ctx.expect_code(
        "zinc_remove_stale(IF_UNMAPPED | DRY_RUN) of " + region, ZINC_EBUSY,
        ctx.zinc.remove_stale(g.c_str(), ZINC_REMOVE_IF_UNMAPPED | ZINC_REMOVE_DRY_RUN));
    ctx.require(object_exists(g.name()), region + " after those", "still there", "removed");
    if (ctx.zinc.has("zinc_create_ex")) {
      Handle replaced(ctx.zinc);
      ctx.expect_code(
          "zinc_create_ex(REPLACE_STALE) over " + region, ZINC_EEXIST,
          ctx.zinc.create_ex(g.c_str(), ctx.page(), ZINC_CREATE_REPLACE_STALE, replaced.out()));
      ctx.expect_eq("owner_pid under the name after that (sign-extended)",
                    static_cast<uint64_t>(static_cast<int64_t>(owner_pid)),
                    static_cast<uint64_t>(static_cast<int64_t>(read_header(g.name()).owner_pid)));
    }
    ctx.expect_code("zinc_remove_stale(FORCE) of " + region, 0,
                    ctx.zinc.remove_stale(g.c_str(), ZINC_REMOVE_FORCE));
    ctx.expect(!object_exists(g.name()), region + " after FORCE returned 0", "removed",
               "still there");
  }
}

// docs/spec.md §4.4, the pid rule (a region without liveness locks):
// owner_pid names a live process, but it is the creator only if it started
// no later than created_at + 2 s or maps the region. A live unrelated
// process that started after created_at (a recycled pid) is
// ZINC_CREATOR_PID_REUSED and the region is stale; the same pid with a
// created_at after its start is the creator (alive).
void recycled_pid_is_not_the_creator(CheckContext& ctx) {
  // Forked before anything is planted: it maps nothing of the regions.
  ChannelChild stranger([] { return 0; });
  ctx.require_code("a live process unrelated to the region (a forked child)", 0, stranger.result());
  const uint32_t pid = static_cast<uint32_t>(stranger.pid());
  auto plant = [&](const ObjectGuard& g, uint64_t created_at) {
    std::vector<uint8_t> page = valid_header_page(g.name(), ctx.page());
    store_le(page.data() + offset::kOwnerPid, 4, pid);
    store_le(page.data() + offset::kCreatedAt, 8, created_at);
    plant_object(g.name(), page, 2 * ctx.page());
  };
  ObjectGuard recycled(ctx.unique_name());
  plant(recycled, realtime_ns() - 3600ULL * 1000000000ULL);
  const std::string old_region = "a flags-0 region made an hour before its owner_pid (" +
                                 std::to_string(pid) + ", live, unrelated) started";
  if (ctx.zinc.has("zinc_creator_state")) {
    expect_creator_state(ctx, "zinc_creator_state of " + old_region, ZINC_CREATOR_PID_REUSED,
                         ctx.zinc.creator_state(recycled.c_str()));
  }
  ctx.expect_code("zinc_remove_stale(DEFAULT) of " + old_region, 0,
                  ctx.zinc.remove_stale(recycled.c_str(), ZINC_REMOVE_DEFAULT));
  ctx.expect(!object_exists(recycled.name()), old_region + " afterwards", "removed", "still there");

  ObjectGuard current(ctx.unique_name());
  plant(current, realtime_ns());
  const std::string new_region =
      "a flags-0 region made after its owner_pid (" + std::to_string(pid) + ", live) started";
  if (ctx.zinc.has("zinc_creator_state")) {
    expect_creator_state(ctx, "zinc_creator_state of " + new_region, ZINC_CREATOR_ALIVE,
                         ctx.zinc.creator_state(current.c_str()));
  }
  ctx.expect_code("zinc_remove_stale(DEFAULT) of " + new_region, ZINC_EBUSY,
                  ctx.zinc.remove_stale(current.c_str(), ZINC_REMOVE_DEFAULT));
  ctx.expect(object_exists(current.name()), new_region + " afterwards", "still there", "removed");
}

// docs/spec.md §4.4: ZINC_CREATE_REPLACE_STALE replaces a dead creator's
// region (and nothing else), rather than being accepted and ignored.
void replace_stale_replaces_a_dead_creators_region(CheckContext& ctx) {
  ObjectGuard dead(ctx.unique_name());
  auto creator = peer_creator(ctx, dead.name());
  const HeaderFields old = read_header(dead.name());
  creator->kill_hard();
  Handle replaced(ctx.zinc);
  const int32_t rc =
      ctx.zinc.create_ex(dead.c_str(), ctx.page(), ZINC_CREATE_REPLACE_STALE, replaced.out());
  ctx.expect_code("zinc_create_ex(name, P, REPLACE_STALE) over a SIGKILLed creator's region", 0,
                  rc);
  if (rc == 0) {
    const HeaderFields now = read_header(dead.name());
    ctx.expect_eq("owner_pid of the region under the name afterwards",
                  static_cast<uint64_t>(getpid()), static_cast<uint64_t>(now.owner_pid));
    ctx.expect(now.created_at != old.created_at || now.owner_pid != old.owner_pid,
               "the region under the name afterwards", "a new one (owner and created_at ours)",
               "still the dead creator's");
    ctx.expect_eq("bytes of the new region's data area that are not zero", 0,
                  static_cast<uint64_t>(std::count_if(replaced.data(), replaced.data() + ctx.page(),
                                                      [](uint8_t b) { return b != 0; })));
  }

  ObjectGuard live(ctx.unique_name());
  Handle owner = create_region(ctx, live.name(), ctx.page());
  owner.data()[0] = 9;
  Handle second(ctx.zinc);
  ctx.expect_code(
      "zinc_create_ex(name, P, REPLACE_STALE) over a live creator's region", ZINC_EEXIST,
      ctx.zinc.create_ex(live.c_str(), ctx.page(), ZINC_CREATE_REPLACE_STALE, second.out()));
  ctx.expect_eq("byte 0 of the live region afterwards", 9, owner.data()[0]);
}

const RegisterChecks registered({
    {.name = "stale.unreaped_creator_is_dead",
     .requirement = Requirement::kExtension,
     .summary = "a creator that exited but is not reaped (a zombie) is ZINC_CREATOR_DEAD and "
                "its region is removable",
     .needs = {"zinc_creator_state", "zinc_remove_stale"},
     .run = unreaped_creator_is_dead},
    {.name = "stale.mapped_by_lists_each_mapping_process",
     .requirement = Requirement::kExtension,
     .summary = "zinc_mapped_by lists this process and a peer in increasing order; the peer's "
                "close takes it off",
     .needs = {"zinc_mapped_by"},
     .run = mapped_by_lists_each_mapping_process},
    {.name = "stale.remove_if_unmapped_keeps_a_mapped_region",
     .requirement = Requirement::kExtension,
     .summary = "a dead creator's region that one process still maps: IF_UNMAPPED refuses with "
                "-16 until it closes, then removes it",
     .needs = {"zinc_remove_stale"},
     .run = remove_if_unmapped_keeps_a_mapped_region},
    {.name = "stale.remove_stale_keeps_what_is_not_stale",
     .requirement = Requirement::kExtension,
     .summary = "zinc_remove_stale: -16 for a live creator, -74 for an invalid object, -2 for no "
                "object; 0 and removed for a SIGKILLed creator's region",
     .needs = {"zinc_remove_stale"},
     .run = remove_stale_keeps_what_is_not_stale},
    {.name = "stale.unfinished_object_in_its_grace_period_is_kept",
     .requirement = Requirement::kExtension,
     .summary = "zinc_remove_stale (DEFAULT, IF_UNMAPPED, DRY_RUN) of an empty and of a magic-0 "
                "object made just now: their inspect code (-11), and they stay (10 s grace)",
     .needs = {"zinc_remove_stale"},
     .run = unfinished_object_in_its_grace_period_is_kept},
    {.name = "stale.mapped_unfinished_object_keeps_its_inspect_code",
     .requirement = Requirement::kExtension,
     .summary = "zinc_remove_stale of unfinished objects made just now that another process maps "
                "or holds open: their inspect code (-11), not -16, and they stay (grace first)",
     .needs = {"zinc_remove_stale"},
     .run = mapped_unfinished_object_keeps_its_inspect_code},
    {.name = "stale.abandoned_unfinished_objects_are_stale_after_the_grace",
     .requirement = Requirement::kExtension,
     .summary = "unfinished objects planted when the run starts, judged once 10.5 s old: removable "
                "(remove_stale 0, REPLACE_STALE over one), but -16 while a process maps one",
     .needs = {"zinc_remove_stale"},
     .run = abandoned_unfinished_objects_are_stale_after_the_grace,
     .prepare = plant_aged_unfinished_objects},
    {.name = "stale.creator_that_cannot_be_judged_is_never_dead",
     .requirement = Requirement::kExtension,
     .summary = "flags-0 regions with owner_pid 0 and -1: ZINC_CREATOR_UNKNOWN, remove_stale -16, "
                "REPLACE_STALE -17; only REMOVE_FORCE removes them",
     .needs = {"zinc_remove_stale"},
     .run = creator_that_cannot_be_judged_is_never_dead},
    {.name = "stale.recycled_pid_is_not_the_creator",
     .requirement = Requirement::kExtension,
     .summary = "flags-0 region whose owner_pid is a live process that started an hour after "
                "created_at: ZINC_CREATOR_PID_REUSED, removable; created after it started: alive",
     .needs = {"zinc_remove_stale"},
     .run = recycled_pid_is_not_the_creator},
    {.name = "stale.replace_stale_replaces_a_dead_creators_region",
     .requirement = Requirement::kExtension,
     .summary = "zinc_create_ex(REPLACE_STALE) over a SIGKILLed creator's region makes a new "
                "region (owner this process); over a live creator's it is -17",
     .needs = {"zinc_create_ex"},
     .run = replace_stale_replaces_a_dead_creators_region},
});

}  // namespace
}  // namespace zinc::conformance
