#include "removal.hpp"

#include <atomic>

#include "zinc.h"

namespace zinc::core {

namespace testing {
void (*before_unlink)(const std::string& object) = nullptr;
}  // namespace testing

namespace {

// How long an owner's close waits for a remover that holds the lock.
constexpr int64_t kOwnLockWaitNs = 500'000'000;
constexpr int64_t kOwnLockPollNs = 1'000'000;

Status name_moved(const std::string& object) {
  return Status::error(ZINC_EBUSY,
                       "the name " + object + " was taken by another object meanwhile; left alone");
}

}  // namespace

Status unlink_locked(const std::string& object, const posix::ObjectId& judged) {
  posix::ObjectId current;
  if (Status s = posix::identify_object(object, &current); !s.is_ok()) return s;
  if (current != judged) return name_moved(object);
  if (testing::before_unlink != nullptr) testing::before_unlink(object);
  return posix::unlink_object(object);
}

Status unlink_unlockable(const std::string& object, const posix::ObjectId& judged) {
  // Hidden names start with '.', outside the "zinc_" namespace that tools
  // list, and are unique to this process and call.
  static std::atomic<uint64_t> counter{0};
  const std::string hidden = std::string("/.zinc-removing-") + std::to_string(posix::process_id()) +
                             "-" + std::to_string(counter.fetch_add(1));
  if (Status s = posix::rename_object(object, hidden); !s.is_ok()) return s;
  posix::ObjectId moved;
  Status s = posix::identify_object(hidden, &moved);
  if (s.is_ok() && moved == judged) {
    if (testing::before_unlink != nullptr) testing::before_unlink(object);
    return posix::unlink_object(hidden);
  }
  // Not what we judged: a newer object took the name in between. Put it back
  // unless yet another one has taken the name since.
  posix::rename_object(hidden, object);
  return name_moved(object);
}

void unlink_own(const std::string& object, const posix::ObjectId& own) {
  posix::Fd fd;
  uint64_t size = 0;
  posix::ObjectId current;
  if (!posix::open_object(object, true, &fd).is_ok()) return;
  if (!posix::stat_object(fd.get(), &size, &current).is_ok() || current != own) return;
  for (int64_t waited = 0; !posix::try_lock(fd.get()).is_ok(); waited += kOwnLockPollNs) {
    if (waited >= kOwnLockWaitNs) return;  // a remover holds it: it decides
    posix::pause_ns(kOwnLockPollNs);
  }
  unlink_locked(object, own);
}

}  // namespace zinc::core
