// The tool against objects a hostile or careless neighbour leaves in
// /dev/shm: a FIFO under a zinc name, and another user's regions.
#include <gtest/gtest.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "cli_runner.hpp"
#include "json_value.hpp"
#include "test_support.hpp"
#include "zinc.h"
#include "program_paths.hpp"

namespace zinc::cli::test {
namespace {

using zinc::test::contains;
using zinc::test::object_exists;
using zinc::test::object_path;
using zinc::test::ObjectGuard;
using zinc::test::unique_name;

TEST(CliHostile, ReadOnlyCommandsOnAFifoAnswerWithoutBlockingOrTouchingIt) {
  ObjectGuard g(unique_name("cli-fifo"));
  ASSERT_EQ(mkfifo(object_path(g.name()).c_str(), 0600), 0);
  struct stat before{};
  ASSERT_EQ(lstat(object_path(g.name()).c_str(), &before), 0);

  Result inspect = run_zinc({"inspect", g.name()});
  EXPECT_EQ(inspect.exit_code, 4) << inspect.out << inspect.err;
  EXPECT_TRUE(contains(inspect.out + inspect.err, "FIFO")) << inspect.out << inspect.err;

  Result ls = run_zinc({"ls", "--prefix", g.name(), "--json"});
  EXPECT_EQ(ls.exit_code, 0) << ls.err;
  const JsonValue listed = JsonValue::parse(ls.out);
  ASSERT_EQ(listed["regions"].array().size(), 1u) << ls.out;
  EXPECT_EQ(listed["regions"][0]["status"].str(), "invalid") << ls.out;

  Result gc = run_zinc({"gc", "--prefix", g.name()});
  EXPECT_EQ(gc.exit_code, 0) << gc.err;
  EXPECT_TRUE(contains(gc.out, "skipped")) << gc.out;
  Result dry = run_zinc({"gc", "--dry-run", "--prefix", g.name()});
  EXPECT_EQ(dry.exit_code, 0) << dry.err;

  struct stat after{};
  ASSERT_EQ(lstat(object_path(g.name()).c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);
  EXPECT_TRUE(S_ISFIFO(after.st_mode));
}

TEST(CliHostile, RmRemovesAFifoWithAndWithoutForce) {
  for (const bool force : {false, true}) {
    ObjectGuard g(unique_name("cli-fifo-rm"));
    ASSERT_EQ(mkfifo(object_path(g.name()).c_str(), 0600), 0);
    Result rm = force ? run_zinc({"rm", "--force", g.name()}) : run_zinc({"rm", g.name()});
    EXPECT_EQ(rm.exit_code, 0) << rm.out << rm.err;
    EXPECT_EQ(rm.out, "removed invalid object '" + g.name() + "'\n");
    EXPECT_FALSE(object_exists(g.name()));
  }
}

// --- another user's regions ----------------------------------------------------------

constexpr const char* kOtherUser = "zinc-test-other";

// The uid and gid of a throwaway unprivileged user, created if missing.
bool other_user(uid_t* uid, gid_t* gid) {
  if (getpwnam(kOtherUser) == nullptr) {
    const std::string command = std::string("useradd --system --no-create-home --shell "
                                            "/usr/sbin/nologin ") +
                                kOtherUser + " >/dev/null 2>&1";
    if (std::system(command.c_str()) != 0) return false;
  }
  const passwd* user = getpwnam(kOtherUser);
  if (user == nullptr) return false;
  *uid = user->pw_uid;
  *gid = user->pw_gid;
  return true;
}

// Runs `zinc ARGS...` as uid/gid (fork, drop privileges, exec).
Result run_zinc_as(uid_t uid, gid_t gid, const std::vector<std::string>& args) {
  int out[2];
  EXPECT_EQ(pipe(out), 0);
  const pid_t child = fork();
  if (child == 0) {
    dup2(out[1], 1);
    dup2(out[1], 2);
    if (setgroups(0, nullptr) != 0 || setresgid(gid, gid, gid) != 0 ||
        setresuid(uid, uid, uid) != 0) {
      _exit(100);
    }
    std::vector<char*> argv{const_cast<char*>(zinc::test::paths::kCli)};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(zinc::test::paths::kCli, argv.data());
    _exit(101);
  }
  close(out[1]);
  Result result;
  char chunk[4096];
  for (ssize_t n; (n = read(out[0], chunk, sizeof chunk)) > 0;) result.out.append(chunk, n);
  close(out[0]);
  int status = 0;
  waitpid(child, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

TEST(CliHostile, GcAsAnotherUserSkipsRegionsItMayNotOpen) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root, to run gc as a second, unprivileged user";
  uid_t uid = 0;
  gid_t gid = 0;
  if (!other_user(&uid, &gid)) GTEST_SKIP() << "could not create user " << kOtherUser;
  ObjectGuard stale(unique_name("cli-other-user"));
  zinc::test::write_region(stale.name(), zinc::test::dead_pid(), zinc::test::realtime_ns());
  ASSERT_EQ(chmod(object_path(stale.name()).c_str(), 0600), 0);  // root's, mode 0600

  Result gc = run_zinc_as(uid, gid, {"gc", "--prefix", stale.name()});
  EXPECT_EQ(gc.exit_code, 0) << gc.out;
  EXPECT_TRUE(contains(gc.out, "skipped")) << gc.out;
  EXPECT_TRUE(contains(gc.out, "permission denied")) << gc.out;
  EXPECT_TRUE(object_exists(stale.name()));

  Result dry = run_zinc_as(uid, gid, {"gc", "--dry-run", "--prefix", stale.name()});
  EXPECT_EQ(dry.exit_code, 0) << dry.out;
  // Root, whose region it is, removes it.
  Result gc_root = run_zinc({"gc", "--prefix", stale.name()});
  EXPECT_EQ(gc_root.exit_code, 0) << gc_root.err;
  EXPECT_FALSE(object_exists(stale.name()));
}

}  // namespace
}  // namespace zinc::cli::test
