// Direct access to "/dev/shm/zinc_<name>" objects, bypassing the candidate:
// the kit reads the bytes a candidate wrote, plants objects for it to open,
// and speaks the futex protocol on its own mapping of the notify_seq word.
//
// Every failure here is the kit's own environment failing (not the
// candidate), reported by throwing KitError.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace zinc::conformance {

class KitError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string object_path(const std::string& name);  // "/dev/shm/zinc_<name>"
bool object_exists(const std::string& name);
std::vector<uint8_t> read_object(const std::string& name);
// `length` bytes from `offset` (fewer at the end of the object): for objects
// too large to read whole.
std::vector<uint8_t> read_object_range(const std::string& name, uint64_t offset, size_t length);
uint64_t object_size(const std::string& name);
unsigned object_mode(const std::string& name);  // permission bits
// Creates "/zinc_<name>" (it must not exist) with `bytes`, then sizes it to
// `size` (shorter truncates, longer zero-fills).
void plant_object(const std::string& name, const std::vector<uint8_t>& bytes, uint64_t size,
                  unsigned mode = 0600);
// Overwrites `bytes` at `offset` of an existing object.
void patch_object(const std::string& name, uint64_t offset, const std::vector<uint8_t>& bytes);
void unlink_object(const std::string& name);  // ignores a missing name

// Unlinks the name when it goes out of scope, whatever the check did.
class ObjectGuard {
 public:
  explicit ObjectGuard(std::string name) : name_(std::move(name)) {}
  ObjectGuard(const ObjectGuard&) = delete;
  ObjectGuard& operator=(const ObjectGuard&) = delete;
  ~ObjectGuard() { unlink_object(name_); }
  const std::string& name() const { return name_; }
  const char* c_str() const { return name_.c_str(); }

 private:
  std::string name_;
};

// The kit's own shared mapping of an object's header page.
class HeaderMapping {
 public:
  explicit HeaderMapping(const std::string& name);
  HeaderMapping(const HeaderMapping&) = delete;
  HeaderMapping& operator=(const HeaderMapping&) = delete;
  ~HeaderMapping();
  uint32_t* notify_seq() const;
  uint32_t* ref_count() const;
  uint8_t* bytes() const { return base_; }

 private:
  uint8_t* base_ = nullptr;
  size_t length_ = 0;
};

// The kit as a plain v2 participant: its own mapping of the header page,
// counted in ref_count as an open counts itself (docs/spec.md §4.2 step 6)
// and uncounted as a close does (§4.3) when it goes out of scope. Every real
// participant that sleeps on notify_seq has opened the region, and a
// notifier of the waiter-count extension relies on that: it skips the wake
// only while ref_count equals the handles counted in the block (§9.5, 2).
// The kit never touches that block.
class PlainParticipant {
 public:
  explicit PlainParticipant(const std::string& name) : mapping_(name) {}
  PlainParticipant(const PlainParticipant&) = delete;
  PlainParticipant& operator=(const PlainParticipant&) = delete;
  ~PlainParticipant();

  // ref_count += 1 by compare-and-swap, refusing 0 and 2^32-1 as an open
  // does; false (nothing written) if it found one of those. *found is the
  // value it found.
  bool join(uint32_t* found);
  uint32_t* notify_seq() const { return mapping_.notify_seq(); }

 private:
  HeaderMapping mapping_;
  bool joined_ = false;
};

// A shared-futex FUTEX_WAKE of every waiter on `word`; returns how many woke.
int futex_wake_shared(uint32_t* word);
// A shared-futex wait while *word == expected, up to timeout_ms. True if it
// returned because of a wake or a changed value, false on timeout.
bool futex_wait_shared(uint32_t* word, uint32_t expected, uint32_t timeout_ms);

// Current thread id (gettid).
pid_t current_tid();
// Polls /proc/<pid>/task/<tid>/stat until the thread is sleeping ('S' or
// 'D') or timeout_ms passes. Used to make sure a waiter is really asleep
// before the notify, so a wake that does not reach it cannot pass by luck.
bool wait_until_asleep(pid_t pid, pid_t tid, int timeout_ms);

// Monotonic and realtime clocks in ns / ms.
int64_t monotonic_ms();
uint64_t realtime_ns();

}  // namespace zinc::conformance
