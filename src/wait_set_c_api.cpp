// The extern "C" surface of wait sets: argument checks, the wait set handle
// table (a third kind of src/handle_table.hpp, tag 13) and error codes.
// Everything else is in WaitSet.
#include <cstring>
#include <memory>
#include <string>

#include "handle_table.hpp"
#include "last_error.hpp"
#include "wait_set.hpp"
#include "zinc.h"

namespace {

using zinc::core::Status;
using zinc::core::WaitSet;

int32_t fail(int32_t code, const std::string& message) {
  return zinc::core::record_failure(Status::error(code, message));
}

// Every call pins its set (a close from another thread cancels a blocked
// wait, waits for it to return, then destroys the set).
using WaitSetPin = zinc::core::HandleTable<WaitSet>::Pin;
zinc::core::HandleTable<WaitSet>& sets() {
  return zinc::core::wait_set_handles();
}

constexpr const char* kBadSet = "wait set handle is NULL or already closed";

// The pinned set, or null with the failure recorded in *code.
WaitSet* usable(const WaitSetPin& pin, int32_t* code) {
  if (pin.get() == nullptr) {
    *code = fail(ZINC_EINVAL, kBadSet);
    return nullptr;
  }
  if (pin->inherited()) {
    *code = fail(ZINC_EINVAL, "wait set: inherited through fork(); make a new set in this process");
    return nullptr;
  }
  return pin.get();
}

int32_t add(ZincWaitSet set, WaitSet::Kind kind, void* member, uint64_t key) {
  WaitSetPin pin(sets(), set);
  int32_t code = 0;
  WaitSet* s = usable(pin, &code);
  if (s == nullptr) return code;
  const Status added = s->add(kind, member, key);
  return added.is_ok() ? ZINC_OK : zinc::core::record_failure(added);
}

}  // namespace

extern "C" {

int32_t zinc_wait_set_create(ZincWaitSet* out) {
  if (out == nullptr) return fail(ZINC_EINVAL, "out pointer is NULL");
  *out = nullptr;
  ZincWaitSet handle = sets().insert(std::make_unique<WaitSet>());
  if (handle == nullptr) return fail(-12, "too many open zinc wait sets in this process");
  *out = handle;
  return ZINC_OK;
}

int32_t zinc_wait_set_add_region(ZincWaitSet set, ZincHandle region, uint64_t key) {
  return add(set, WaitSet::Kind::kRegion, region, key);
}

int32_t zinc_wait_set_add_channel(ZincWaitSet set, ZincChannel channel, uint64_t key) {
  return add(set, WaitSet::Kind::kChannel, channel, key);
}

int32_t zinc_wait_set_remove(ZincWaitSet set, void* member) {
  WaitSetPin pin(sets(), set);
  int32_t code = 0;
  WaitSet* s = usable(pin, &code);
  if (s == nullptr) return code;
  const Status removed = s->remove(member);
  return removed.is_ok() ? ZINC_OK : zinc::core::record_failure(removed);
}

namespace {

int32_t wait_for_members(ZincWaitSet set, uint32_t timeout_ms, uint64_t* keys, uint32_t max_keys,
                         bool on_signal) {
  if (keys == nullptr || max_keys == 0) {
    return fail(ZINC_EINVAL, "wait set: keys is NULL or max_keys is 0");
  }
  WaitSetPin pin(sets(), set);
  int32_t code = 0;
  WaitSet* s = usable(pin, &code);
  if (s == nullptr) return code;
  const int32_t rc = s->wait(timeout_ms, keys, max_keys, on_signal);
  if (rc == ZINC_ETIMEDOUT) return fail(rc, "wait set: no member was ready in time");
  if (rc == ZINC_ECANCELED) return fail(rc, "wait set: the set was closed while waiting");
  if (rc == ZINC_EAGAIN) {
    return fail(rc, on_signal ? "wait set: interrupted (zinc_wait_set_interrupt, or a signal)"
                              : "wait set: interrupted (zinc_wait_set_interrupt)");
  }
  if (rc < 0) return fail(rc, "wait set: futex wait failed: " + std::string(strerror(-rc)));
  return rc;
}

}  // namespace

int32_t zinc_wait_set_wait(ZincWaitSet set, uint32_t timeout_ms, uint64_t* keys,
                           uint32_t max_keys) {
  return wait_for_members(set, timeout_ms, keys, max_keys, false);
}

int32_t zinc_wait_set_wait_interruptible(ZincWaitSet set, uint32_t timeout_ms, uint64_t* keys,
                                         uint32_t max_keys) {
  return wait_for_members(set, timeout_ms, keys, max_keys, true);
}

int32_t zinc_wait_set_fd(ZincWaitSet set) {
  WaitSetPin pin(sets(), set);
  int32_t code = 0;
  WaitSet* s = usable(pin, &code);
  if (s == nullptr) return code;
  const int32_t fd = s->fd();
  if (fd < 0) return fail(fd, "wait set: eventfd failed: " + std::string(strerror(-fd)));
  return fd;
}

int32_t zinc_wait_set_interrupt(ZincWaitSet set) {
  WaitSetPin pin(sets(), set);
  int32_t code = 0;
  WaitSet* s = usable(pin, &code);
  if (s == nullptr) return code;
  s->interrupt();
  return ZINC_OK;
}

int32_t zinc_wait_set_mechanism(ZincWaitSet set) {
  WaitSetPin pin(sets(), set);
  if (pin.get() == nullptr) return fail(ZINC_EINVAL, kBadSet);
  return pin->uses_wait_any() ? ZINC_WAIT_SET_FUTEX_WAITV : ZINC_WAIT_SET_POLL;
}

void zinc_wait_set_close(ZincWaitSet set) {
  if (set == nullptr) return;
  if (!sets().close(set)) fail(ZINC_EINVAL, kBadSet);
}

}  // extern "C"
