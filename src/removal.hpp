// Identity-safe removal of a name: unlink "/zinc_<name>" only while it still
// refers to the object that was judged, never a region re-created under the
// name in between.
//
// Every zinc process that unlinks a regular object (an owner's close,
// zinc_remove_stale, the CLI through it) first takes flock(LOCK_EX) on that
// object, then checks with lstat that the name still refers to it, then
// unlinks. A new region can take the name only after the judged object was
// unlinked, and no zinc process can unlink it without that lock, so the
// check stays true until the unlink. Processes outside this protocol (a
// plain v2 peer's close, a user's rm) do not lock: docs/spec.md §4.3 states
// that residual window.
#pragma once

#include <string>

#include "posix.hpp"
#include "status.hpp"

namespace zinc::core {

// Unlinks `object` if it still refers to `judged`. The caller holds the
// flock of `judged`. ZINC_EBUSY if the name now refers to another object,
// ZINC_ENOENT if it is gone.
Status unlink_locked(const std::string& object, const posix::ObjectId& judged);

// For an object that cannot be opened and locked (a symlink, a socket, a
// FIFO or directory we may not read): renames it to a hidden name, checks
// that what moved is `judged`, and unlinks that; anything else is put back.
Status unlink_unlockable(const std::string& object, const posix::ObjectId& judged);

// An owner's close: unlinks `object` if it still refers to `own`. Waits for
// the lock a bounded time (other removers hold it for microseconds); if it
// stays held, or the name refers to another object, the name is left alone.
void unlink_own(const std::string& object, const posix::ObjectId& own);

namespace testing {
// Called, when set, between the identity check and the unlink, with the lock
// held: a test uses it to force the interleaving with a concurrent re-create.
extern void (*before_unlink)(const std::string& object);
}  // namespace testing

}  // namespace zinc::core
