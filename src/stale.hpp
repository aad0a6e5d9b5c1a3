// Removing stale regions: valid regions whose creator is dead.
#pragma once

#include <cstdint>
#include <string_view>

#include "status.hpp"

namespace zinc::core {

// Unlinks "/zinc_<name>" if it is a valid region whose creator is dead and,
// with ZINC_REMOVE_IF_UNMAPPED, no process maps it; ZINC_REMOVE_DRY_RUN
// only decides. Not stale: ZINC_EBUSY with the reason. Invalid objects keep
// the code inspect_object gives them. Removers serialise on an flock of the
// judged object and unlink only while the name still refers to it.
Status remove_stale(std::string_view name, uint32_t flags);

}  // namespace zinc::core
