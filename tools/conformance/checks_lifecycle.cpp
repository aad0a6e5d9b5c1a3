// lifecycle.*: who unlinks, what survives a close (docs/spec.md §4.3).
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
});

}  // namespace
}  // namespace zinc::conformance
