#include "shared_mappings.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "zinc.h"

namespace zinc::core::mappings {

#ifdef ZINC_SHARED_MAPPINGS

namespace {

struct Mapping {
  posix::ObjectId id;
  size_t length = 0;
  uint8_t* base = nullptr;
  size_t users = 0;
};

struct Table {
  std::mutex mutex;
  std::vector<Mapping> mappings;
};

void lock_for_fork();
void unlock_after_fork();

Table& table() {
  static Table* instance = [] {
    auto* t = new Table;  // never destroyed: handles may outlive statics
    // A fork() child inherits the mappings and the table with them; the
    // mutex must not be held by a thread that does not exist there.
    pthread_atfork(lock_for_fork, unlock_after_fork, unlock_after_fork);
    return t;
  }();
  return *instance;
}

void lock_for_fork() {
  table().mutex.lock();
}
void unlock_after_fork() {
  table().mutex.unlock();
}

}  // namespace

bool shared() {
  return true;
}

Status map(int fd, const posix::ObjectId& id, size_t length, bool populate, uint8_t** base) {
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mutex);
  for (Mapping& m : t.mappings) {
    if (m.id == id && m.length == length) {
      ++m.users;
      *base = m.base;
      return Status::ok();
    }
  }
  // Mapped through an open file description of its own: a mapping keeps the
  // description it was made from alive, and with it that description's
  // locks (a creator's, a role's, the attach lock). Made from this handle's
  // descriptor, the shared mapping would keep this handle's locks held after
  // its close for as long as another handle of the process used it.
  const std::string own_path = "/proc/self/fd/" + std::to_string(fd);
  const int own = ::open(own_path.c_str(), O_RDWR | O_CLOEXEC);
  if (own < 0) {
    return Status::error(ZINC_EINVAL, "open(" + own_path + "): " + std::strerror(errno));
  }
  Status s = posix::map_shared(own, length, populate, base);
  ::close(own);
  if (!s.is_ok()) return s;
  t.mappings.push_back({id, length, *base, 1});
  return Status::ok();
}

void unmap(uint8_t* base, size_t length) {
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mutex);
  for (auto m = t.mappings.begin(); m != t.mappings.end(); ++m) {
    if (m->base != base) continue;
    if (--m->users == 0) {
      posix::unmap(base, length);
      t.mappings.erase(m);
    }
    return;
  }
  posix::unmap(base, length);  // not ours to count (never happens)
}

#else

bool shared() {
  return false;
}

Status map(int fd, const posix::ObjectId&, size_t length, bool populate, uint8_t** base) {
  return posix::map_shared(fd, length, populate, base);
}

void unmap(uint8_t* base, size_t length) {
  posix::unmap(base, length);
}

#endif

}  // namespace zinc::core::mappings
