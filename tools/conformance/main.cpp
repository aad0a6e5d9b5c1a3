// zinc-conformance: validates an implementation of the zinc C ABI (a shared
// library) against the protocol, check by check. See docs/porting.md.
#include <fnmatch.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "check.hpp"
#include "format.hpp"
#include "library.hpp"
#include "peer.hpp"
#include "raw_object.hpp"
#include "report.hpp"
#include "runner.hpp"
#include "vectors.hpp"

namespace zinc::conformance {
namespace {

constexpr const char* kUsage = R"(usage: zinc-conformance --lib PATH [options]

Runs the zinc conformance suite against PATH, a shared library exporting the
zinc C ABI (docs/spec.md), and prints one line per check. Exit status: 0 if
every counted check passed, 1 if one failed, 2 on a usage error or a library
that does not load, 128+N if signal N interrupted the run.

  --lib PATH        the implementation under test
  --reference PATH  the reference libzinc_core.so for the interop checks
                    (default: the one built or installed next to this tool)
  --strict          count reference-extension checks too (by default only
                    required checks decide the result; extension checks are
                    run and reported)
  --filter GLOBS    comma-separated globs over check names; a glob starting
                    with '-' excludes, e.g. 'cursor.*,wait.*' or '-interop.*'
  --interop         run only the interop checks (candidate and reference in
                    separate processes on one region)
  --list            list the checks (class, spec section, name, what each
                    checks) and exit
  --junit FILE      also write a JUnit XML report to FILE
  --json FILE       also write the run as JSON to FILE (docs/porting.md)
  --prefix P        region names start with P<kit pid>- instead of t<kit pid>-
                    (1 to 8 bytes of [A-Za-z0-9_], not ending in a digit;
                    the sweep at the end removes exactly those)
  --vectors DIR     the test vectors (default: spec/vectors of the source
                    tree, or share/zinc/vectors next to the installed tool)
  --peer-command CMD
                    start the other processes of the xproc.* checks with
                    /bin/sh -c CMD instead of this tool on --lib: a port
                    without a C ABI supplies its own peer program (see
                    docs/porting.md) and --lib is the reference
  --timeout SEC     per-check time limit (default 60)
  --verbose         print the notes of passing checks too
)";

struct CommandLine {
  RunOptions run;
  std::vector<std::string> filters;
  std::string junit;
  std::string json;
  bool list = false;
  bool peer = false;
  bool verbose = false;
  bool reference_given = false;
  bool vectors_given = false;
};

std::string self_path() {
  char buffer[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  if (n <= 0) return "";
  buffer[n] = '\0';
  return buffer;
}

std::string directory_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

bool exists(const std::string& path) {
  struct stat st {};
  return !path.empty() && stat(path.c_str(), &st) == 0;
}

// An absolute path (symlinks kept, so the report shows what was given).
std::string absolute(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof cwd) == nullptr) return path;
  return std::string(cwd) + "/" + path;
}

// The reference library: built next to the tool, or installed beside it.
std::string default_reference(const std::string& self) {
  const std::vector<std::string> candidates = {
#ifdef ZINC_CONFORMANCE_REFERENCE
      ZINC_CONFORMANCE_REFERENCE,
#endif
      directory_of(self) + "/libzinc_core.so",
      directory_of(self) + "/../lib/libzinc_core.so",
      directory_of(self) + "/../lib/x86_64-linux-gnu/libzinc_core.so",
  };
  for (const std::string& path : candidates) {
    if (exists(path)) return absolute(path);
  }
  return "";
}

std::string default_vectors(const std::string& self) {
  const std::vector<std::string> candidates = {
#ifdef ZINC_CONFORMANCE_VECTORS
      ZINC_CONFORMANCE_VECTORS,
#endif
      directory_of(self) + "/../share/zinc/vectors",
  };
  for (const std::string& path : candidates) {
    if (exists(path + "/open.tsv")) return absolute(path);
  }
  return "";
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string part =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!part.empty()) parts.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return parts;
}

bool selected(const std::string& name, const std::vector<std::string>& filters) {
  bool any_include = false;
  bool included = false;
  for (const std::string& glob : filters) {
    if (glob[0] == '-') {
      if (fnmatch(glob.c_str() + 1, name.c_str(), 0) == 0) return false;
    } else {
      any_include = true;
      included = included || fnmatch(glob.c_str(), name.c_str(), 0) == 0;
    }
  }
  return !any_include || included;
}

// A region name prefix: the kit appends "<pid>-<check>-<n>", so a dash or a
// digit at the end would make names ambiguous; 8 bytes keep the names
// within macOS's 25.
bool valid_prefix(const std::string& prefix) {
  if (prefix.empty() || prefix.size() > 8) return false;
  for (char c : prefix) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return !(prefix.back() >= '0' && prefix.back() <= '9');
}

int usage_error(const std::string& message) {
  std::fprintf(stderr, "zinc-conformance: %s (see zinc-conformance --help)\n", message.c_str());
  return 2;
}

bool parse(int argc, char** argv, CommandLine* cl, int* exit_code) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) {
        *exit_code = usage_error(arg + " needs a value");
        return false;
      }
      *out = argv[++i];
      return true;
    };
    std::string text;
    if (arg == "--help" || arg == "-h") {
      std::printf("%s", kUsage);
      *exit_code = 0;
      return false;
    } else if (arg == "--lib") {
      if (!value(&cl->run.library)) return false;
    } else if (arg == "--reference") {
      if (!value(&cl->run.reference)) return false;
      cl->reference_given = true;
    } else if (arg == "--vectors") {
      if (!value(&cl->run.vectors)) return false;
      cl->vectors_given = true;
    } else if (arg == "--peer-command") {
      if (!value(&cl->run.peer_command)) return false;
    } else if (arg == "--junit") {
      if (!value(&cl->junit)) return false;
    } else if (arg == "--json") {
      if (!value(&cl->json)) return false;
    } else if (arg == "--prefix") {
      if (!value(&cl->run.name_prefix)) return false;
      if (!valid_prefix(cl->run.name_prefix)) {
        *exit_code = usage_error(
            "--prefix needs 1 to 8 bytes of [A-Za-z0-9_], not ending in a digit, got '" +
            cl->run.name_prefix + "'");
        return false;
      }
    } else if (arg == "--filter") {
      if (!value(&text)) return false;
      for (const std::string& glob : split_commas(text)) cl->filters.push_back(glob);
    } else if (arg == "--timeout") {
      if (!value(&text)) return false;
      cl->run.check_timeout_s = std::atoi(text.c_str());
      if (cl->run.check_timeout_s <= 0) {
        *exit_code = usage_error("--timeout needs a positive number of seconds");
        return false;
      }
    } else if (arg == "--interop") {
      cl->filters.push_back("interop.*");
    } else if (arg == "--strict") {
      cl->run.strict = true;
    } else if (arg == "--list") {
      cl->list = true;
    } else if (arg == "--verbose") {
      cl->verbose = true;
    } else if (arg == "--peer") {
      cl->peer = true;
    } else {
      *exit_code = usage_error("unknown argument '" + arg + "'");
      return false;
    }
  }
  return true;
}

void print_header(const CommandLine& cl, const Probe& probe) {
  std::printf("zinc-conformance: candidate %s\n", cl.run.library.c_str());
  char version[16];
  std::snprintf(version, sizeof version, "0x%08x", probe.version);
  std::printf("  zinc_version: %s\n", probe.version == 0 ? "(not exported)" : version);
  std::string optional;
  for (const std::string& name : optional_functions()) {
    bool missing = false;
    for (const std::string& m : probe.missing_optional) missing = missing || m == name;
    optional += (optional.empty() ? "" : ", ") + name + (missing ? " no" : " yes");
  }
  std::printf("  additions: %s\n", optional.c_str());
  std::printf("  reference: %s\n", cl.run.reference.empty()
                                       ? "(none found; interop checks are skipped)"
                                       : cl.run.reference.c_str());
  if (!cl.run.peer_command.empty()) {
    std::printf("  peers of the xproc checks: %s\n", cl.run.peer_command.c_str());
  }
  std::printf("  vectors: %s\n", cl.run.vectors.empty() ? "(none found; vector checks are absent)"
                                                        : cl.run.vectors.c_str());
  std::printf("  mode: %s\n\n",
              cl.run.strict ? "strict (required and reference-extension checks count)"
                            : "default (required checks count; reference-extension checks are "
                              "reported but not counted; --strict counts them)");
  std::fflush(stdout);
}

int run(int argc, char** argv) {
  CommandLine cl;
  int exit_code = 0;
  if (!parse(argc, argv, &cl, &exit_code)) return exit_code;
  if (cl.peer) return run_peer(cl.run.library);

  cl.run.self = self_path();
  if (!cl.reference_given) cl.run.reference = default_reference(cl.run.self);
  if (!cl.vectors_given) cl.run.vectors = default_vectors(cl.run.self);
  if (cl.reference_given && !exists(cl.run.reference)) {
    return usage_error("no reference library at " + cl.run.reference);
  }
  if (cl.reference_given) cl.run.reference = absolute(cl.run.reference);
  if (!cl.run.vectors.empty()) {
    std::string error;
    if (!add_vector_checks(cl.run.vectors, &error)) {
      return usage_error("cannot read the vectors in " + cl.run.vectors + ": " + error);
    }
  }

  std::vector<const Check*> checks;
  for (const Check& check : all_checks()) {
    if (selected(check.name, cl.filters)) checks.push_back(&check);
  }
  if (cl.list) {
    for (const Check* c : checks) {
      std::printf("%-9s  %-7s  %s\n                    %s\n", requirement_name(c->requirement),
                  spec_section(*c).c_str(), c->name.c_str(), c->summary.c_str());
      std::string optional;
      for (const std::string& function : c->needs) {
        const std::string feature = optional_feature_of(function);
        if (optional.find(feature) == std::string::npos) {
          optional += (optional.empty() ? "" : ", ") + feature;
        }
      }
      if (!optional.empty()) {
        std::printf("                    (skipped-optional where the port leaves out %s)\n",
                    optional.c_str());
      }
    }
    std::printf("%zu checks\n", checks.size());
    return 0;
  }
  if (cl.run.library.empty()) return usage_error("--lib PATH is required");
  if (!exists(cl.run.library)) return usage_error("no library at " + cl.run.library);
  cl.run.library = absolute(cl.run.library);
  if (checks.empty()) return usage_error("--filter selects no check");
  cl.run.run_id = getpid();

  const Probe probe = probe_library(cl.run.library);
  if (!probe.loaded) {
    std::fprintf(stderr, "zinc-conformance: cannot load %s: %s\n", cl.run.library.c_str(),
                 probe.error.c_str());
    return 2;
  }
  print_header(cl, probe);

  // What must age while the others run is planted first, and judged last.
  std::stable_partition(checks.begin(), checks.end(),
                        [](const Check* check) { return !check->prepare; });
  for (const Check* check : checks) {
    if (!check->prepare) continue;
    bool lacking = false;
    for (const std::string& function : check->needs) {
      for (const std::string& m : probe.missing_optional) lacking = lacking || m == function;
    }
    if (lacking || !probe.missing_required.empty()) continue;
    check->prepare(cl.run, static_cast<int>(check - all_checks().data()));
  }
  stop_on_signals();
  const int64_t start = monotonic_ms();
  std::vector<CheckResult> results;
  for (const Check* check : checks) {
    const int index = static_cast<int>(check - all_checks().data());
    results.push_back(run_check(*check, index, cl.run));
    mark_repeated_rule(results, cl.run.strict);
    print_result(stdout, results.back(), cl.run.strict, cl.verbose);
    if (stop_requested() != 0) break;
  }
  const double seconds = static_cast<double>(monotonic_ms() - start) / 1000.0;

  std::vector<SweptRegion> swept;
  for (const std::string& name : sweep_regions(cl.run)) {
    SweptRegion region;
    region.name = name;
    const int index = check_index_of_region(cl.run, name);
    if (index >= 0 && index < static_cast<int>(all_checks().size())) {
      region.check = all_checks()[static_cast<size_t>(index)].name;
      region.on_purpose = all_checks()[static_cast<size_t>(index)].leaves_regions;
      for (const CheckResult& result : results) {
        if (result.check == &all_checks()[static_cast<size_t>(index)]) {
          region.check_killed = !result.finished;
        }
      }
    }
    swept.push_back(region);
  }
  print_swept(stdout, swept);
  const Totals totals = tally(results, cl.run.strict);
  print_summary(stdout, totals, cl.run.strict, seconds);
  if (stop_requested() != 0) {
    std::printf("interrupted by signal %d after %zu of %zu checks\n", stop_requested(),
                results.size(), checks.size());
    return 128 + stop_requested();
  }
  if (!cl.junit.empty() && !write_junit(cl.junit, results, cl.run, seconds)) {
    std::fprintf(stderr, "zinc-conformance: could not write %s\n", cl.junit.c_str());
    return 2;
  }
  if (!cl.json.empty() && !write_json(cl.json, results, swept, cl.run, seconds)) {
    std::fprintf(stderr, "zinc-conformance: could not write %s\n", cl.json.c_str());
    return 2;
  }
  return totals.counted_failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace zinc::conformance

int main(int argc, char** argv) {
  try {
    return zinc::conformance::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "zinc-conformance: %s\n", e.what());
    return 2;
  }
}
