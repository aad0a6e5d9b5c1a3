// A conformance check: one named scenario, run against the candidate in a
// process of its own, that records what it expected and what it got.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "library.hpp"

namespace zinc::conformance {

// "required": the protocol and the original ABI; every port must pass.
// "extension": what only the reference promises (docs/spec.md marks these
// [reference]); counted only with --strict.
enum class Requirement { kRequired, kExtension };
const char* requirement_name(Requirement requirement);

// What a run was asked to do; the same for every check.
struct RunOptions {
  std::string library;       // the candidate
  std::string reference;     // the reference library; "" if none was found
  std::string self;          // this executable, for peer processes
  std::string vectors;       // spec/vectors; "" if none was found
  std::string peer_command;  // runs the candidate's peers instead of --lib (a port's own)
  bool strict = false;
  int check_timeout_s = 60;
  pid_t run_id = 0;               // the kit's pid: part of every region name it makes
  std::string name_prefix = "t";  // --prefix: what region names start with
};

// The name prefix of every region a run creates: "<name_prefix><pid>-"
// ("t<pid>-" by default; "t<pid>" is also what scripts/lib.sh sweeps after a
// killed run).
std::string run_prefix(const RunOptions& options);
// The n-th region name a check makes: "<run prefix><check index>-<n>"
// (CheckContext::unique_name hands them out in order from 0).
std::string region_name(const RunOptions& options, int check_index, int n);
// The check index encoded in a region name the run made, or -1.
int check_index_of_region(const RunOptions& options, const std::string& name);

class Peer;
class CheckContext;

struct Check {
  std::string name = {};  // "group.scenario"
  Requirement requirement = Requirement::kRequired;
  std::string summary = {};  // one line: the behaviour checked
  // The docs/spec.md section of the rule ("§5.4"); "" takes the group's
  // (spec_section below).
  std::string section = {};
  // Checks that test one rule through different inputs share a key, so a
  // port that breaks it fails one counted rule, not several ("" = the name).
  std::string rule = {};
  std::vector<std::string> needs = {};  // optional functions the check calls
  bool needs_reference = false;         // runs a peer on the reference library
  // The check leaves a region behind on purpose (a creator killed before its
  // close); the final sweep removes it without blaming the candidate.
  bool leaves_regions = false;
  std::function<void(CheckContext&)> run = {};
  // Runs in the kit's own process when the run starts, before any check and
  // without the candidate: plants what must age while the other checks run
  // (the check's first region names are region_name(options, index, 0...)).
  // Skipped with the check (--filter, or a function the port lacks).
  std::function<void(const RunOptions&, int index)> prepare = {};
};

// Rules that several checks test through different inputs (Check::rule).
namespace rules {
inline const std::string kEmptyObjectIsNotReady = "§4.2 step 3: an empty object is not ready (-11)";
inline const std::string kMagicZeroIsNotReady = "§4.2 step 5: magic 0 is not ready (-11)";
inline const std::string kUnknownFlagsRefused = "§4.2 step 5: open refuses unknown flags";
inline const std::string kNameHashMismatchRefused = "§4.2 step 5: open refuses a wrong name_hash";
}  // namespace rules

// The spec section a check enforces: its own, or its group's.
std::string spec_section(const Check& check);
// The key its failures are counted under: `rule`, or the name.
std::string rule_key(const Check& check);

// The optional part of the protocol a missing function belongs to
// ("channels (§10)", "stale-region recovery (§4.4)", "the reference's
// additions (§6)"), for a check skipped because the port lacks it.
std::string optional_feature_of(const std::string& function);

// Every check, in registration order (static registration per file, plus
// the vector checks added once the index is read).
std::vector<Check>& all_checks();

struct RegisterChecks {
  RegisterChecks(std::initializer_list<Check> checks);
};

// Thrown by a failed require_*: the check cannot meaningfully go on.
struct CheckStopped {};
// Thrown by skip().
struct CheckSkipped {
  std::string reason;
};

// Receives a check's findings as they happen (so a crash loses nothing
// already found).
class FindingSink {
 public:
  virtual ~FindingSink() = default;
  virtual void failure(const std::string& what, const std::string& expected,
                       const std::string& actual) = 0;
  virtual void note(const std::string& text) = 0;
};

class CheckContext {
 public:
  CheckContext(const Api& api, const RunOptions& options, int check_index, FindingSink& sink);

  // The candidate's functions.
  const Api& zinc;
  const RunOptions& options;

  // A fresh region name: "t<run pid>-<check index>-<n>", short enough for
  // the 25-byte macOS limit.
  std::string unique_name();
  size_t page() const;

  // Expectations record a failure and let the check go on.
  bool expect(bool held, const std::string& what, const std::string& expected,
              const std::string& actual);
  bool expect_code(const std::string& what, int32_t expected, int32_t actual);
  bool expect_code_in(const std::string& what, std::initializer_list<int32_t> accepted,
                      int32_t actual);
  bool expect_eq(const std::string& what, uint64_t expected, uint64_t actual);
  bool expect_null(const std::string& what, const void* pointer);

  // Requirements stop the check when they fail.
  void require(bool held, const std::string& what, const std::string& expected,
               const std::string& actual);
  void require_code(const std::string& what, int32_t expected, int32_t actual);

  [[noreturn]] void skip(const std::string& reason);
  void note(const std::string& text);

  // A peer process running the candidate (its --peer-command if given) or
  // the reference library.
  std::unique_ptr<Peer> candidate_peer();
  std::unique_ptr<Peer> reference_peer();

  bool failed() const { return failed_; }

 private:
  FindingSink& sink_;
  int check_index_;
  int names_made_ = 0;
  bool failed_ = false;
};

// A value that is never a valid handle, stored in *out before a call so the
// check sees whether the call cleared it.
ZincHandle junk_handle();

}  // namespace zinc::conformance
