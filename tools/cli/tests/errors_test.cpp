// Every command on a missing, corrupted, foreign or unfinished object, or
// with an invalid name or a bad command line: a documented exit code, a
// "zinc CMD: message" line on stderr, and the object left as it was.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "cli_runner.hpp"
#include "scenario.hpp"
#include "test_support.hpp"
#include "zinc.h"

namespace zinc::cli::test {
namespace {

using zinc::test::object_exists;
using zinc::test::ObjectGuard;
using zinc::test::read_raw_object;
using zinc::test::unique_name;

// The commands that act on one region, with arguments that make each return
// promptly whatever the region.
std::vector<std::vector<std::string>> commands_on(const std::string& name) {
  return {{"inspect", name},
          {"notify", name},
          {"wait", name, "--timeout", "100"},
          {"watch", name, "--duration", "100"},
          {"rm", name}};
}

void expect_error(const Result& r, const std::vector<std::string>& command, int exit_code,
                  const std::string& message_part) {
  const std::string what = command[0] + " " + command[1];
  EXPECT_EQ(r.exit_code, exit_code) << what << "\nstdout: " << r.out << "\nstderr: " << r.err;
  EXPECT_EQ(r.err.rfind("zinc " + command[0] + ": ", 0), 0u) << what << ": " << r.err;
  EXPECT_TRUE(contains(r.err, message_part)) << what << ": " << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << what << ": one line: " << r.err;
}

TEST(CliErrors, EveryCommandOnAMissingRegion) {
  const std::string name = unique_name("cli-missing");
  for (const auto& command : commands_on(name)) {
    const Result r = run_zinc(command);
    expect_error(r, command, 3, "no region named '" + name + "'");
    EXPECT_EQ(r.out, "") << command[0];
  }
  EXPECT_FALSE(object_exists(name));
}

// Each state of a bad object with the message the library gives for it.
struct BadObject {
  const char* scenario;
  std::function<void(const std::string&)> write;
  std::string problem;
  const char* status;
};

const std::vector<BadObject>& bad_objects() {
  static const std::vector<BadObject> objects = {
      {"corrupted", write_corrupted, "bad magic", "invalid"},
      {"foreign", write_foreign, "object is 12 bytes; a region needs at least two pages",
       "invalid"},
      {"unfinished", write_unfinished, "object is empty", "unfinished"},
  };
  return objects;
}

TEST(CliErrors, EveryCommandOnAnObjectThatIsNotAValidRegion) {
  for (const BadObject& bad : bad_objects()) {
    SCOPED_TRACE(bad.scenario);
    ObjectGuard g(unique_name(std::string("cli-") + bad.scenario));
    bad.write(g.name());
    const auto bytes = read_raw_object(g.name());
    const std::string& problem = bad.problem;

    for (const auto& command : commands_on(g.name())) {
      if (command[0] == "rm") continue;  // below: rm is how such objects are cleared
      const Result r = run_zinc(command);
      EXPECT_EQ(r.exit_code, 4) << command[0] << ": " << r.err;
      if (command[0] == "inspect") {
        EXPECT_TRUE(contains(r.out, "zinc_open would fail")) << r.out;
        EXPECT_TRUE(contains(r.out, problem)) << r.out;
      } else {
        expect_error(r, command, 4, problem);
      }
      EXPECT_EQ(read_raw_object(g.name()), bytes) << command[0] << " changed the object";
    }
    const Result create = run_zinc({"create", g.name(), kPageText, "--detach"});
    expect_error(create, {"create", g.name()}, 5, "already exists");
    const Result replace = run_zinc({"create", g.name(), kPageText, "--replace-stale"});
    expect_error(replace, {"create", g.name()}, 5, "was not replaced: " + problem);
    EXPECT_EQ(read_raw_object(g.name()), bytes);

    const Result ls = run_zinc({"ls", "--prefix", g.name(), "--json"});
    const JsonValue entry = ls_entry(ls.out, g.name());
    EXPECT_EQ(entry["status"].str(), bad.status);
    EXPECT_FALSE(entry["valid"].boolean());
    EXPECT_TRUE(contains(entry["error"].str(), problem)) << entry["error"].str();

    const Result gc = run_zinc({"gc", "--prefix", g.name()});
    EXPECT_EQ(gc.exit_code, 0) << gc.err;
    EXPECT_TRUE(contains(gc.out, "skipped")) << gc.out;
    EXPECT_EQ(read_raw_object(g.name()), bytes) << "gc must leave it alone";

    const Result rm = run_zinc({"rm", g.name()});
    EXPECT_EQ(rm.exit_code, 0) << rm.err;
    EXPECT_FALSE(object_exists(g.name()));
  }
}

TEST(CliErrors, EveryCommandRejectsAnInvalidName) {
  for (const std::string& name :
       std::vector<std::string>{"bad name", "../etc/passwd", "a.b", std::string(251, 'x')}) {
    for (auto command : commands_on(name)) {
      expect_error(run_zinc(command), command, 2, "name");
    }
    expect_error(run_zinc({"create", name, kPageText}), {"create", name}, 2, "name");
  }
}

TEST(CliErrors, CreateRejectsBadSizesBeforeTouchingAnything) {
  const std::string name = unique_name("cli-size");
  for (const std::string size :
       {"", "12Q", "4096 ", "abc", "99999999999999999999", "17179869184G"}) {
    expect_error(run_zinc({"create", name, size}), {"create", name}, 2, "is not a number of bytes");
  }
  expect_error(run_zinc({"create", name, "5000"}), {"create", name}, 2,
               "capacity 5000 is not a multiple of the page size " + kPageText);
  expect_error(run_zinc({"create", name, "0"}), {"create", name}, 2, "capacity must be positive");
  EXPECT_FALSE(object_exists(name));
}

TEST(CliErrors, BadCommandLinesAreUsageErrors) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::string n = unique_name("cli-usage");
  const std::vector<Case> cases = {
      {{"frobnicate"}, "zinc: unknown command 'frobnicate' (see 'zinc --help')\n"},
      {{"ls", "--bogus"}, "zinc ls: unknown option '--bogus' (see 'zinc ls --help')\n"},
      {{"ls", "--json=yes"}, "zinc ls: --json takes no value\n"},
      {{"ls", "extra"}, "zinc ls: usage: zinc ls [--prefix PREFIX] [--json]\n"},
      {{"inspect"}, "zinc inspect: usage: zinc inspect NAME [--json]\n"},
      {{"create", n}, "zinc create: usage: zinc create NAME SIZE"},
      {{"wait", n, "--timeout"}, "zinc wait: --timeout needs a value (MS)\n"},
      {{"wait", n, "--timeout", "soon"}, "zinc wait: --timeout needs a whole number, not 'soon'\n"},
      {{"wait", n, "--timeout", "99999999999"}, "zinc wait: --timeout is at most 4294967295 ms\n"},
      {{"watch", n, "--count", "-1"}, "zinc watch: --count needs a whole number, not '-1'\n"},
      {{"notify", n, "--count", "1x"}, "zinc notify: --count needs a whole number, not '1x'\n"},
      {{"gc", "--prefix"}, "zinc gc: --prefix needs a value (PREFIX)\n"},
      {{"help", "nope"}, "zinc: unknown command 'nope' (see 'zinc --help')\n"},
  };
  for (const Case& c : cases) {
    const Result r = run_zinc(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args[0] << ": " << r.err;
    EXPECT_EQ(r.err.substr(0, c.message.size()), c.message);
    EXPECT_EQ(r.out, "") << c.args[0];
  }
  const Result bare = run_zinc({});
  EXPECT_EQ(bare.exit_code, 2);
  EXPECT_TRUE(contains(bare.err, "usage: zinc COMMAND")) << bare.err;
}

TEST(CliHelp, EveryCommandHasHelp) {
  const Result all = run_zinc({"--help"});
  EXPECT_EQ(all.exit_code, 0);
  for (const std::string command :
       {"ls", "inspect", "rm", "gc", "create", "notify", "wait", "watch"}) {
    EXPECT_TRUE(contains(all.out, "\n  " + command + " ")) << command;
    for (const auto& args :
         {std::vector<std::string>{command, "--help"}, std::vector<std::string>{command, "-h"},
          std::vector<std::string>{"help", command}}) {
      const Result r = run_zinc(args);
      EXPECT_EQ(r.exit_code, 0) << command;
      EXPECT_EQ(r.out.rfind("usage: zinc " + command, 0), 0u) << r.out;
      EXPECT_TRUE(contains(r.out, "Exit status")) << command;
      EXPECT_EQ(r.err, "");
    }
  }
  const Result version = run_zinc({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_TRUE(contains(version.out, "libzinc_core ABI 0x00020001")) << version.out;
}

}  // namespace
}  // namespace zinc::cli::test
