#include "plain_v2.hpp"

#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <ctime>

namespace zinc::test {
namespace {

// Header offsets of the fields a plain v2 handle touches.
constexpr size_t kNotifySeq = 12;
constexpr size_t kRefCount = 24;

int64_t monotonic_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1000000000LL + now.tv_nsec;
}

}  // namespace

std::unique_ptr<PlainV2Handle> PlainV2Handle::open(const std::string& name) {
  const int fd = shm_open(("/zinc_" + name).c_str(), O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) return nullptr;
  struct stat st {};
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  if (fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(2 * page)) {
    close(fd);
    return nullptr;
  }
  void* base =
      mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (base == MAP_FAILED) return nullptr;
  std::unique_ptr<PlainV2Handle> handle(
      new PlainV2Handle(static_cast<uint8_t*>(base), static_cast<size_t>(st.st_size), page));
  handle->ref_count().fetch_add(1, std::memory_order_acq_rel);
  return handle;
}

PlainV2Handle::~PlainV2Handle() {
  ref_count().fetch_sub(1, std::memory_order_relaxed);
  munmap(base_, length_);
}

std::atomic<uint32_t>& PlainV2Handle::seq() const {
  return *reinterpret_cast<std::atomic<uint32_t>*>(base_ + kNotifySeq);
}

std::atomic<uint32_t>& PlainV2Handle::ref_count() const {
  return *reinterpret_cast<std::atomic<uint32_t>*>(base_ + kRefCount);
}

void PlainV2Handle::notify() {
  seq().fetch_add(1, std::memory_order_release);
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&seq()), FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

int32_t PlainV2Handle::try_wait() {
  const uint32_t current = seq().load(std::memory_order_acquire);
  if (current == cursor_) return -11;
  cursor_ = current;
  return 0;
}

int32_t PlainV2Handle::wait(uint32_t timeout_ms) {
  const int64_t deadline = monotonic_ns() + int64_t{timeout_ms} * 1000000;
  for (;;) {
    if (try_wait() == 0) return 0;
    const int64_t left = deadline - monotonic_ns();
    if (left <= 0) return -110;
    const timespec timeout{static_cast<time_t>(left / 1000000000LL),
                           static_cast<long>(left % 1000000000LL)};
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&seq()), FUTEX_WAIT, cursor_, &timeout, nullptr,
            0);
  }
}

}  // namespace zinc::test
