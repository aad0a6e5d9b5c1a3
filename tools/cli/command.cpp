#include "command.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "zinc.h"

namespace zinc::cli {

int exit_for(int32_t code) {
  switch (code) {
    case ZINC_OK:
      return kExitOk;
    case ZINC_ETIMEDOUT:
      return kExitTimedOut;
    case ZINC_EINVAL:
      return kExitUsage;
    case ZINC_ENOENT:
      return kExitNoRegion;
    case ZINC_EAGAIN:
    case ZINC_EBADMSG:
      return kExitInvalid;
    case ZINC_EEXIST:
    case ZINC_EBUSY:
      return kExitBusy;
    case ZINC_EPERM:
      return kExitDenied;
    default:
      return kExitFailed;
  }
}

const std::string* Invocation::value(const std::string& option) const {
  const auto it = values.find(option);
  return it == values.end() ? nullptr : &it->second;
}

int Invocation::fail(int exit_code, const std::string& message) const {
  std::fprintf(stderr, "zinc %s: %s\n", command->name, message.c_str());
  return exit_code;
}

int Invocation::fail_zinc(int32_t code) const {
  const char* detail = zinc_last_error_message();
  return fail(exit_for(code), *detail != '\0' ? detail : zinc_strerror(code));
}

bool Invocation::number(const std::string& option, uint64_t* out, int* exit_code) const {
  const std::string* text = value(option);
  if (text == nullptr) return true;
  errno = 0;
  char* end = nullptr;
  const unsigned long long parsed = std::strtoull(text->c_str(), &end, 10);
  if (text->empty() || *end != '\0' || (*text)[0] == '-' || errno == ERANGE) {
    *exit_code = fail(kExitUsage, option + " needs a whole number, not '" + *text + "'");
    return false;
  }
  *out = parsed;
  return true;
}

void print_help(const Command& command) {
  std::printf("usage: %s\n\n%s\n%s", command.synopsis, command.summary, command.details);
}

int parse_command_line(const Command& command, int argc, char** argv, Invocation* out) {
  out->command = &command;
  bool options_done = false;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (options_done || arg.size() < 2 || arg[0] != '-') {
      out->args.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      print_help(command);
      return kExitOk;
    }
    std::string inline_value;
    bool has_inline_value = false;
    if (const size_t eq = arg.find('='); eq != std::string::npos) {
      inline_value = arg.substr(eq + 1);
      has_inline_value = true;
      arg.resize(eq);
    }
    const Option* known = nullptr;
    for (const Option& option : command.options) {
      if (arg == option.name) known = &option;
    }
    if (known == nullptr) {
      return out->fail(kExitUsage,
                       "unknown option '" + arg + "' (see 'zinc " + command.name + " --help')");
    }
    if (known->value == nullptr) {
      if (has_inline_value) return out->fail(kExitUsage, arg + " takes no value");
      out->flags.insert(arg);
    } else if (has_inline_value) {
      out->values[arg] = inline_value;
    } else if (i + 1 < argc) {
      out->values[arg] = argv[++i];
    } else {
      return out->fail(kExitUsage, arg + " needs a value (" + known->value + ")");
    }
  }
  if (out->args.size() < command.min_args || out->args.size() > command.max_args) {
    return out->fail(kExitUsage, std::string("usage: ") + command.synopsis);
  }
  return -1;
}

}  // namespace zinc::cli
