// Every C function, every return code, every NULL/closed-handle path.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "test_support.hpp"
#include "zinc.h"

namespace {

using zinc::test::allocated_bytes;
using zinc::test::ObjectGuard;
using zinc::test::unique_name;

const uintptr_t kPage = zinc_page_size();
ZincHandle const kJunk = reinterpret_cast<ZincHandle>(0x1234);

TEST(CApi, VersionIsTheV2Abi) {
  EXPECT_EQ(zinc_version(), 0x00020001u);
  EXPECT_EQ(zinc_version(), static_cast<uint32_t>(ZINC_FORMAT_VERSION) << 16 | 1);
}

TEST(CApi, PageSizeIsTheSystemPage) { EXPECT_EQ(zinc_page_size(), uintptr_t(sysconf(_SC_PAGESIZE))); }

TEST(CApi, CreateGivesOwnerHandleWithDataAfterFirstPage) {
  ObjectGuard g(unique_name("create"));
  ZincHandle h = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), 2 * kPage, &h), ZINC_OK);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(zinc_capacity(h), 2 * kPage);
  ASSERT_NE(zinc_ptr(h), nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(zinc_ptr(h)) % kPage, 0u);
  EXPECT_STREQ(zinc_name(h), g.c_str());
  std::memset(zinc_ptr(h), 0xab, 2 * kPage);  // the whole capacity is writable
  zinc_close(h);
  EXPECT_FALSE(zinc::test::object_exists(g.name()));
}

TEST(CApi, CreateExistingNameIsEexist) {
  ObjectGuard g(unique_name("exists"));
  ZincHandle first = nullptr, second = kJunk;
  ASSERT_EQ(zinc_create(g.c_str(), kPage, &first), ZINC_OK);
  EXPECT_EQ(zinc_create(g.c_str(), kPage, &second), ZINC_EEXIST);
  EXPECT_EQ(second, nullptr);
  EXPECT_NE(std::string(zinc_last_error_message()).find("already exists"), std::string::npos);
  zinc_close(first);
}

TEST(CApi, OpenMissingIsEnoent) {
  const std::string name = unique_name("missing");
  ZincHandle h = kJunk;
  EXPECT_EQ(zinc_open(name.c_str(), &h), ZINC_ENOENT);
  EXPECT_EQ(h, nullptr);
  EXPECT_EQ(std::string(zinc_last_error_message()), "no region named '" + name + "'");
}

TEST(CApi, OpenSharesTheSameBytes) {
  ObjectGuard g(unique_name("share"));
  ZincHandle owner = nullptr, reader = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), kPage, &owner), ZINC_OK);
  ASSERT_EQ(zinc_open(g.c_str(), &reader), ZINC_OK);
  EXPECT_EQ(zinc_capacity(reader), kPage);
  zinc_ptr(owner)[17] = 42;
  EXPECT_EQ(zinc_ptr(reader)[17], 42);
  EXPECT_NE(zinc_ptr(owner), zinc_ptr(reader));  // two mappings, one object
  zinc_close(reader);
  zinc_close(owner);
}

TEST(CApi, NullOutIsEinvalAndCreatesNothing) {
  const std::string name = unique_name("nullout");
  EXPECT_EQ(zinc_create(name.c_str(), kPage, nullptr), ZINC_EINVAL);
  EXPECT_EQ(zinc_open(name.c_str(), nullptr), ZINC_EINVAL);
  EXPECT_FALSE(zinc::test::object_exists(name));
}

TEST(CApi, NullNameIsEinvalAndClearsOut) {
  ZincHandle h = kJunk;
  EXPECT_EQ(zinc_create(nullptr, kPage, &h), ZINC_EINVAL);
  EXPECT_EQ(h, nullptr);
  h = kJunk;
  EXPECT_EQ(zinc_open(nullptr, &h), ZINC_EINVAL);
  EXPECT_EQ(h, nullptr);
  EXPECT_STREQ(zinc_last_error_message(), "name is NULL");
}

struct BadCapacity {
  const char* label;
  uint64_t capacity;
};

TEST(CApi, BadCapacitiesAreEinvalAndCreateNothing) {
  const uint64_t max = std::numeric_limits<uintptr_t>::max();
  const BadCapacity cases[] = {
      {"zero", 0},
      {"one", 1},
      {"page-1", kPage - 1},
      {"page+1", kPage + 1},
      {"overflowing", max - kPage + 1},
      {"max", max},
      {"past ptrdiff", (uint64_t{1} << 63)},
  };
  for (const auto& c : cases) {
    ObjectGuard g(unique_name("cap"));
    ZincHandle h = kJunk;
    EXPECT_EQ(zinc_create(g.c_str(), c.capacity, &h), ZINC_EINVAL) << c.label;
    EXPECT_EQ(h, nullptr) << c.label;
    EXPECT_FALSE(zinc::test::object_exists(g.name())) << c.label;
  }
  ZincHandle h = nullptr;
  EXPECT_EQ(zinc_create("x", 5000, &h), ZINC_EINVAL);
  EXPECT_STREQ(zinc_last_error_message(), "region 'x': capacity 5000 is not a multiple of the page size 4096");
}

TEST(CApi, CapacityBeyondShmSpaceIsEnospcNotSigbus) {
  // Page-aligned and addressable, but more than /dev/shm can hold: the
  // reservation at create fails instead of a later write faulting.
  struct statvfs fs{};
  ASSERT_EQ(statvfs("/dev/shm", &fs), 0);
  const uint64_t shm_bytes = uint64_t(fs.f_blocks) * fs.f_frsize;
  for (uint64_t capacity : {shm_bytes + kPage, uint64_t{1} << 50}) {
    ObjectGuard g(unique_name("enospc"));
    ZincHandle h = kJunk;
    EXPECT_EQ(zinc_create(g.c_str(), capacity, &h), ZINC_ENOSPC) << capacity;
    EXPECT_NE(std::string(zinc_last_error_message()).find("no space"), std::string::npos);
    EXPECT_EQ(h, nullptr);
    EXPECT_FALSE(zinc::test::object_exists(g.name()));
  }
}

TEST(CApi, CreateReservesEveryPageButNoReserveOnlyTheHeader) {
  const uint64_t kCapacity = 64 * kPage;
  ObjectGuard reserved(unique_name("reserved"));
  ObjectGuard sparse(unique_name("noreserve"));
  ZincHandle r = nullptr, s = nullptr;
  ASSERT_EQ(zinc_create(reserved.c_str(), kCapacity, &r), ZINC_OK);
  ASSERT_EQ(zinc_create_ex(sparse.c_str(), kCapacity, ZINC_CREATE_NORESERVE, &s), ZINC_OK);
  EXPECT_GE(allocated_bytes(reserved.name()), kPage + kCapacity);
  EXPECT_EQ(allocated_bytes(sparse.name()), kPage);  // the header's page only
  EXPECT_EQ(zinc_capacity(s), kCapacity);

  // A sparse region works like any other, and its pages appear as written.
  ZincHandle reader = nullptr;
  ASSERT_EQ(zinc_open(sparse.c_str(), &reader), ZINC_OK);
  std::memset(zinc_ptr(s) + 8 * kPage, 0x5a, kPage);
  zinc_notify(s);
  EXPECT_EQ(zinc_wait(reader, 2000), ZINC_OK);
  EXPECT_EQ(zinc_ptr(reader)[8 * kPage], 0x5a);
  EXPECT_EQ(allocated_bytes(sparse.name()), 2 * kPage);
  zinc_close(reader);
  zinc_close(s);
  zinc_close(r);
  EXPECT_FALSE(zinc::test::object_exists(sparse.name()));
  EXPECT_FALSE(zinc::test::object_exists(reserved.name()));
}

TEST(CApi, NoReserveCreatesACapacityBeyondShmSpace) {
  // What the reservation refuses (ENOSPC above), NORESERVE accepts: nothing
  // is allocated until written. (Writing all of it would SIGBUS; not done.)
  struct statvfs fs{};
  ASSERT_EQ(statvfs("/dev/shm", &fs), 0);
  const uint64_t capacity = uint64_t(fs.f_blocks) * fs.f_frsize + kPage;
  ObjectGuard g(unique_name("noreserve-big"));
  ZincHandle h = nullptr;
  ASSERT_EQ(zinc_create_ex(g.c_str(), capacity, ZINC_CREATE_NORESERVE, &h), ZINC_OK)
      << zinc_last_error_message();
  EXPECT_EQ(zinc_capacity(h), capacity);
  EXPECT_EQ(allocated_bytes(g.name()), kPage);
  zinc_close(h);
  EXPECT_FALSE(zinc::test::object_exists(g.name()));
}

TEST(CApi, NoReserveWithPrefaultIsEinval) {
  ObjectGuard g(unique_name("noreserve-prefault"));
  ZincHandle h = kJunk;
  EXPECT_EQ(zinc_create_ex(g.c_str(), kPage, ZINC_CREATE_NORESERVE | ZINC_CREATE_PREFAULT, &h),
            ZINC_EINVAL);
  EXPECT_STREQ(zinc_last_error_message(),
               "ZINC_CREATE_PREFAULT allocates every page; it cannot be combined with "
               "ZINC_CREATE_NORESERVE");
  EXPECT_EQ(h, nullptr);
  EXPECT_FALSE(zinc::test::object_exists(g.name()));
}

TEST(CApi, UnknownCreateFlagsAreEinval) {
  ObjectGuard g(unique_name("flags"));
  ZincHandle h = kJunk;
  EXPECT_EQ(zinc_create_ex(g.c_str(), kPage, 0x80, &h), ZINC_EINVAL);
  EXPECT_EQ(h, nullptr);
  EXPECT_FALSE(zinc::test::object_exists(g.name()));
}

TEST(CApi, PrefaultCreateWorks) {
  ObjectGuard g(unique_name("prefault"));
  ZincHandle h = nullptr;
  ASSERT_EQ(zinc_create_ex(g.c_str(), 16 * kPage, ZINC_CREATE_PREFAULT, &h), ZINC_OK);
  unsigned char residency[17] = {};
  ASSERT_EQ(mincore(zinc_ptr(h) - kPage, 17 * kPage, residency), 0);
  for (unsigned char r : residency) EXPECT_EQ(r & 1, 1);
  zinc_close(h);
}

TEST(CApi, NullHandleIsHarmlessEverywhere) {
  EXPECT_EQ(zinc_ptr(nullptr), nullptr);
  EXPECT_EQ(zinc_capacity(nullptr), 0u);
  EXPECT_EQ(zinc_name(nullptr), nullptr);
  zinc_notify(nullptr);
  zinc_close(nullptr);
  EXPECT_EQ(zinc_wait(nullptr, 0), ZINC_EINVAL);
  EXPECT_EQ(zinc_try_wait(nullptr), ZINC_EINVAL);
}

TEST(CApi, ForeignHandleValuesAreRejected) {
  int local = 0;
  for (ZincHandle bogus : {kJunk, static_cast<ZincHandle>(&local),
                           reinterpret_cast<ZincHandle>(~uintptr_t{0})}) {
    EXPECT_EQ(zinc_ptr(bogus), nullptr);
    EXPECT_EQ(zinc_capacity(bogus), 0u);
    EXPECT_EQ(zinc_try_wait(bogus), ZINC_EINVAL);
    EXPECT_EQ(zinc_wait(bogus, 0), ZINC_EINVAL);
    zinc_notify(bogus);
    zinc_close(bogus);
  }
}

TEST(CApi, UseAfterCloseAndDoubleCloseAreDetected) {
  ObjectGuard g(unique_name("afterclose"));
  ZincHandle h = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), kPage, &h), ZINC_OK);
  zinc_close(h);
  EXPECT_EQ(zinc_ptr(h), nullptr);
  EXPECT_EQ(zinc_capacity(h), 0u);
  EXPECT_EQ(zinc_name(h), nullptr);
  EXPECT_EQ(zinc_try_wait(h), ZINC_EINVAL);
  EXPECT_EQ(zinc_wait(h, 0), ZINC_EINVAL);
  zinc_notify(h);
  zinc_close(h);  // double close: detected, no effect
  EXPECT_STREQ(zinc_last_error_message(), "handle is NULL or already closed");
}

TEST(CApi, StaleHandleDoesNotReachTheSlotsNextOccupant) {
  ObjectGuard a(unique_name("stale-a")), b(unique_name("stale-b"));
  ZincHandle first = nullptr, second = nullptr;
  ASSERT_EQ(zinc_create(a.c_str(), kPage, &first), ZINC_OK);
  zinc_close(first);
  ASSERT_EQ(zinc_create(b.c_str(), kPage, &second), ZINC_OK);  // likely reuses the slot
  EXPECT_NE(first, second);
  EXPECT_EQ(zinc_ptr(first), nullptr);
  zinc_close(first);  // must not close `second`
  EXPECT_NE(zinc_ptr(second), nullptr);
  EXPECT_TRUE(zinc::test::object_exists(b.name()));
  zinc_close(second);
}

TEST(CApi, StrerrorCoversEveryCode) {
  for (int32_t code : {ZINC_OK, ZINC_EPERM, ZINC_ENOENT, ZINC_EAGAIN, ZINC_EEXIST, ZINC_EINVAL,
                       ZINC_ENOSPC, ZINC_EPIPE, ZINC_ENOMSG, ZINC_EBADMSG, ZINC_ETIMEDOUT,
                       ZINC_ESTALE, ZINC_ECANCELED}) {
    ASSERT_NE(zinc_strerror(code), nullptr);
    // zinc's own sentence, not the OS's generic text for the errno.
    if (code != ZINC_OK) {
      EXPECT_STRNE(zinc_strerror(code), std::strerror(-code)) << code;
    }
    EXPECT_GT(std::strlen(zinc_strerror(code)), 3u) << code;
  }
  EXPECT_STREQ(zinc_strerror(ZINC_ENOENT), "no such region");
  EXPECT_STREQ(zinc_strerror(-EMFILE), std::strerror(EMFILE));  // pass-through errno
  EXPECT_STREQ(zinc_strerror(5), "unknown zinc code");
  EXPECT_STREQ(zinc_strerror(INT32_MIN), "unknown zinc code");  // no -INT32_MIN overflow
}

TEST(CApi, CodesAreTheLinuxErrnoValues) {
  EXPECT_EQ(ZINC_EPERM, -EPERM);
  EXPECT_EQ(ZINC_ENOENT, -ENOENT);
  EXPECT_EQ(ZINC_EAGAIN, -EAGAIN);
  EXPECT_EQ(ZINC_EEXIST, -EEXIST);
  EXPECT_EQ(ZINC_EINVAL, -EINVAL);
  EXPECT_EQ(ZINC_ENOSPC, -ENOSPC);
  EXPECT_EQ(ZINC_EBADMSG, -EBADMSG);
  EXPECT_EQ(ZINC_ETIMEDOUT, -ETIMEDOUT);
  EXPECT_EQ(ZINC_ECANCELED, -ECANCELED);
}

TEST(CApi, RefCountFollowsOpensAndCloses) {
  ObjectGuard g(unique_name("refs"));
  ZincHandle owner = nullptr, r1 = nullptr, r2 = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), kPage, &owner), ZINC_OK);
  ZincHeaderInfo info{};
  ASSERT_EQ(zinc_inspect(g.c_str(), &info), ZINC_OK);
  EXPECT_EQ(info.ref_count, 1u);
  ASSERT_EQ(zinc_open(g.c_str(), &r1), ZINC_OK);
  ASSERT_EQ(zinc_open(g.c_str(), &r2), ZINC_OK);
  ASSERT_EQ(zinc_inspect(g.c_str(), &info), ZINC_OK);
  EXPECT_EQ(info.ref_count, 3u);
  zinc_close(r1);
  ASSERT_EQ(zinc_inspect(g.c_str(), &info), ZINC_OK);
  EXPECT_EQ(info.ref_count, 2u);
  zinc_close(r2);
  zinc_close(owner);
}

// Spec section 4.3, step 1: a close never takes ref_count below 0, even when
// another process left it wrong (here 0 while two handles are open).
TEST(CApi, CloseNeverTakesRefCountBelowZero) {
  ObjectGuard g(unique_name("refs-zero"));
  ZincHandle owner = nullptr, reader = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), kPage, &owner), ZINC_OK);
  ASSERT_EQ(zinc_open(g.c_str(), &reader), ZINC_OK);
  const int fd = shm_open(("/zinc_" + g.name()).c_str(), O_RDWR, 0);
  ASSERT_GE(fd, 0);
  void* raw = mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  ASSERT_NE(raw, MAP_FAILED);
  auto* ref_count = reinterpret_cast<std::atomic<uint32_t>*>(static_cast<uint8_t*>(raw) + 24);
  ref_count->store(0);
  zinc_close(reader);
  EXPECT_EQ(ref_count->load(), 0u) << "the close took ref_count below 0";
  munmap(raw, kPage);
  zinc_close(owner);
}

TEST(CApi, InspectReportsMissingAndBadNames) {
  EXPECT_EQ(zinc_inspect(unique_name("nothing").c_str(), nullptr), ZINC_ENOENT);
  EXPECT_EQ(zinc_inspect("bad name", nullptr), ZINC_EINVAL);
  EXPECT_EQ(zinc_inspect(nullptr, nullptr), ZINC_EINVAL);
}

TEST(CApi, OwnerCloseUnlinksAndReaderKeepsItsMapping) {
  ObjectGuard g(unique_name("ownerclose"));
  ZincHandle owner = nullptr, reader = nullptr, again = kJunk;
  ASSERT_EQ(zinc_create(g.c_str(), kPage, &owner), ZINC_OK);
  ASSERT_EQ(zinc_open(g.c_str(), &reader), ZINC_OK);
  zinc_ptr(owner)[0] = 7;
  zinc_close(owner);
  EXPECT_EQ(zinc_open(g.c_str(), &again), ZINC_ENOENT);
  EXPECT_EQ(zinc_ptr(reader)[0], 7);
  // The name is free for an independent region; the old reader is unaffected.
  ZincHandle fresh = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), kPage, &fresh), ZINC_OK);
  EXPECT_EQ(zinc_ptr(fresh)[0], 0);
  zinc_ptr(fresh)[0] = 9;
  EXPECT_EQ(zinc_ptr(reader)[0], 7);
  zinc_close(reader);
  zinc_close(fresh);
}

TEST(CApi, OwnerCloseLeavesANewerRegionWithTheSameNameAlone) {
  ObjectGuard g(unique_name("identity"));
  ZincHandle owner = nullptr, newer = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), kPage, &owner), ZINC_OK);
  // Someone removes the name behind the owner's back and creates anew.
  ASSERT_EQ(shm_unlink(("/zinc_" + g.name()).c_str()), 0);
  ASSERT_EQ(zinc_create(g.c_str(), kPage, &newer), ZINC_OK);
  zinc_close(owner);
  EXPECT_TRUE(zinc::test::object_exists(g.name()));
  ZincHandle reader = nullptr;
  EXPECT_EQ(zinc_open(g.c_str(), &reader), ZINC_OK);
  zinc_close(reader);
  zinc_close(newer);
  EXPECT_FALSE(zinc::test::object_exists(g.name()));
}

TEST(CApi, ReaderCloseDoesNotUnlink) {
  ObjectGuard g(unique_name("readerclose"));
  ZincHandle owner = nullptr, reader = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), kPage, &owner), ZINC_OK);
  ASSERT_EQ(zinc_open(g.c_str(), &reader), ZINC_OK);
  zinc_close(reader);
  EXPECT_TRUE(zinc::test::object_exists(g.name()));
  zinc_close(owner);
}

TEST(CApi, ManyHandlesInOneProcess) {
  ObjectGuard g(unique_name("many"));
  ZincHandle owner = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), kPage, &owner), ZINC_OK);
  std::vector<ZincHandle> readers(300);
  for (auto& r : readers) ASSERT_EQ(zinc_open(g.c_str(), &r), ZINC_OK);
  ZincHeaderInfo info{};
  ASSERT_EQ(zinc_inspect(g.c_str(), &info), ZINC_OK);
  EXPECT_EQ(info.ref_count, 301u);
  for (auto r : readers) zinc_close(r);
  zinc_close(owner);
}

}  // namespace
