// zinc C++ API for wait sets (docs/spec.md §11): one thread waits for any of
// many regions and channel participants, as a move-only RAII WaitSet over
// the C ABI in <zinc.h>.
//
//   zinc::WaitSet set;
//   set.add(camera, 1);                  // a ChannelReader
//   set.add(imu, 2);                     // another
//   set.add(commands_region, 3);         // a Region
//   for (uint64_t key : set.wait(100ms)) {...}  // empty on timeout
//
//   int fd = set.fd();  // readable while a member is ready: epoll, libuv...
//
// A member is a Region, a ChannelReader or a ChannelWriter; the set holds
// only its handle, so keep the member open while it is in the set (a member
// closed anyway is reported once, then dropped). Failures throw
// std::system_error (code in zinc::category()); a close() from another
// thread makes a blocked wait() throw ZINC_ECANCELED (std::errc::
// operation_canceled).
#pragma once

#include <zinc.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <vector>
#include <zinc/channel.hpp>
#include <zinc/zinc.hpp>

namespace zinc {

class WaitSet {
 public:
  // An empty set. Throws std::system_error if none can be made.
  WaitSet() {
    ZincWaitSet set = nullptr;
    check(zinc_wait_set_create(&set), "zinc_wait_set_create");
    handle_.store(set);
  }
  WaitSet(WaitSet&& other) noexcept : handle_(other.handle_.exchange(nullptr)) {}
  WaitSet& operator=(WaitSet&& other) noexcept {
    if (this != &other) {
      close();
      handle_.store(other.handle_.exchange(nullptr));
    }
    return *this;
  }
  WaitSet(const WaitSet&) = delete;
  WaitSet& operator=(const WaitSet&) = delete;
  ~WaitSet() { close(); }

  // Adds a member under `key`. Throws for a closed member (EINVAL) or one
  // that is in the set already (EEXIST).
  void add(const Region& region, uint64_t key) {
    check(zinc_wait_set_add_region(handle_.load(), region.native_handle(), key),
          "zinc_wait_set_add_region");
  }
  void add(const ChannelReader& reader, uint64_t key) {
    check(zinc_wait_set_add_channel(handle_.load(), reader.native_handle(), key),
          "zinc_wait_set_add_channel");
  }
  void add(const ChannelWriter& writer, uint64_t key) {
    check(zinc_wait_set_add_channel(handle_.load(), writer.native_handle(), key),
          "zinc_wait_set_add_channel");
  }

  // False if it was not a member.
  bool remove(const Region& region) { return remove_handle(region.native_handle()); }
  bool remove(const ChannelReader& reader) { return remove_handle(reader.native_handle()); }
  bool remove(const ChannelWriter& writer) { return remove_handle(writer.native_handle()); }

  // The keys of ready members (at most `max_keys`), waiting up to `timeout`
  // (zinc::kForever: no limit); empty on timeout.
  std::vector<uint64_t> wait(std::chrono::milliseconds timeout = kForever, uint32_t max_keys = 64) {
    std::vector<uint64_t> keys(max_keys == 0 ? 1 : max_keys);
    keys.resize(wait(keys, timeout).size());
    return keys;
  }
  // The same into caller storage: the ready keys are a prefix of `out`.
  std::span<uint64_t> wait(std::span<uint64_t> out, std::chrono::milliseconds timeout) {
    const int32_t n = zinc_wait_set_wait(handle_.load(), timeout_ms(timeout), out.data(),
                                         static_cast<uint32_t>(out.size()));
    if (n == ZINC_ETIMEDOUT) return out.first(0);
    check(n < 0 ? n : 0, "zinc_wait_set_wait");
    return out.first(static_cast<std::size_t>(n));
  }

  // The set's eventfd (owned by the set): readable while a member is ready;
  // a wait() clears it.
  int fd() {
    const int32_t fd = zinc_wait_set_fd(handle_.load());
    check(fd < 0 ? fd : 0, "zinc_wait_set_fd");
    return fd;
  }

  bool is_open() const noexcept { return handle_.load() != nullptr; }
  explicit operator bool() const noexcept { return is_open(); }

  // Idempotent; may run while another thread waits (that wait throws
  // ZINC_ECANCELED). The members stay open.
  void close() noexcept {
    if (ZincWaitSet set = handle_.exchange(nullptr); set != nullptr) zinc_wait_set_close(set);
  }

  ZincWaitSet native_handle() const noexcept { return handle_.load(); }

 private:
  bool remove_handle(void* member) {
    const int32_t code = zinc_wait_set_remove(handle_.load(), member);
    if (code == ZINC_ENOENT) return false;
    check(code, "zinc_wait_set_remove");
    return true;
  }

  static uint32_t timeout_ms(std::chrono::milliseconds timeout) noexcept {
    if (timeout == kForever) return ZINC_WAIT_FOREVER;
    if (timeout.count() <= 0) return 0;
    constexpr int64_t kLongest = ZINC_WAIT_FOREVER - 1;  // below "no limit"
    return timeout.count() >= kLongest ? static_cast<uint32_t>(kLongest)
                                       : static_cast<uint32_t>(timeout.count());
  }

  static void check(int32_t code, const char* what) {
    if (code == ZINC_OK) return;
    std::string detail = what;
    if (const char* message = zinc_last_error_message(); *message != '\0') {
      detail += std::string(": ") + message;
    }
    throw std::system_error(make_error_code(code), detail);
  }

  // Atomic: close() may run on one thread while wait() runs on another.
  std::atomic<ZincWaitSet> handle_{nullptr};
};

}  // namespace zinc
