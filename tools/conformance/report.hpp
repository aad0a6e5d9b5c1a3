// The per-check report on stdout, and the JUnit XML and JSON files for CI
// systems and scripts.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "runner.hpp"

namespace zinc::conformance {

// Whether a failed check makes the run fail: required checks always,
// extension checks only with --strict.
bool counts(const CheckResult& result, bool strict);

// Marks results.back() as a repeat when an earlier counted failure broke the
// same rule (rule_key): the run then counts that rule once.
void mark_repeated_rule(std::vector<CheckResult>& results, bool strict);

// One check: "PASS  required   name", then one line per finding.
void print_result(std::FILE* out, const CheckResult& result, bool strict, bool verbose);

struct Totals {
  int passed = 0;
  int skipped = 0;           // every skip, the optional ones included
  int skipped_optional = 0;  // the port leaves out an optional part
  int failed_required = 0;
  int failed_extension = 0;
  int counted_failures = 0;  // distinct rules broken by counted failures
  int repeated = 0;          // counted failures of a rule already counted
};
Totals tally(const std::vector<CheckResult>& results, bool strict);

void print_summary(std::FILE* out, const Totals& totals, bool strict, double seconds);

// A region the run swept at the end, and the check that made it.
struct SweptRegion {
  std::string name;
  std::string check;          // "" if the name carries no known check index
  bool on_purpose = false;    // the check leaves it (Check::leaves_regions)
  bool check_killed = false;  // the check's process was killed: its clean-up never ran
};

// "swept N regions ...": which checks left them, and whether the candidate
// is to blame, or the kit's own check (left on purpose, or killed before its
// clean-up ran).
void print_swept(std::FILE* out, const std::vector<SweptRegion>& swept);

// Writes a JUnit XML report. Uncounted extension failures are written as
// skipped test cases whose message says they failed, so CI agrees with the
// exit status.
bool write_junit(const std::string& path, const std::vector<CheckResult>& results,
                 const RunOptions& options, double seconds);

// Writes the whole run as one JSON document (format in docs/porting.md §2).
bool write_json(const std::string& path, const std::vector<CheckResult>& results,
                const std::vector<SweptRegion>& swept, const RunOptions& options, double seconds);

}  // namespace zinc::conformance
