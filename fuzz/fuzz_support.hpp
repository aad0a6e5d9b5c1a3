// What the fuzz targets share: a check that aborts with a message (so
// libFuzzer records the input), a reader that turns fuzz bytes into values,
// unique object names, and raw access to /dev/shm that bypasses zinc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace zinc::fuzz {

// Prints the failed expectation and aborts: a finding, not a clean error.
[[noreturn]] void fail(const char* file, int line, const std::string& what);

#define FUZZ_CHECK(condition, what)                                   \
  do {                                                                \
    if (!(condition)) ::zinc::fuzz::fail(__FILE__, __LINE__, (what)); \
  } while (0)

// Consumes the fuzz input front to back; past the end every value is 0, so
// every input, however short, decodes to something.
class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  // Little-endian. Each read is its own statement: the operands of | (and
  // the arguments of a call) are evaluated in no fixed order.
  uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint16_t u16() {
    const uint16_t low = u8();
    const uint16_t high = u8();
    return static_cast<uint16_t>(low | high << 8);
  }
  uint32_t u32() {
    const uint32_t low = u16();
    const uint32_t high = u16();
    return low | high << 16;
  }
  uint64_t u64() {
    const uint64_t low = u32();
    const uint64_t high = u32();
    return low | high << 32;
  }
  // Everything not consumed yet.
  std::string_view rest() {
    std::string_view view(reinterpret_cast<const char*>(data_) + pos_, size_ - pos_);
    pos_ = size_;
    return view;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// "t<pid>-fz", padded with '_' to a fixed length whatever the pid's digit
// count (so what an input reaches, e.g. the 250-byte name limit, does not
// depend on the pid): the start of every name the targets use. Like the unit
// tests' names, it lets scripts/lib.sh, and sweep_leftovers() at the start of
// every fuzz process, remove what a killed process left behind.
std::string name_prefix();

// Removes /dev/shm/zinc_t<pid>-fz* objects that a killed fuzz process left
// (AFL++ and libFuzzer kill on timeouts): only where the pid names no
// process here, the object has not changed for a minute and no process we
// can see maps it (an object of a live fuzzer in another pid namespace
// lives for milliseconds). name_prefix() runs it once per process.
void sweep_leftovers();

// A pid that names no process: a child this process forked and reaped
// (forked again if the pid was handed out since). Dead to any liveness
// judgement, by pid or by lock, so targets use it for dead owners.
int32_t dead_pid();
// name_prefix() + "<tag><counter>": unique per process and call.
std::string unique_name(std::string_view tag);

// Unlinks "/zinc_<name>" when it goes out of scope, and also when a check
// fails (fail() runs before the abort that skips destructors).
class ObjectGuard {
 public:
  explicit ObjectGuard(std::string name);
  ObjectGuard(const ObjectGuard&) = delete;
  ObjectGuard& operator=(const ObjectGuard&) = delete;
  ~ObjectGuard();

 private:
  std::string name_;
};

// The name rule as documented (docs/spec.md §2), written independently of
// src/name.cpp so the fuzzers check the library against the spec.
bool spec_accepts_name(std::string_view name);

// Raw /dev/shm access that does not go through zinc (nor through the
// shm_open interposer of the name target).
bool object_exists(const std::string& name);
void unlink_object(const std::string& name);
// Writes `content` as the start of "/zinc_<name>" and sizes it to `size`.
// False if the OS refused (then nothing is left behind).
bool write_object(const std::string& name, std::string_view content, uint64_t size);
// Reads `length` bytes at `offset` of "/zinc_<name>" into `out`.
bool read_object(const std::string& name, uint64_t offset, size_t length, uint8_t* out);

}  // namespace zinc::fuzz
