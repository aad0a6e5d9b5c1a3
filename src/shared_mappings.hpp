// Mapping region objects, once per object per process when the build asks
// for it (-DZINC_SHARED_MAPPINGS=ON, meant for ThreadSanitizer builds).
//
// Normally every handle maps its object itself, so one shared byte has a
// different address in each handle of a process. ThreadSanitizer relates
// accesses by address: a channel writer's store and a reader's load of the
// same slot, made through two handles, look unrelated to it, and no ordering
// bug in the channel code can be reported (issue 20). With one mapping per
// object, shared by every handle of the process and counted, the two threads
// touch one address and TSan sees every pair of accesses that no
// happens-before edge orders. Nothing else changes: the mapping lives until
// the last handle of the object in the process closes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "posix.hpp"
#include "status.hpp"

namespace zinc::core::mappings {

// True in builds made with ZINC_SHARED_MAPPINGS.
bool shared();

// Maps `length` bytes of object `id` (open as `fd`) read-write and shared,
// or, in a sharing build, returns the process's mapping of it (same object,
// same length) and counts one more user.
Status map(int fd, const posix::ObjectId& id, size_t length, bool populate, uint8_t** base);

// Undoes one map(): unmaps, or in a sharing build counts one user less and
// unmaps with the last one.
void unmap(uint8_t* base, size_t length);

}  // namespace zinc::core::mappings
