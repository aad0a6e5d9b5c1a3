// Region fixtures for the CLI tests: objects in every state an operator can
// meet (live, crashed creator, recycled pid, corrupted, foreign, unfinished).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "json_value.hpp"
#include "test_support.hpp"

namespace zinc::cli::test {

extern const uint64_t kPage;
extern const std::string kPageText;
constexpr uint64_t kSecond = 1000000000ULL;

// Shared with the library's tests (tests/test_support.hpp).
using zinc::test::contains;
using zinc::test::dead_pid;
using zinc::test::realtime_ns;
using zinc::test::write_region;
// A region whose magic is wrong (and whose owner_pid is dead).
void write_corrupted(const std::string& name);
// Something else's bytes under a zinc name: a 12-byte text file.
void write_foreign(const std::string& name);
// What a creator that died right after shm_open leaves: an empty object.
void write_unfinished(const std::string& name);

// The lines of `text` (without newlines).
std::vector<std::string> lines_of(const std::string& text);
// The line of a `zinc ls` table that describes region `name`, split into columns.
std::vector<std::string> ls_row(const std::string& table, const std::string& name);
// The entry for `name` in `zinc ls --json` output.
JsonValue ls_entry(const std::string& json, const std::string& name);

}  // namespace zinc::cli::test
