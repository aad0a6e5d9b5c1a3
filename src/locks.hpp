// Liveness by kernel locks (docs/spec.md §4.5): a role holder keeps an open
// file description (OFD) lock on one byte of the object for as long as it
// holds the role, and a judge asks the kernel whether that byte is locked.
// The kernel drops the lock when the holder's last descriptor closes, death
// included, whatever pid namespace the holder lives in; no pid is involved.
//
// The bytes are only lock addresses: their contents are never touched.
#pragma once

#include <cstddef>
#include <cstdint>

#include "posix.hpp"
#include "status.hpp"
#include "zinc.h"

namespace zinc::core::locks {

// Region header flag bit: the region's participants hold the locks below.
// Without it (regions of the original implementation and of plain v2
// peers) liveness falls back to the pid rule of §4.4.
inline constexpr uint16_t kRegionFlag = ZINC_HEADER_FLAG_LOCKS;

// Object bytes that carry locks.
inline constexpr uint64_t kAttachedByte = 24;  // shared, by every handle (ref_count's first byte)
inline constexpr uint64_t kCreatorByte = 28;   // exclusive, by the creator (owner_pid's first byte)
// Exclusive, by the channel writer: the first byte of the `writer` word.
inline uint64_t writer_byte(size_t page_size) {
  return page_size + 56;
}
// Exclusive, by the reader in entry `index`: the first byte of its `owner`.
inline uint64_t reader_byte(size_t page_size, uint32_t index) {
  return page_size + 128 + 64 * uint64_t{index};
}

enum class Kind { kShared, kExclusive };

// F_OFD_SETLK on one byte, never blocking. ZINC_EBUSY when another open
// file description holds a conflicting lock; -errno for other failures
// (-EINVAL where the kernel has no OFD locks).
Status take(int fd, uint64_t byte, Kind kind);
// Drops this description's lock on the byte (no-op if it holds none).
void drop(int fd, uint64_t byte);
// Whether another open file description holds any lock on the byte
// (F_OFD_GETLK asking for an exclusive lock). Works on a read-only fd.
Status held_by_other(int fd, uint64_t byte, bool* held);

// The pthread_atfork child handler behind ProcessFd (registered with the
// first ProcessFd); not for direct use.
void close_all_in_child();

// A descriptor that belongs to the process that opened it: in a fork()
// child every one is closed at once (pthread_atfork), so a child never
// keeps its parent's locks, and with them a dead parent's roles, alive.
// exec() closes it too (O_CLOEXEC). Not movable: the registry points at it.
class ProcessFd {
 public:
  ProcessFd() = default;
  ProcessFd(const ProcessFd&) = delete;
  ProcessFd& operator=(const ProcessFd&) = delete;
  ~ProcessFd();
  // Takes over `fd` (closing any descriptor held before).
  void reset(posix::Fd fd);
  // -1 when none, or in a fork() child.
  int get() const { return fd_; }

 private:
  friend void close_all_in_child();
  int fd_ = -1;
};

}  // namespace zinc::core::locks
