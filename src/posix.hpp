// The only file that talks to the OS about shared-memory objects and clocks.
// Every function returns a Status whose code follows the zinc error table
// (EEXIST, ENOENT, EACCES/EPERM and ENOSPC get their ZINC_ codes; anything
// else is passed through as -errno) and whose message names the syscall.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "status.hpp"

namespace zinc::core::posix {

size_t page_size();
int32_t process_id();
uint64_t realtime_ns();  // ns since the Unix epoch

// Identity of an OS object: stays unique while any mapping of it exists.
struct ObjectId {
  uint64_t device = 0;
  uint64_t inode = 0;
  bool operator==(const ObjectId&) const = default;
};

// RAII file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();
  int get() const { return fd_; }
  int release();

 private:
  int fd_ = -1;
};

// Where shm_open keeps its objects on Linux (glibc and musl alike): "/zinc_x"
// is the file kShmDirectory + "/zinc_x".
inline constexpr const char* kShmDirectory = "/dev/shm";

// shm_open with O_CREAT|O_EXCL|O_RDWR, mode 0600.
Status create_object(const std::string& object, Fd* out);
// A nameless object in /dev/shm (O_TMPFILE, mode 0600) that publish() later
// gives its name: nobody can see or open it before then, and it vanishes
// with its last descriptor if the creator dies first. ZINC_ENOTSUP-like
// codes (-EOPNOTSUPP, -EISDIR, -ENOENT) mean the system lacks it.
Status create_unnamed_object(Fd* out);
// Links the nameless object behind fd under `object`, atomically and only
// if the name is free (ZINC_EEXIST otherwise).
Status publish_object(int fd, const std::string& object);
// shm_open with O_RDWR (or O_RDONLY when read_only), never blocking and never
// following a symlink. Anything but a regular file under the name (a FIFO, a
// directory, a symlink, a socket) fails with ZINC_EBADMSG, which says what it
// is; *out then still holds the open descriptor when there is one (a FIFO or
// directory opened for reading), so a remover can lock it.
Status open_object(const std::string& object, bool read_only, Fd* out);
Status unlink_object(const std::string& object);

// What the name refers to now, found with lstat (no open: nothing that sits
// under the name can block or be disturbed by the look).
struct ObjectStat {
  ObjectId id;
  bool regular = false;   // a regular file (every region is one)
  const char* kind = "";  // "regular file", "FIFO", "symbolic link", ...
};
Status identify_object(const std::string& object, ObjectStat* out);
Status identify_object(const std::string& object, ObjectId* id);
// Renames `object` to `hidden` (a name outside the zinc_ namespace) only if
// `hidden` is free; used to take an object away from the name before it is
// checked and removed.
Status rename_object(const std::string& object, const std::string& hidden);

// Sizes the object and reserves its pages (posix_fallocate), so a full
// /dev/shm fails here with ZINC_ENOSPC instead of SIGBUS on first touch.
Status reserve(int fd, uint64_t size);
// Sizes the object without reserving its pages (ftruncate).
Status resize(int fd, uint64_t size);
Status stat_object(int fd, uint64_t* size, ObjectId* id);
// When the object behind fd last changed (st_ctime), ns since the Unix epoch.
Status changed_at(int fd, uint64_t* ns);
// Reads up to `length` bytes from offset 0; *got is what was read.
Status read_prefix(int fd, void* buffer, size_t length, size_t* got);
// The same from `offset` (pread: never faults, whatever the object's size).
Status read_at(int fd, uint64_t offset, void* buffer, size_t length, size_t* got);

Status map_shared(int fd, size_t length, bool populate, uint8_t** base);
void unmap(uint8_t* base, size_t length);

// flock(LOCK_EX|LOCK_NB) on the object behind fd, held until fd is closed.
// ZINC_EBUSY if another open file description holds it.
Status try_lock(int fd);

// Sleeps `ns` nanoseconds (for bounded retry loops).
void pause_ns(int64_t ns);

// --- processes (Linux /proc) -------------------------------------------------

// What the OS says about a process id right now.
struct ProcessInfo {
  bool exists = false;       // kill(pid, 0) did not fail with ESRCH (EPERM counts as existing)
  bool zombie = false;       // it has exited and waits to be reaped: it maps nothing any more
  bool start_known = false;  // /proc/<pid>/stat and /proc/stat could be read
  uint64_t start_ns = 0;     // when it started, ns since the Unix epoch (1 s resolution at best)
};
ProcessInfo probe_process(int32_t pid);

// Whether process `pid` currently maps object `id` (by device and inode, as
// /proc/<pid>/maps shows them). Fails with ZINC_EPERM when its maps may not
// be read (another user's process, without root) and ZINC_ENOENT when the
// process is gone.
Status process_maps(int32_t pid, const ObjectId& id, bool* maps);

// Every process whose maps this process may read and that maps `id`,
// in increasing pid order. Processes whose maps are unreadable are skipped.
Status find_mappers(const ObjectId& id, std::vector<int32_t>* pids);
// Every process (as far as /proc lets us see) that holds `id` open through
// a file descriptor, in increasing pid order; the caller itself included.
Status find_holders(const ObjectId& id, std::vector<int32_t>* pids);

}  // namespace zinc::core::posix
