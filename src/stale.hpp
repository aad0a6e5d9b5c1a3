// Removing stale regions: valid regions whose creator is dead.
#pragma once

#include <cstdint>
#include <string_view>

#include "status.hpp"

namespace zinc::core {

// How long an unfinished object (empty, or header not published) must have
// been left unchanged before it counts as stale (docs/spec.md §4.4).
inline constexpr uint64_t kUnfinishedGraceNs = 10'000'000'000;

// Unlinks "/zinc_<name>" if it is stale: a valid region whose creator is
// dead or an unfinished object abandoned for kUnfinishedGraceNs, and, with
// ZINC_REMOVE_IF_UNMAPPED, that no process maps. ZINC_REMOVE_FORCE skips the
// creator check, ZINC_REMOVE_INVALID removes any object that is not a valid
// region, ZINC_REMOVE_DRY_RUN only decides. Not stale: ZINC_EBUSY with the
// reason. Other invalid objects keep the code inspect_object gives them.
// The unlink is identity-safe (removal.hpp).
Status remove_stale(std::string_view name, uint32_t flags);

namespace testing {
// The grace period in force (kUnfinishedGraceNs unless a test shortens it).
extern uint64_t unfinished_grace_ns;
}  // namespace testing

}  // namespace zinc::core
