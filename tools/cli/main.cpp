// zinc: the operator's command-line tool for zinc regions. A client of the
// public C ABI (zinc.h) only; each subcommand lives in its own file.
#include <cstdio>
#include <cstring>
#include <string>

#include "command.hpp"
#include "zinc.h"

namespace zinc::cli {

const std::vector<const Command*>& all_commands() {
  static const std::vector<const Command*> commands = {&kLs,     &kInspect, &kRm,   &kGc,
                                                       &kCreate, &kNotify,  &kWait, &kWatch};
  return commands;
}

namespace {

void print_usage(FILE* out) {
  std::fprintf(out, "usage: zinc COMMAND [ARGS] [--json] [--help]\n\nCommands:\n");
  for (const Command* command : all_commands()) {
    std::fprintf(out, "  %-8s %s\n", command->name, command->summary);
  }
  std::fprintf(out, R"(
'zinc COMMAND --help' (or 'zinc help COMMAND') describes each one.

Exit status, for every command:
  0  success (wait: notified; inspect: the region is valid)
  1  wait: timed out
  2  usage error: unknown command or option, bad value, invalid name or size
  3  no such region
  4  not a valid zinc region (corrupted, foreign or unfinished)
  5  busy: the name is taken (create), or the creator is alive (rm)
  6  permission denied
  7  any other failure (the message says which)
  128+N  wait interrupted by signal N
Errors are printed to stderr as "zinc COMMAND: message".
)");
}

const Command* find(const std::string& name) {
  for (const Command* command : all_commands()) {
    if (name == command->name) return command;
  }
  return nullptr;
}

}  // namespace
}  // namespace zinc::cli

int main(int argc, char** argv) {
  using namespace zinc::cli;
  if (argc < 2) {
    print_usage(stderr);
    return kExitUsage;
  }
  const std::string first = argv[1];
  if (first == "-h" || first == "--help") {
    print_usage(stdout);
    return kExitOk;
  }
  if (first == "--version") {
    const uint32_t abi = zinc_version();
    std::printf("zinc %s (libzinc_core ABI 0x%08x, region format %u)\n", ZINC_CLI_VERSION, abi,
                abi >> 16);
    return kExitOk;
  }
  if (first == "help") {
    if (argc == 2) {
      print_usage(stdout);
      return kExitOk;
    }
    if (const Command* command = find(argv[2])) {
      print_help(*command);
      return kExitOk;
    }
    std::fprintf(stderr, "zinc: unknown command '%s' (see 'zinc --help')\n", argv[2]);
    return kExitUsage;
  }
  const Command* command = find(first);
  if (command == nullptr) {
    std::fprintf(stderr, "zinc: unknown command '%s' (see 'zinc --help')\n", first.c_str());
    return kExitUsage;
  }
  Invocation call;
  if (const int exit_code = parse_command_line(*command, argc - 2, argv + 2, &call);
      exit_code >= 0) {
    return exit_code;
  }
  return command->run(call);
}
