#include "fuzz_support.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace zinc::fuzz {
namespace {

// Linux keeps POSIX shared memory in /dev/shm; going through the file system
// keeps these helpers out of the way of the shm_open interposer.
std::string path_of(const std::string& name) {
  return "/dev/shm/zinc_" + name;
}

std::vector<std::string>& guarded() {
  static std::vector<std::string> names;
  return names;
}

}  // namespace

void fail(const char* file, int line, const std::string& what) {
  std::fprintf(stderr, "\n%s:%d: zinc fuzz check failed: %s\n", file, line, what.c_str());
  std::fflush(stderr);
  for (const std::string& name : guarded()) unlink_object(name);
  std::abort();
}

std::string name_prefix() {
  return "t" + std::to_string(getpid()) + "-fz";
}

std::string unique_name(std::string_view tag) {
  static unsigned long counter = 0;
  return name_prefix() + std::string(tag) + std::to_string(counter++);
}

ObjectGuard::ObjectGuard(std::string name) : name_(std::move(name)) {
  guarded().push_back(name_);
}

ObjectGuard::~ObjectGuard() {
  unlink_object(name_);
  auto& names = guarded();
  names.erase(std::find(names.begin(), names.end(), name_));
}

bool spec_accepts_name(std::string_view name) {
  if (name.empty() || name.size() > 250) return false;
  for (const char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool object_exists(const std::string& name) {
  struct stat st {};
  return stat(path_of(name).c_str(), &st) == 0;
}

void unlink_object(const std::string& name) {
  unlink(path_of(name).c_str());
}

bool write_object(const std::string& name, std::string_view content, uint64_t size) {
  const int fd = open(path_of(name).c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  bool ok = true;
  size_t done = 0;
  while (ok && done < content.size()) {
    const ssize_t n = write(fd, content.data() + done, content.size() - done);
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && ftruncate(fd, static_cast<off_t>(size)) == 0;
  close(fd);
  if (!ok) unlink_object(name);
  return ok;
}

bool read_object(const std::string& name, uint64_t offset, size_t length, uint8_t* out) {
  const int fd = open(path_of(name).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < length) {
    const ssize_t n = pread(fd, out + done, length - done, static_cast<off_t>(offset + done));
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  close(fd);
  return done == length;
}

}  // namespace zinc::fuzz
