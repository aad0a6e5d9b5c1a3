// Objects that any local user can put under a region's name: a FIFO, a
// symlink, a directory. No call may block on them, follow them, or modify
// them while only looking; an explicit removal (ZINC_REMOVE_INVALID, which
// `zinc rm` uses) removes exactly them.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "test_support.hpp"
#include "zinc.h"

namespace {

using zinc::test::call_in_child;
using zinc::test::contains;
using zinc::test::object_exists;
using zinc::test::object_path;
using zinc::test::ObjectGuard;
using zinc::test::unique_name;

constexpr int kBoundMs = 5000;  // every call here returns in microseconds

struct Identity {
  dev_t device = 0;
  ino_t inode = 0;
  mode_t mode = 0;
  bool operator==(const Identity&) const = default;
};

Identity identity_of(const std::string& name) {
  struct stat st {};
  if (lstat(object_path(name).c_str(), &st) != 0) return {};
  return {st.st_dev, st.st_ino, st.st_mode};
}

// Each read-only call on the hostile object: what it must return.
void expect_read_only_calls_refuse(const std::string& name, int32_t open_code) {
  const Identity before = identity_of(name);
  const char* n = name.c_str();
  const auto bounded = [&](const char* what, int32_t expected, auto call) {
    const zinc::test::ChildResult r = call_in_child(call, kBoundMs);
    ASSERT_TRUE(r.finished) << what << " blocked on the object";
    EXPECT_EQ(r.value, expected) << what;
  };
  bounded("zinc_open", open_code, [&] {
    ZincHandle h = nullptr;
    return zinc_open(n, &h);
  });
  bounded("zinc_inspect", open_code, [&] { return zinc_inspect(n, nullptr); });
  bounded("zinc_creator_state", open_code, [&] { return zinc_creator_state(n); });
  bounded("zinc_mapped_by", 0, [&] { return zinc_mapped_by(n, nullptr, 0); });
  bounded("zinc_remove_stale", open_code, [&] { return zinc_remove_stale(n, 0); });
  bounded("zinc_remove_stale dry run", open_code,
          [&] { return zinc_remove_stale(n, ZINC_REMOVE_IF_UNMAPPED | ZINC_REMOVE_DRY_RUN); });
  bounded("zinc_create_ex replace stale", ZINC_EEXIST, [&] {
    ZincHandle h = nullptr;
    return zinc_create_ex(n, zinc_page_size(), ZINC_CREATE_REPLACE_STALE, &h);
  });
  EXPECT_EQ(identity_of(name), before) << "a read-only call replaced or removed the object";
}

TEST(HostileObject, FifoUnderTheNameIsRefusedWithoutBlocking) {
  ObjectGuard g(unique_name("fifo"));
  ASSERT_EQ(mkfifo(object_path(g.name()).c_str(), 0600), 0);
  expect_read_only_calls_refuse(g.name(), ZINC_EBADMSG);

  ZincHandle h = nullptr;
  EXPECT_EQ(zinc_open(g.c_str(), &h), ZINC_EBADMSG) << "not -11: a retry loop would never end";
  EXPECT_TRUE(contains(zinc_last_error_message(), "FIFO")) << zinc_last_error_message();
  EXPECT_EQ(h, nullptr);
}

TEST(HostileObject, FifoIsRemovedOnlyWhenAskedExplicitly) {
  ObjectGuard g(unique_name("fifo-rm"));
  ASSERT_EQ(mkfifo(object_path(g.name()).c_str(), 0600), 0);
  const zinc::test::ChildResult r =
      call_in_child([&] { return zinc_remove_stale(g.c_str(), ZINC_REMOVE_INVALID); }, kBoundMs);
  ASSERT_TRUE(r.finished);
  EXPECT_EQ(r.value, 0);
  EXPECT_FALSE(object_exists(g.name()));
  ZincHandle h = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), zinc_page_size(), &h), 0) << "the name is usable again";
  zinc_close(h);
}

TEST(HostileObject, SymlinkIsNeitherFollowedNorItsTargetRemoved) {
  ObjectGuard target(unique_name("link-target"));
  ObjectGuard g(unique_name("link"));
  ZincHandle real = nullptr;
  ASSERT_EQ(zinc_create(target.c_str(), zinc_page_size(), &real), 0);
  ASSERT_EQ(symlink(object_path(target.name()).c_str(), object_path(g.name()).c_str()), 0);
  expect_read_only_calls_refuse(g.name(), ZINC_EBADMSG);
  EXPECT_EQ(zinc_inspect(g.c_str(), nullptr), ZINC_EBADMSG);
  EXPECT_TRUE(contains(zinc_last_error_message(), "symbolic link")) << zinc_last_error_message();

  EXPECT_EQ(zinc_remove_stale(g.c_str(), ZINC_REMOVE_INVALID), 0);
  EXPECT_FALSE(object_exists(g.name())) << "the link itself goes";
  EXPECT_TRUE(object_exists(target.name())) << "its target stays";
  zinc_close(real);
}

TEST(HostileObject, DirectoryUnderTheNameIsRefused) {
  ObjectGuard g(unique_name("dir"));
  ASSERT_EQ(mkdir(object_path(g.name()).c_str(), 0700), 0);
  expect_read_only_calls_refuse(g.name(), ZINC_EBADMSG);
  EXPECT_EQ(zinc_inspect(g.c_str(), nullptr), ZINC_EBADMSG);
  EXPECT_TRUE(contains(zinc_last_error_message(), "directory")) << zinc_last_error_message();
  rmdir(object_path(g.name()).c_str());
}

TEST(HostileObject, CreateOverAFifoFailsWithEexistAndLeavesIt) {
  ObjectGuard g(unique_name("fifo-create"));
  ASSERT_EQ(mkfifo(object_path(g.name()).c_str(), 0600), 0);
  const Identity before = identity_of(g.name());
  ZincHandle h = nullptr;
  EXPECT_EQ(zinc_create(g.c_str(), zinc_page_size(), &h), ZINC_EEXIST);
  EXPECT_EQ(identity_of(g.name()), before);
}

}  // namespace
