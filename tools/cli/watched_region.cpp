#include "watched_region.hpp"

#include <cstddef>
#include <cstring>

namespace zinc::cli {

WatchedRegion::~WatchedRegion() {
  std::lock_guard lock(mutex_);
  if (!closed_) zinc_close(handle_);
  closed_ = true;
}

int32_t WatchedRegion::open(const std::string& name) {
  const int32_t code = zinc_open(name.c_str(), &handle_);
  if (code != ZINC_OK) return code;
  stop_.watch([this] {
    std::lock_guard lock(mutex_);
    closed_ = true;
    zinc_close(handle_);
  });
  return ZINC_OK;
}

int32_t WatchedRegion::wait(uint32_t timeout_ms) {
  // The handle value stays safe to pass after a close: the library
  // recognises a closed handle (ZINC_EINVAL) and cancels a blocked wait.
  ZincHandle handle;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return ZINC_ECANCELED;
    handle = handle_;
  }
  const int32_t code = zinc_wait(handle, timeout_ms);
  if (code == ZINC_EINVAL && stop_signal() != 0) return ZINC_ECANCELED;
  return code;
}

void WatchedRegion::drain() {
  std::lock_guard lock(mutex_);
  if (closed_) return;
  while (zinc_try_wait(handle_) == ZINC_OK) {
  }
}

const uint8_t* WatchedRegion::header_locked() const {
  if (closed_) return nullptr;
  // The header is the first page of the mapping; data starts one page in.
  return zinc_ptr(handle_) - zinc_page_size();
}

bool WatchedRegion::sequence(uint32_t* out) {
  std::lock_guard lock(mutex_);
  const uint8_t* header = header_locked();
  if (header == nullptr) return false;
  // Other processes bump it concurrently: an atomic load, as the library does.
  *out = __atomic_load_n(
      reinterpret_cast<const uint32_t*>(header + offsetof(ZincHeaderInfo, notify_seq)),
      __ATOMIC_ACQUIRE);
  return true;
}

bool WatchedRegion::created_at(uint64_t* out) {
  std::lock_guard lock(mutex_);
  const uint8_t* header = header_locked();
  if (header == nullptr) return false;
  std::memcpy(out, header + offsetof(ZincHeaderInfo, created_at), sizeof *out);  // written once
  return true;
}

}  // namespace zinc::cli
