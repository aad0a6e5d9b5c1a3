#include "read_only_object.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace zinc::cli {

ReadOnlyObject::ReadOnlyObject(const std::string& path) {
  fd_ = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) return;
  struct stat st {};
  if (fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd_);
    fd_ = -1;
  }
}

ReadOnlyObject::~ReadOnlyObject() {
  if (fd_ >= 0) close(fd_);
}

bool ReadOnlyObject::read(uint64_t offset, void* out, size_t length) const {
  if (fd_ < 0) return false;
  auto* bytes = static_cast<uint8_t*>(out);
  size_t done = 0;
  while (done < length) {
    const ssize_t n = pread(fd_, bytes + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace zinc::cli
