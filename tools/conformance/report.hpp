// The per-check report on stdout and the JUnit XML file for CI systems.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "runner.hpp"

namespace zinc::conformance {

// Whether a failed check makes the run fail: required checks always,
// extension checks only with --strict.
bool counts(const CheckResult& result, bool strict);

// One check: "PASS  required   name", then one line per finding.
void print_result(std::FILE* out, const CheckResult& result, bool strict, bool verbose);

struct Totals {
  int passed = 0;
  int skipped = 0;
  int failed_required = 0;
  int failed_extension = 0;
  int counted_failures = 0;
};
Totals tally(const std::vector<CheckResult>& results, bool strict);

void print_summary(std::FILE* out, const Totals& totals, bool strict, double seconds);

// Writes a JUnit XML report. Uncounted extension failures are written as
// skipped test cases whose message says they failed, so CI agrees with the
// exit status.
bool write_junit(const std::string& path, const std::vector<CheckResult>& results,
                 const RunOptions& options, double seconds);

}  // namespace zinc::conformance
