// A read-only look at a region's object: what zinc_open would say about it,
// without mapping it or counting a reference.
#pragma once

#include <cstdint>
#include <string_view>

#include "posix.hpp"
#include "status.hpp"
#include "zinc.h"

namespace zinc::core {

struct Inspection {
  posix::Fd fd;             // the object, open read-only (invalid if it could not be opened)
  bool identified = false;  // `id` is known (also for a symlink or socket, via lstat)
  posix::ObjectId id;
  uint64_t size = 0;
  bool has_header = false;  // a whole header could be read into `header`
  ZincHeaderInfo header{};
};

// Opens "/zinc_<name>" read-only (never blocking: a FIFO under the name is
// reported as ZINC_EBADMSG, not waited on), reads its header with pread (which never
// faults, whatever the object's size) and validates it exactly as zinc_open
// does, name_hash included. `out` keeps whatever could be gathered even
// when the returned status is an error.
Status inspect_object(std::string_view name, Inspection* out);

}  // namespace zinc::core
