#include "posix.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
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

// The whole content of a small /proc file (they report size 0, so read to EOF).
Status read_proc_file(const std::string& path, std::string* out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return os_error(errno, "open(" + path + ")");
  Fd guard(fd);
  out->clear();
  char chunk[16384];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return os_error(errno, "read(" + path + ")");
    if (n == 0) break;
    out->append(chunk, static_cast<size_t>(n));
  }
  return Status::ok();
}

// Boot time in ns since the epoch, from the "btime" line of /proc/stat
// (whole seconds, truncated; it moves when the realtime clock is set).
bool boot_time_ns(uint64_t* out) {
  std::string stat;
  if (!read_proc_file("/proc/stat", &stat).is_ok()) return false;
  const size_t at = stat.find("\nbtime ");
  if (at == std::string::npos) return false;
  *out = std::strtoull(stat.c_str() + at + 7, nullptr, 10) * 1000000000ULL;
  return true;
}

// One line of /proc/<pid>/maps: "start-end perms offset MAJ:MIN inode path".
bool maps_line_is(const char* line, const ObjectId& id) {
  char* end = nullptr;
  const char* p = std::strchr(line, ' ');  // after the address range
  if (p == nullptr || (p = std::strchr(p + 1, ' ')) == nullptr) return false;  // perms
  if ((p = std::strchr(p + 1, ' ')) == nullptr) return false;                  // offset
  const unsigned long major_number = std::strtoul(p + 1, &end, 16);
  if (*end != ':') return false;
  const unsigned long minor_number = std::strtoul(end + 1, &end, 16);
  const unsigned long long inode = std::strtoull(end, &end, 10);
  return inode == id.inode && inode != 0 &&
         uint64_t{makedev(major_number, minor_number)} == id.device;
}

}  // namespace

size_t page_size() {
  static const size_t size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

namespace {
// getpid() is a system call, and channel calls ask on every frame: cache it,
// and forget it in a fork() child (pthread_atfork runs in the child before
// fork() returns there).
std::atomic<int32_t> cached_pid{0};
void forget_pid() {
  cached_pid.store(0, std::memory_order_relaxed);
}
}  // namespace

int32_t process_id() {
  int32_t pid = cached_pid.load(std::memory_order_relaxed);
  if (pid == 0) {
    static const int registered = pthread_atfork(nullptr, nullptr, forget_pid);
    (void)registered;
    pid = static_cast<int32_t>(getpid());
    cached_pid.store(pid, std::memory_order_relaxed);
  }
  return pid;
}

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

Status create_unnamed_object(Fd* out) {
  const int fd = ::open(kShmDirectory, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) return os_error(errno, std::string("open(") + kShmDirectory + ", O_TMPFILE)");
  *out = Fd(fd);
  return Status::ok();
}

Status publish_object(int fd, const std::string& object) {
  const std::string path = kShmDirectory + object;
  // linkat through /proc/self/fd needs no privilege; AT_EMPTY_PATH needs
  // CAP_DAC_READ_SEARCH but works without /proc.
  const std::string self = "/proc/self/fd/" + std::to_string(fd);
  if (linkat(AT_FDCWD, self.c_str(), AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW) == 0) {
    return Status::ok();
  }
  int err = errno;
  if (err != EEXIST && linkat(fd, "", AT_FDCWD, path.c_str(), AT_EMPTY_PATH) == 0) {
    return Status::ok();
  }
  if (err != EEXIST) err = errno;
  return os_error(err, "linkat(" + path + ")");
}

namespace {

const char* kind_of(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return "regular file";
    case S_IFIFO: return "FIFO";
    case S_IFLNK: return "symbolic link";
    case S_IFDIR: return "directory";
    case S_IFSOCK: return "socket";
    case S_IFCHR: return "character device";
    case S_IFBLK: return "block device";
    default: return "special file";
  }
}

Status not_a_region(const char* kind) {
  return Status::error(ZINC_EBADMSG, std::string("the object is a ") + kind +
                                         ", not a regular file: not a zinc region");
}

}  // namespace

Status open_object(const std::string& object, bool read_only, Fd* out) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer. glibc's shm_open
  // adds O_NOFOLLOW itself; an explicit one costs nothing elsewhere.
  const int flags = (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW;
  const int fd = shm_open(object.c_str(), flags, 0600);
  if (fd < 0) {
    const int err = errno;
    // ELOOP: a symlink; EISDIR (which glibc turns into EINVAL): a directory
    // opened for writing; ENXIO: a socket.
    if (err == ELOOP || err == EISDIR || err == EINVAL || err == ENXIO || err == ENODEV) {
      ObjectStat st;
      if (identify_object(object, &st).is_ok() && !st.regular) return not_a_region(st.kind);
    }
    return os_error(err, "shm_open(" + object + ")");
  }
  *out = Fd(fd);
  struct stat st {};
  if (fstat(fd, &st) != 0) return os_error(errno, "fstat");
  if (!S_ISREG(st.st_mode)) return not_a_region(kind_of(st.st_mode));
  return Status::ok();
}

Status unlink_object(const std::string& object) {
  if (shm_unlink(object.c_str()) != 0) return os_error(errno, "shm_unlink(" + object + ")");
  return Status::ok();
}

Status identify_object(const std::string& object, ObjectStat* out) {
  struct stat st {};
  if (lstat((kShmDirectory + object).c_str(), &st) != 0) {
    return os_error(errno, "lstat(" + std::string(kShmDirectory) + object + ")");
  }
  out->id = ObjectId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
  out->regular = S_ISREG(st.st_mode);
  out->kind = kind_of(st.st_mode);
  return Status::ok();
}

Status identify_object(const std::string& object, ObjectId* id) {
  ObjectStat st;
  Status s = identify_object(object, &st);
  if (s.is_ok()) *id = st.id;
  return s;
}

Status rename_object(const std::string& object, const std::string& hidden) {
  const std::string from = kShmDirectory + object;
  const std::string to = kShmDirectory + hidden;
  // The system call, not glibc's renameat2() wrapper (glibc 2.28): the Python
  // wheel's library needs nothing newer than glibc 2.17 (manylinux2014).
  if (syscall(SYS_renameat2, AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) != 0) {
    return os_error(errno, "rename(" + from + ", " + to + ")");
  }
  return Status::ok();
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
  return resize(fd, size);
}

Status resize(int fd, uint64_t size) {
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) return os_error(errno, "ftruncate");
  return Status::ok();
}

Status stat_object(int fd, uint64_t* size, ObjectId* id) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return os_error(errno, "fstat");
  *size = static_cast<uint64_t>(st.st_size);
  *id = ObjectId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
  return Status::ok();
}

Status changed_at(int fd, uint64_t* ns) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return os_error(errno, "fstat");
  *ns = static_cast<uint64_t>(st.st_ctim.tv_sec) * 1000000000ULL +
        static_cast<uint64_t>(st.st_ctim.tv_nsec);
  return Status::ok();
}

Status read_prefix(int fd, void* buffer, size_t length, size_t* got) {
  return read_at(fd, 0, buffer, length, got);
}

Status read_at(int fd, uint64_t offset, void* buffer, size_t length, size_t* got) {
  size_t done = 0;
  while (done < length) {
    const ssize_t n = pread(fd, static_cast<char*>(buffer) + done, length - done,
                            static_cast<off_t>(offset + done));
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

void unmap(uint8_t* base, size_t length) {
  munmap(base, length);
}

Status try_lock(int fd) {
  while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return Status::error(ZINC_EBUSY, "flock: held by another process");
    return os_error(errno, "flock");
  }
  return Status::ok();
}

void pause_ns(int64_t ns) {
  timespec pause{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  while (nanosleep(&pause, &pause) != 0 && errno == EINTR) {
  }
}

ProcessInfo probe_process(int32_t pid) {
  ProcessInfo info;
  if (pid <= 0) return info;  // kill() would address a process group
  info.exists = kill(pid, 0) == 0 || errno != ESRCH;
  if (!info.exists) return info;

  std::string stat;
  if (!read_proc_file("/proc/" + std::to_string(pid) + "/stat", &stat).is_ok()) return info;
  // "pid (comm) S ppid ...": comm may hold spaces and parentheses, so the
  // fields are counted from the last ')'. State is field 3, starttime 22.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return info;
  const char* p = stat.c_str() + close + 2;
  info.zombie = *p == 'Z' || *p == 'X';
  for (int field = 3; field < 22 && p != nullptr; ++field) {
    p = std::strchr(p, ' ');
    if (p != nullptr) ++p;
  }
  uint64_t boot = 0;
  const long ticks_per_second = sysconf(_SC_CLK_TCK);
  if (p == nullptr || ticks_per_second <= 0 || !boot_time_ns(&boot)) return info;
  const unsigned long long ticks = std::strtoull(p, nullptr, 10);
  info.start_ns = boot + ticks / static_cast<uint64_t>(ticks_per_second) * 1000000000ULL +
                  ticks % static_cast<uint64_t>(ticks_per_second) * 1000000000ULL /
                      static_cast<uint64_t>(ticks_per_second);
  info.start_known = true;
  return info;
}

Status process_maps(int32_t pid, const ObjectId& id, bool* maps) {
  *maps = false;
  std::string text;
  if (Status s = read_proc_file("/proc/" + std::to_string(pid) + "/maps", &text); !s.is_ok()) {
    return s;
  }
  for (char* line = text.data(); *line != '\0';) {
    char* newline = std::strchr(line, '\n');
    if (newline != nullptr) *newline = '\0';
    if (maps_line_is(line, id)) {
      *maps = true;
      return Status::ok();
    }
    if (newline == nullptr) break;
    line = newline + 1;
  }
  return Status::ok();
}

namespace {

// Calls `matches(pid)` for every process in /proc and collects the pids for
// which it returns true, in increasing order.
template <typename Matches>
Status collect_processes(std::vector<int32_t>* pids, Matches matches) {
  pids->clear();
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return os_error(errno, "opendir(/proc)");
  while (const dirent* entry = readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    if (matches(static_cast<int32_t>(pid))) pids->push_back(static_cast<int32_t>(pid));
  }
  closedir(proc);
  std::sort(pids->begin(), pids->end());
  return Status::ok();
}

// Whether any descriptor of `pid` refers to `id`. stat() of /proc/<pid>/fd/N
// follows the magic link to the open file itself, without opening it.
bool process_holds(int32_t pid, const ObjectId& id) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* fds = opendir(dir.c_str());
  if (fds == nullptr) return false;  // another user's, or gone
  bool holds = false;
  while (const dirent* entry = readdir(fds)) {
    if (entry->d_name[0] == '.') continue;
    struct stat st {};
    if (stat((dir + "/" + entry->d_name).c_str(), &st) == 0 &&
        static_cast<uint64_t>(st.st_ino) == id.inode &&
        static_cast<uint64_t>(st.st_dev) == id.device) {
      holds = true;
      break;
    }
  }
  closedir(fds);
  return holds;
}

}  // namespace

Status find_mappers(const ObjectId& id, std::vector<int32_t>* pids) {
  // Unreadable (another user's) or vanished processes are skipped.
  return collect_processes(pids, [&](int32_t pid) {
    bool maps = false;
    return process_maps(pid, id, &maps).is_ok() && maps;
  });
}

Status find_holders(const ObjectId& id, std::vector<int32_t>* pids) {
  return collect_processes(pids, [&](int32_t pid) { return process_holds(pid, id); });
}

}  // namespace zinc::core::posix
