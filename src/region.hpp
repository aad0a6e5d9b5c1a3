// A mapped region and one handle's view of it: lifecycle, cursor, notify/wait.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "header.hpp"
#include "posix.hpp"
#include "status.hpp"

namespace zinc::core {

class Region {
 public:
  // Creates "/zinc_<name>" with `capacity` usable bytes; the result owns the
  // name and unlinks it when destroyed. `flags` are ZINC_CREATE_* bits; with
  // ZINC_CREATE_REPLACE_STALE a stale region holding the name is removed
  // first (remove_stale) and the create retried once.
  static Status create(std::string_view name, uint64_t capacity, uint32_t flags,
                       std::unique_ptr<Region>* out);
  static Status open(std::string_view name, std::unique_ptr<Region>* out);

  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;
  // Drops the reference, unlinks the name if this is the owner and the name
  // still refers to this object, and unmaps.
  ~Region();

  uint8_t* data() const { return base_ + page_size_; }
  size_t capacity() const { return length_ - page_size_; }
  const std::string& name() const { return name_; }

  void notify();
  // ZINC_OK if this call consumed a notification, else ZINC_EAGAIN.
  int32_t try_wait();
  // ZINC_OK, ZINC_ETIMEDOUT, ZINC_ECANCELED (cancel_waits) or -errno.
  int32_t wait(uint32_t timeout_ms);
  // Makes every current and future wait() on this handle return
  // ZINC_ECANCELED promptly. Called by close from another thread.
  void cancel_waits();

 private:
  Region(std::string name, uint8_t* base, size_t length, bool owner, posix::ObjectId id);
  Header* header() const { return reinterpret_cast<Header*>(base_); }
  // Advances the cursor to `current` if it still equals `seen`.
  bool consume(uint32_t& seen, uint32_t current);

  std::string name_;
  uint8_t* base_;
  size_t length_;
  size_t page_size_;
  bool owner_;
  posix::ObjectId id_;
  // Last notify_seq this handle consumed. Starts at 0 for every handle, so a
  // handle opened after earlier notifications sees one pending (format rule).
  std::atomic<uint32_t> cursor_{0};
  std::atomic<bool> cancelled_{false};
};

}  // namespace zinc::core
