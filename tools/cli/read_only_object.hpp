// A /dev/shm object opened only to read it, the way every command that just
// looks must open an object a neighbour may have planted: O_NOFOLLOW (a
// symlink is not followed), O_NONBLOCK (a FIFO does not block the open), and
// only a regular file is read. Nothing is mapped or written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace zinc::cli {

class ReadOnlyObject {
 public:
  explicit ReadOnlyObject(const std::string& path);
  ReadOnlyObject(const ReadOnlyObject&) = delete;
  ReadOnlyObject& operator=(const ReadOnlyObject&) = delete;
  ~ReadOnlyObject();

  // Whether the path is a regular file that could be opened.
  bool ok() const { return fd_ >= 0; }
  // Reads exactly `length` bytes at `offset`; false on a short read or error.
  bool read(uint64_t offset, void* out, size_t length) const;

 private:
  int fd_ = -1;
};

}  // namespace zinc::cli
