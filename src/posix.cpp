#include "posix.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "zinc.h"

namespace zinc::core::posix {
namespace {

int32_t code_for_errno(int err) {
  switch (err) {
    case EEXIST: return ZINC_EEXIST;
    case ENOENT: return ZINC_ENOENT;
    case EACCES:
    case EPERM: return ZINC_EPERM;
    case ENOSPC: return ZINC_ENOSPC;
    default: return err > 0 ? -err : -1;
  }
}

Status os_error(int err, const std::string& what) {
  return Status::error(code_for_errno(err), what + ": " + std::strerror(err));
}

}  // namespace

size_t page_size() {
  static const size_t size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

int32_t process_id() { return static_cast<int32_t>(getpid()); }

uint64_t realtime_ns() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000000ULL + static_cast<uint64_t>(now.tv_nsec);
}

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    Fd old(fd_);
    fd_ = other.release();
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

int Fd::release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

Status create_object(const std::string& object, Fd* out) {
  const int fd = shm_open(object.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) return os_error(errno, "shm_open(" + object + ", O_CREAT|O_EXCL)");
  *out = Fd(fd);
  return Status::ok();
}

Status open_object(const std::string& object, bool read_only, Fd* out) {
  const int fd = shm_open(object.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC, 0600);
  if (fd < 0) return os_error(errno, "shm_open(" + object + ")");
  *out = Fd(fd);
  return Status::ok();
}

Status unlink_object(const std::string& object) {
  if (shm_unlink(object.c_str()) != 0) return os_error(errno, "shm_unlink(" + object + ")");
  return Status::ok();
}

Status identify_object(const std::string& object, ObjectId* id) {
  struct stat st{};
  if (stat(("/dev/shm" + object).c_str(), &st) == 0) {
    *id = ObjectId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
    return Status::ok();
  }
  Fd fd;
  if (Status s = open_object(object, true, &fd); !s.is_ok()) return s;
  uint64_t size = 0;
  return stat_object(fd.get(), &size, id);
}

Status reserve(int fd, uint64_t size) {
  // posix_fallocate returns the error instead of setting errno.
  const int err = posix_fallocate(fd, 0, static_cast<off_t>(size));
  if (err == 0) return Status::ok();
  if (err == ENOSPC) {
    return Status::error(ZINC_ENOSPC, "no space to reserve " + std::to_string(size) +
                                          " bytes in /dev/shm (posix_fallocate)");
  }
  if (err != EOPNOTSUPP && err != EINVAL) return os_error(err, "posix_fallocate");
  // A file system without fallocate: size it, unreserved.
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) return os_error(errno, "ftruncate");
  return Status::ok();
}

Status stat_object(int fd, uint64_t* size, ObjectId* id) {
  struct stat st{};
  if (fstat(fd, &st) != 0) return os_error(errno, "fstat");
  *size = static_cast<uint64_t>(st.st_size);
  *id = ObjectId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
  return Status::ok();
}

Status read_prefix(int fd, void* buffer, size_t length, size_t* got) {
  size_t done = 0;
  while (done < length) {
    const ssize_t n = pread(fd, static_cast<char*>(buffer) + done, length - done,
                            static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return os_error(errno, "pread");
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  *got = done;
  return Status::ok();
}

Status map_shared(int fd, size_t length, bool populate, uint8_t** base) {
  const int flags = MAP_SHARED | (populate ? MAP_POPULATE : 0);
  void* address = mmap(nullptr, length, PROT_READ | PROT_WRITE, flags, fd, 0);
  if (address == MAP_FAILED) return os_error(errno, "mmap of " + std::to_string(length) + " bytes");
  *base = static_cast<uint8_t*>(address);
  return Status::ok();
}

void unmap(uint8_t* base, size_t length) { munmap(base, length); }

}  // namespace zinc::core::posix
