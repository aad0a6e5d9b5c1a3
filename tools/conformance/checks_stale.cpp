// stale.*: crash recovery, a [reference] addition (docs/spec.md §4.4):
// whether a region's creator still runs (one that exited but was not yet
// reaped is dead), which processes map a region, and when zinc_remove_stale
// may remove one. The protocol half (a region outlives its creator and stays
// usable) is in xproc.*.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <vector>

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

// docs/spec.md §4.4: an unfinished object (size 0, or magic 0) is what a
// creator leaves between its shm_open and its publish. remove_stale leaves
// it alone for 10 s after its last change, so a live creator is never robbed
// of the name mid-create. (The other half, that an abandoned one is removed
// after 10 s, is not checked: st_ctime cannot be set back, and a check that
// sleeps 10 s would run in every mutant's run.)
void unfinished_object_in_its_grace_period_is_kept(CheckContext& ctx) {
  ObjectGuard empty(ctx.unique_name());
  plant_object(empty.name(), {}, 0);
  ObjectGuard unpublished(ctx.unique_name());
  plant_object(unpublished.name(), std::vector<uint8_t>(64, 0), 2 * ctx.page());
  const std::pair<const ObjectGuard*, const char*> objects[] = {
      {&empty, "an empty object made just now"},
      {&unpublished, "a 2-page object with magic 0 made just now"}};
  for (const auto& object : objects) {
    for (uint32_t flags : {ZINC_REMOVE_DEFAULT, ZINC_REMOVE_IF_UNMAPPED}) {
      const std::string label = std::string("zinc_remove_stale(") + object.second +
                                (flags == ZINC_REMOVE_DEFAULT ? ", DEFAULT)" : ", IF_UNMAPPED)");
      const int32_t rc = ctx.zinc.remove_stale(object.first->c_str(), flags);
      // Its inspect code (-11, or -74 where open calls it corrupt, as the
      // original does), or -16: anything but a removal.
      ctx.expect_code_in(label + " (in its 10 s grace period)",
                         {ZINC_EAGAIN, ZINC_EBADMSG, ZINC_EBUSY}, rc);
      ctx.expect(object_exists(object.first->name()), "the object after " + label, "left alone",
                 "removed");
      if (!object_exists(object.first->name())) return;
    }
  }
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
     .summary = "zinc_remove_stale (DEFAULT, IF_UNMAPPED) of an empty and of a magic-0 object made "
                "just now: -11, -74 or -16, and the object stays (10 s grace)",
     .needs = {"zinc_remove_stale"},
     .run = unfinished_object_in_its_grace_period_is_kept},
    {.name = "stale.replace_stale_replaces_a_dead_creators_region",
     .requirement = Requirement::kExtension,
     .summary = "zinc_create_ex(REPLACE_STALE) over a SIGKILLed creator's region makes a new "
                "region (owner this process); over a live creator's it is -17",
     .needs = {"zinc_create_ex"},
     .run = replace_stale_replaces_a_dead_creators_region},
});

}  // namespace
}  // namespace zinc::conformance
