#include "fuzz_support.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

#include "zinc.h"

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
  // Every target names its objects through here, so the first input sweeps.
  [[maybe_unused]] static const bool swept = (sweep_leftovers(), true);
  // Linux pids have at most 7 digits (pid_max <= 2^22).
  const std::string pid = std::to_string(getpid());
  return "t" + pid + "-fz" + std::string(pid.size() < 7 ? 7 - pid.size() : 0, '_');
}

void sweep_leftovers() {
  DIR* dir = opendir("/dev/shm");
  if (dir == nullptr) return;
  const std::string start = "zinc_t";
  std::vector<std::string> doomed;
  while (const dirent* entry = readdir(dir)) {
    const std::string file = entry->d_name;
    if (file.compare(0, start.size(), start) != 0) continue;
    const size_t dash = file.find("-fz", start.size());
    if (dash == std::string::npos || dash == start.size()) continue;
    const std::string digits = file.substr(start.size(), dash - start.size());
    if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 7) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(digits));
    if (pid <= 0 || kill(pid, 0) == 0 || errno != ESRCH) continue;
    struct stat st {};
    if (stat(("/dev/shm/" + file).c_str(), &st) != 0 || time(nullptr) - st.st_ctime < 60) continue;
    doomed.push_back(file);
  }
  closedir(dir);
  for (const std::string& file : doomed) {
    if (zinc_mapped_by(file.c_str() + 5, nullptr, 0) == 0) unlink(("/dev/shm/" + file).c_str());
  }
}

int32_t dead_pid() {
  static pid_t pid = 0;
  if (pid > 0 && kill(pid, 0) != 0 && errno == ESRCH) return pid;
  const pid_t child = fork();
  if (child == 0) _exit(0);
  FUZZ_CHECK(child > 0, "fork failed");
  int status = 0;
  FUZZ_CHECK(waitpid(child, &status, 0) == child, "waitpid failed");
  pid = child;
  return pid;
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
