// Region names: the user-visible rule and the POSIX object name it maps to.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "status.hpp"

namespace zinc::core {

// Every POSIX object zinc touches is named kObjectPrefix + user name.
inline constexpr std::string_view kObjectPrefix = "/zinc_";

// 1..ZINC_MAX_NAME_LEN bytes, each in [A-Za-z0-9_-]. Checked before any
// syscall, so nothing outside the "/zinc_" namespace is ever created.
Status validate_name(std::string_view name);

// "/zinc_" + name; `name` must be valid.
std::string object_name(std::string_view name);

// FNV-1a 64 of the name bytes (without the prefix): the header's name_hash.
uint64_t name_hash(std::string_view name);

}  // namespace zinc::core
