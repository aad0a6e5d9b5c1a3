#include "raw_object.hpp"

#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>

#include "format.hpp"

namespace zinc::conformance {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw KitError(what + ": " + std::strerror(errno));
}

std::string posix_name(const std::string& name) {
  return "/zinc_" + name;
}

void write_all(int fd, const uint8_t* bytes, size_t size, uint64_t offset) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = pwrite(fd, bytes + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("pwrite");
    done += static_cast<size_t>(n);
  }
}

}  // namespace

std::string object_path(const std::string& name) {
  return "/dev/shm/zinc_" + name;
}

bool object_exists(const std::string& name) {
  struct stat st {};
  return lstat(object_path(name).c_str(), &st) == 0;
}

std::vector<uint8_t> read_object(const std::string& name) {
  const int fd = open(object_path(name).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("kit could not read " + object_path(name));
  std::vector<uint8_t> bytes;
  uint8_t chunk[65536];
  for (;;) {
    const ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    bytes.insert(bytes.end(), chunk, chunk + n);
  }
  close(fd);
  return bytes;
}

std::vector<uint8_t> read_object_range(const std::string& name, uint64_t offset, size_t length) {
  const int fd = open(object_path(name).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("kit could not read " + object_path(name));
  std::vector<uint8_t> bytes(length);
  size_t done = 0;
  while (done < length) {
    const ssize_t n =
        pread(fd, bytes.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  close(fd);
  bytes.resize(done);
  return bytes;
}

uint64_t object_size(const std::string& name) {
  struct stat st {};
  if (stat(object_path(name).c_str(), &st) != 0) fail("kit could not stat " + object_path(name));
  return static_cast<uint64_t>(st.st_size);
}

unsigned object_mode(const std::string& name) {
  struct stat st {};
  if (stat(object_path(name).c_str(), &st) != 0) fail("kit could not stat " + object_path(name));
  return st.st_mode & 07777;
}

void plant_object(const std::string& name, const std::vector<uint8_t>& bytes, uint64_t size,
                  unsigned mode) {
  const mode_t old_mask = umask(0);
  const int fd = shm_open(posix_name(name).c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC,
                          static_cast<mode_t>(mode));
  umask(old_mask);
  if (fd < 0) fail("kit could not create " + object_path(name));
  try {
    write_all(fd, bytes.data(), bytes.size(), 0);
    if (ftruncate(fd, static_cast<off_t>(size)) != 0) fail("ftruncate");
  } catch (...) {
    close(fd);
    shm_unlink(posix_name(name).c_str());
    throw;
  }
  close(fd);
}

void patch_object(const std::string& name, uint64_t offset, const std::vector<uint8_t>& bytes) {
  const int fd = open(object_path(name).c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) fail("kit could not open " + object_path(name));
  try {
    write_all(fd, bytes.data(), bytes.size(), offset);
  } catch (...) {
    close(fd);
    throw;
  }
  close(fd);
}

void unlink_object(const std::string& name) {
  shm_unlink(posix_name(name).c_str());
}

HeaderMapping::HeaderMapping(const std::string& name) {
  const int fd = open(object_path(name).c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) fail("kit could not open " + object_path(name));
  length_ = system_page_size();
  void* address = mmap(nullptr, length_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (address == MAP_FAILED) fail("kit could not map " + object_path(name));
  base_ = static_cast<uint8_t*>(address);
}

HeaderMapping::~HeaderMapping() {
  munmap(base_, length_);
}

uint32_t* HeaderMapping::notify_seq() const {
  return reinterpret_cast<uint32_t*>(base_ + offset::kNotifySeq);
}

uint32_t* HeaderMapping::ref_count() const {
  return reinterpret_cast<uint32_t*>(base_ + offset::kRefCount);
}

bool PlainParticipant::join(uint32_t* found) {
  uint32_t* count = mapping_.ref_count();
  uint32_t current = __atomic_load_n(count, __ATOMIC_SEQ_CST);
  do {
    *found = current;
    if (current == 0 || current == UINT32_MAX) return false;
  } while (!__atomic_compare_exchange_n(count, &current, current + 1, true, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST));
  joined_ = true;
  return true;
}

PlainParticipant::~PlainParticipant() {
  if (!joined_) return;
  // Never below zero, as the reference's close.
  uint32_t* count = mapping_.ref_count();
  uint32_t current = __atomic_load_n(count, __ATOMIC_SEQ_CST);
  while (current != 0 && !__atomic_compare_exchange_n(count, &current, current - 1, true,
                                                      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
  }
}

int futex_wake_shared(uint32_t* word) {
  const long woken = syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
  return woken < 0 ? 0 : static_cast<int>(woken);
}

bool futex_wait_shared(uint32_t* word, uint32_t expected, uint32_t timeout_ms) {
  const int64_t deadline = monotonic_ms() + timeout_ms;
  for (;;) {
    if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != expected) return true;
    const int64_t left = deadline - monotonic_ms();
    if (left <= 0) return false;
    const timespec timeout{static_cast<time_t>(left / 1000),
                           static_cast<long>(left % 1000) * 1000000};
    if (syscall(SYS_futex, word, FUTEX_WAIT, expected, &timeout, nullptr, 0) == 0) return true;
    if (errno != EINTR && errno != EAGAIN && errno != ETIMEDOUT) fail("futex wait");
  }
}

pid_t current_tid() {
  return static_cast<pid_t>(syscall(SYS_gettid));
}

bool wait_until_asleep(pid_t pid, pid_t tid, int timeout_ms) {
  const std::string path =
      "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/stat";
  const int64_t deadline = monotonic_ms() + timeout_ms;
  for (;;) {
    std::ifstream in(path);
    std::string line;
    if (std::getline(in, line)) {
      // "pid (comm) S ...": the comm may contain spaces and parentheses.
      const size_t close_paren = line.rfind(')');
      if (close_paren != std::string::npos && close_paren + 2 < line.size()) {
        const char state = line[close_paren + 2];
        if (state == 'S' || state == 'D') return true;
      }
    }
    if (monotonic_ms() >= deadline) return false;
    const timespec pause{0, 1000000};
    nanosleep(&pause, nullptr);
  }
}

int64_t monotonic_ms() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
}

uint64_t realtime_ns() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000000ULL + static_cast<uint64_t>(now.tv_nsec);
}

}  // namespace zinc::conformance
