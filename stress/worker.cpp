// One participant of a multiprocess stress scenario, started by zinc_stress:
//   zinc_stress_worker LOG-REGION SUBJECT-REGION PARAMS...
// It opens the driver's log region (control block and its log slot) and the
// region under test (the creator role creates it instead), runs its role
// and exits 0. Problems it detects go to its slot for the driver to report.
// A participant marked plain speaks plain v2 through tests/plain_v2.hpp
// instead of libzinc, like a peer built on the original implementation.
#include <cstdio>
#include <string>
#include <vector>

#include "stress_shared.hpp"

using namespace zinc::stress;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s LOG-REGION SUBJECT-REGION PARAMS...\n", argv[0]);
    return 2;
  }
  const Params params = from_args(std::vector<std::string>(argv + 3, argv + argc));
  ZincHandle log = nullptr;
  if (zinc_open(argv[1], &log) != ZINC_OK) {
    std::fprintf(stderr, "worker: cannot open log region %s: %s\n", argv[1],
                 zinc_last_error_message());
    return 1;
  }
  Shared* shared = reinterpret_cast<Shared*>(zinc_ptr(log));
  Context context;
  context.shared = shared;
  context.subject_name = argv[2];
  if (params.plain) {
    // A peer that speaks only plain v2 (as the original implementation does).
    context.plain = zinc::test::PlainV2Handle::open(argv[2]);
    if (context.plain == nullptr) {
      Slot& slot = shared->slots[params.index];
      std::snprintf(slot.failure, sizeof slot.failure, "participant %d: plain v2 open failed",
                    params.index);
      slot.failed.store(1);
      slot.phase.store(Phase::kFinished);
      zinc_close(log);
      return 1;
    }
    context.data = context.plain->data();
    context.seq = reinterpret_cast<std::atomic<uint32_t>*>(context.data - zinc_page_size() + 12);
    context.capacity = params.capacity;
  } else if (params.role != Role::kCreator) {
    const int32_t rc = zinc_open(argv[2], &context.handle);
    if (rc != ZINC_OK) {
      Slot& slot = shared->slots[params.index];
      std::snprintf(slot.failure, sizeof slot.failure, "participant %d: open failed: %s",
                    params.index, zinc_last_error_message());
      slot.failed.store(1);
      slot.phase.store(Phase::kFinished);
      zinc_close(log);
      return 1;
    }
    context.seq = seq_word(context.handle);
    context.data = zinc_ptr(context.handle);
    context.capacity = zinc_capacity(context.handle);
  }
  run_role(params, context);
  zinc_close(log);
  return 0;
}
