// Runs each check in a forked process of its own, so a candidate that
// crashes, hangs or leaks state fails that one check and nothing else.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "check.hpp"

namespace zinc::conformance {

enum class Outcome { kPass, kFail, kSkip };

struct Finding {
  std::string what;
  std::string expected;
  std::string actual;
};

struct CheckResult {
  const Check* check = nullptr;
  Outcome outcome = Outcome::kPass;
  std::vector<Finding> failures;
  std::vector<std::string> notes;
  std::string skip_reason;
  // Skipped because the port leaves out an optional part of the protocol
  // (optional_feature_of): "channels (§10)"; "" for any other skip.
  std::string optional_feature;
  // Another failed check of the same rule (rule_key) came first: this one is
  // reported but not counted again.
  std::string same_rule_as;
  // False when the check's process was killed (a hang, a crash, a stop
  // signal): its own clean-up never ran.
  bool finished = true;
  double seconds = 0;
};

// Forks, loads the candidate in the child, runs the check there, and
// collects its findings through a pipe. Kills the check's process group if
// it outlives options.check_timeout_s.
CheckResult run_check(const Check& check, int index, const RunOptions& options);

// What a quick look at the candidate found (done in a child process too, so
// the kit itself never loads the candidate).
struct Probe {
  bool loaded = false;
  std::string error;
  uint32_t version = 0;
  std::vector<std::string> missing_required;
  std::vector<std::string> missing_optional;
};
Probe probe_library(const std::string& path);

// SIGINT, SIGTERM and SIGHUP end the check in progress (its process group
// is killed) instead of the kit, so the run can still sweep and report.
void stop_on_signals();
// The signal that asked the run to stop, or 0.
int stop_requested();

// Unlinks every region whose name starts with run_prefix(options); returns
// the names it removed.
std::vector<std::string> sweep_regions(const RunOptions& options);

}  // namespace zinc::conformance
