// lifecycle.*: who unlinks, what survives a close (docs/spec.md §4.3).
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <set>
#include <vector>

#include "check_support.hpp"
#include "raw_object.hpp"

namespace zinc::conformance {
namespace {

void owner_close_unlinks_the_name(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  owner.close();
  ctx.expect(!object_exists(g.name()), object_path(g.name()) + " after the owner's close",
             "unlinked", "still there");
  ZincHandle out = junk_handle();
  const int32_t rc = ctx.zinc.open(g.c_str(), &out);
  ctx.expect_code("zinc_open after the owner's close", ZINC_ENOENT, rc);
  if (rc == 0) ctx.zinc.close(out);
}

void reader_close_leaves_the_name(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  Handle reader = open_region(ctx, g.name());
  reader.close();
  ctx.expect(object_exists(g.name()), object_path(g.name()) + " after a reader's close",
             "still there", "unlinked");
  Handle again = open_region(ctx, g.name());
}

void reader_keeps_its_mapping_after_the_owner_closes(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  owner.data()[10] = 123;
  Handle reader = open_region(ctx, g.name());
  owner.close();
  ctx.require(reader.data() != nullptr, "zinc_ptr(reader) after the owner's close", "non-NULL",
              "NULL");
  ctx.expect_eq("reader's byte 10 after the owner's close", 123, reader.data()[10]);
  reader.data()[11] = 1;
  ctx.expect_eq("reader's byte 11 written after the owner's close", 1, reader.data()[11]);
  ctx.expect_eq("zinc_capacity(reader) after the owner's close", ctx.page(),
                ctx.zinc.capacity(reader.get()));
  ctx.zinc.notify(reader.get());
  ctx.expect_code("zinc_try_wait(reader) after its own notify, owner gone", 0,
                  ctx.zinc.try_wait(reader.get()));
}

void name_is_reusable_after_the_owner_closes(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle old_owner = create_region(ctx, g.name(), ctx.page());
  old_owner.data()[0] = 1;
  Handle old_reader = open_region(ctx, g.name());
  old_owner.close();
  Handle new_owner = create_region(ctx, g.name(), 2 * ctx.page());
  ctx.expect_eq("the new region's byte 0", 0, new_owner.data()[0]);
  ctx.expect_eq("the new region's capacity", 2 * ctx.page(), ctx.zinc.capacity(new_owner.get()));
  new_owner.data()[0] = 2;
  ctx.expect_eq("the old reader's byte 0 (its own, older region)", 1, old_reader.data()[0]);
  Handle new_reader = open_region(ctx, g.name());
  ctx.expect_eq("a new reader's byte 0 (the new region)", 2, new_reader.data()[0]);
  ctx.zinc.notify(old_reader.get());
  ctx.expect_code("zinc_try_wait(new reader) after a notify in the OLD region", ZINC_EAGAIN,
                  ctx.zinc.try_wait(new_reader.get()));
}

void owner_close_leaves_a_newer_region_alone(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle first_owner = create_region(ctx, g.name(), ctx.page());
  unlink_object(g.name());  // someone removes the name by hand ...
  Handle second_owner = create_region(ctx, g.name(), ctx.page());  // ... and re-creates it
  first_owner.close();
  ctx.expect(object_exists(g.name()), "the re-created region after the first owner's close",
             "still there (not the first owner's to unlink)", "unlinked");
  Handle reader(ctx.zinc);
  const int32_t rc = ctx.zinc.open(g.c_str(), reader.out());
  if (rc != 0) reader.leak();
  ctx.expect_code("zinc_open of the re-created region", 0, rc);
}

void many_handles_in_one_process(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  constexpr int kHandles = 200;
  std::vector<std::unique_ptr<Handle>> readers;
  std::set<ZincHandle> distinct;
  for (int i = 0; i < kHandles; ++i) {
    readers.push_back(std::make_unique<Handle>(open_region(ctx, g.name())));
    distinct.insert(readers.back()->get());
  }
  ctx.expect_eq("distinct handle values for 200 opens", kHandles, distinct.size());
  ctx.expect_eq("ref_count with 200 readers open", kHandles + 1, read_header(g.name()).ref_count);
  owner.data()[5] = 9;
  uint64_t wrong = 0;
  for (const auto& r : readers) wrong += r->data() == nullptr || r->data()[5] != 9;
  ctx.expect_eq("readers that do not see the owner's byte", 0, wrong);
  readers.clear();
  ctx.expect_eq("ref_count after closing them all", 1, read_header(g.name()).ref_count);
}

// docs/spec.md §4.3, handles and fork(): a child that inherits handles and
// closes them (or exits) only unmaps; the region, its name and its counts
// stay the parent's.
void forked_child_close_keeps_the_parents_region(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  Handle reader = open_region(ctx, g.name());
  owner.data()[0] = 5;
  const uint32_t refs_before = read_header(g.name()).ref_count;
  std::fflush(nullptr);
  const pid_t child = fork();
  if (child < 0) throw KitError("fork failed");
  if (child == 0) {
    // The inherited handles work here (the mapping is shared)...
    const bool sees = owner.data()[0] == 5;
    reader.data()[1] = 6;
    ctx.zinc.close(reader.get());
    ctx.zinc.close(owner.get());
    _exit(sees ? 0 : 3);
  }
  int status = 0;
  waitpid(child, &status, 0);
  ctx.expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
             "the child's view of the inherited owner handle", "sees byte 0 = 5, exits 0",
             WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status)) : "killed");
  ctx.require(object_exists(g.name()),
              object_path(g.name()) + " after a forked child closed the inherited owner handle",
              "still there (only the process that created it unlinks)", "unlinked");
  ctx.expect_eq("ref_count after the child closed both inherited handles", refs_before,
                read_header(g.name()).ref_count);
  ctx.expect_eq("byte 1, written by the child through the inherited reader", 6, owner.data()[1]);
  ZincHandle out = junk_handle();
  const int32_t rc = ctx.zinc.open(g.c_str(), &out);
  ctx.expect_code("zinc_open of the name in the parent afterwards", 0, rc);
  if (rc == 0) ctx.zinc.close(out);
}

// docs/spec.md §4.3 step 1: a close never takes ref_count below 0, even
// when another process (a crash, a forged header) already brought it to 0.
void close_never_takes_ref_count_below_zero(CheckContext& ctx) {
  ObjectGuard g(ctx.unique_name());
  Handle owner = create_region(ctx, g.name(), ctx.page());
  Handle reader = open_region(ctx, g.name());
  HeaderMapping kit(g.name());
  __atomic_store_n(kit.ref_count(), 0u, __ATOMIC_SEQ_CST);
  reader.close();
  ctx.expect_eq("ref_count after a close that found it at 0", 0,
                __atomic_load_n(kit.ref_count(), __ATOMIC_SEQ_CST));
  __atomic_store_n(kit.ref_count(), 0u, __ATOMIC_SEQ_CST);
  owner.close();
  ctx.expect_eq("ref_count after the owner's close found it at 0", 0,
                __atomic_load_n(kit.ref_count(), __ATOMIC_SEQ_CST));
}

const RegisterChecks registered({
    {.name = "lifecycle.owner_close_unlinks_the_name",
     .summary = "the owner's close removes /dev/shm/zinc_<name>; a later open returns -2",
     .run = owner_close_unlinks_the_name},
    {.name = "lifecycle.reader_close_leaves_the_name",
     .summary = "a reader's close does not unlink; the region can be opened again",
     .run = reader_close_leaves_the_name},
    {.name = "lifecycle.reader_keeps_its_mapping_after_the_owner_closes",
     .summary = "after the owner's close a reader still reads, writes, notifies and try_waits",
     .run = reader_keeps_its_mapping_after_the_owner_closes},
    {.name = "lifecycle.name_is_reusable_after_the_owner_closes",
     .summary =
         "a new create of the name makes an independent region; old readers keep the old one",
     .run = name_is_reusable_after_the_owner_closes},
    {.name = "lifecycle.owner_close_leaves_a_newer_region_alone",
     .requirement = Requirement::kExtension,
     .summary =
         "an owner whose name was removed and re-created by someone else does not unlink theirs",
     .run = owner_close_leaves_a_newer_region_alone},
    {.name = "lifecycle.many_handles_in_one_process",
     .summary =
         "200 handles to one region in one process: distinct, all see the data, ref_count follows",
     .run = many_handles_in_one_process},
    {.name = "lifecycle.forked_child_close_keeps_the_parents_region",
     .requirement = Requirement::kExtension,
     .summary = "a forked child uses the inherited owner and reader handles, closes them: the "
                "name stays, ref_count is unchanged, the parent still opens it",
     .run = forked_child_close_keeps_the_parents_region},
    {.name = "lifecycle.close_never_takes_ref_count_below_zero",
     .requirement = Requirement::kExtension,
     .summary = "a reader's and the owner's close, each finding ref_count 0 (forged), leave it "
                "0, not 2^32-1",
     .run = close_never_takes_ref_count_below_zero},
});

}  // namespace
}  // namespace zinc::conformance
