// What every `zinc` subcommand shares: its description, the parsed command
// line, exit codes and the one way errors are reported.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace zinc::cli {

// Exit codes, the same for every command (docs/cli.md lists them).
enum Exit : int {
  kExitOk = 0,
  kExitTimedOut = 1,  // wait: no notification before --timeout
  kExitUsage = 2,     // bad command line, invalid name or size
  kExitNoRegion = 3,  // no region with that name
  kExitInvalid = 4,   // not a valid zinc region (corrupted, foreign, unfinished)
  kExitBusy = 5,      // name taken (create) or region in use (rm without --force)
  kExitDenied = 6,    // permission denied
  kExitFailed = 7,    // any other failure; the message names it
};

// The exit code for a zinc return code.
int exit_for(int32_t code);

struct Invocation;

struct Option {
  const char* name;   // "--timeout"
  const char* value;  // "MS", or nullptr for a flag
};

struct Command {
  const char* name;
  const char* synopsis;  // "zinc wait NAME [--timeout MS] [--json]"
  const char* summary;   // one line for `zinc --help`
  const char* details;   // the rest of `zinc CMD --help`
  std::vector<Option> options;
  size_t min_args;
  size_t max_args;
  int (*run)(const Invocation&);
};

struct Invocation {
  const Command* command = nullptr;
  std::vector<std::string> args;  // positional arguments
  std::map<std::string, std::string> values;
  std::set<std::string> flags;

  bool has(const std::string& option) const {
    return flags.count(option) != 0 || values.count(option) != 0;
  }
  bool json() const { return has("--json"); }
  // The value of an option given with one, or nullptr.
  const std::string* value(const std::string& option) const;

  // Prints "zinc CMD: message" to stderr and returns `exit_code`.
  int fail(int exit_code, const std::string& message) const;
  // Reports a failed zinc call with the library's message; returns exit_for(code).
  int fail_zinc(int32_t code) const;
  // Parses an option value as a non-negative integer, or reports a usage error.
  bool number(const std::string& option, uint64_t* out, int* exit_code) const;
};

// Parses argv (after the command name). Returns -1 to go on and run the
// command, or an exit code after printing help or a usage error.
int parse_command_line(const Command& command, int argc, char** argv, Invocation* out);
void print_help(const Command& command);

// Every command, in the order `zinc --help` lists them.
const std::vector<const Command*>& all_commands();
extern const Command kLs, kInspect, kRm, kGc, kCreate, kNotify, kWait, kWatch;

}  // namespace zinc::cli
