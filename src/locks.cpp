#include "locks.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "zinc.h"

namespace zinc::core::locks {
namespace {

struct flock one_byte(short type, uint64_t byte) {
  struct flock lock {};
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  lock.l_start = static_cast<off_t>(byte);
  lock.l_len = 1;
  lock.l_pid = 0;  // F_OFD_* require it
  return lock;
}

Status lock_error(int err, const char* what, uint64_t byte) {
  return Status::error(err > 0 ? -err : -1, std::string(what) + " on byte " + std::to_string(byte) +
                                                ": " + std::strerror(err));
}

// Every live ProcessFd of this process.
struct Registry {
  std::mutex mutex;
  std::vector<ProcessFd*> fds;
};

void lock_registry_for_fork();
void unlock_registry_after_fork();

Registry& registry() {
  static Registry* instance = [] {
    auto* r = new Registry;  // never destroyed: handles may outlive statics
    pthread_atfork(lock_registry_for_fork, unlock_registry_after_fork, close_all_in_child);
    return r;
  }();
  return *instance;
}

void lock_registry_for_fork() {
  registry().mutex.lock();
}
void unlock_registry_after_fork() {
  registry().mutex.unlock();
}

}  // namespace

// The child of fork(): only the forking thread exists, and it holds the
// registry's mutex (taken in the prepare handler).
void close_all_in_child() {
  Registry& r = registry();
  for (ProcessFd* fd : r.fds) {
    if (fd->fd_ >= 0) ::close(fd->fd_);
    fd->fd_ = -1;
  }
  r.mutex.unlock();
}

Status take(int fd, uint64_t byte, Kind kind) {
  struct flock lock = one_byte(kind == Kind::kShared ? F_RDLCK : F_WRLCK, byte);
  while (fcntl(fd, F_OFD_SETLK, &lock) != 0) {
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EACCES) {
      return Status::error(ZINC_EBUSY,
                           "byte " + std::to_string(byte) + " is locked by another holder");
    }
    return lock_error(errno, "fcntl(F_OFD_SETLK)", byte);
  }
  return Status::ok();
}

void drop(int fd, uint64_t byte) {
  struct flock lock = one_byte(F_UNLCK, byte);
  while (fcntl(fd, F_OFD_SETLK, &lock) != 0 && errno == EINTR) {
  }
}

Status held_by_other(int fd, uint64_t byte, bool* held) {
  struct flock lock = one_byte(F_WRLCK, byte);
  while (fcntl(fd, F_OFD_GETLK, &lock) != 0) {
    if (errno != EINTR) return lock_error(errno, "fcntl(F_OFD_GETLK)", byte);
  }
  *held = lock.l_type != F_UNLCK;
  return Status::ok();
}

ProcessFd::~ProcessFd() {
  reset(posix::Fd());
}

void ProcessFd::reset(posix::Fd fd) {
  Registry& r = registry();
  std::lock_guard guard(r.mutex);
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd.release();
  const auto it = std::find(r.fds.begin(), r.fds.end(), this);
  if (fd_ >= 0 && it == r.fds.end()) r.fds.push_back(this);
  if (fd_ < 0 && it != r.fds.end()) r.fds.erase(it);
}

}  // namespace zinc::core::locks
