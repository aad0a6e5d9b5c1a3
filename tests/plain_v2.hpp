// A handle that follows only the plain v2 protocol, the way the original
// implementation (and this library before the waiter-count extension) does:
// open counts itself in ref_count and nothing else, notify always calls
// FUTEX_WAKE, and wait sleeps on notify_seq without registering anywhere.
// Used to prove that counted handles never leave such a peer asleep.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace zinc::test {

class PlainV2Handle {
 public:
  // Maps "/zinc_<name>" and increments ref_count; nullptr on any failure.
  static std::unique_ptr<PlainV2Handle> open(const std::string& name);
  PlainV2Handle(const PlainV2Handle&) = delete;
  PlainV2Handle& operator=(const PlainV2Handle&) = delete;
  ~PlainV2Handle();  // ref_count - 1, unmap

  void notify();
  // 0 when a change since this handle's cursor was consumed, -110 on timeout.
  int32_t wait(uint32_t timeout_ms);
  int32_t try_wait();
  uint8_t* data() const { return base_ + page_; }

 private:
  PlainV2Handle(uint8_t* base, size_t length, size_t page)
      : base_(base), length_(length), page_(page) {}
  std::atomic<uint32_t>& seq() const;
  std::atomic<uint32_t>& ref_count() const;

  uint8_t* base_;
  size_t length_;
  size_t page_;
  uint32_t cursor_ = 0;
};

}  // namespace zinc::test
