// zinc C++ API: a move-only RAII Region over the C ABI in <zinc.h>.
//
// Every fallible operation comes twice: a throwing form (std::system_error
// whose code() is in zinc::category() and whose what() carries the library's
// detailed message) and a noexcept form taking a std::error_code& for code
// built without exceptions.
#pragma once

#include <zinc.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace zinc {

// Error category for zinc's codes; value() is the positive errno-style
// number (EEXIST, ENOENT, ...), so comparisons with std::errc work.
class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "zinc"; }
  std::string message(int value) const override { return zinc_strerror(-value); }
  std::error_condition default_error_condition(int value) const noexcept override {
    return std::generic_category().default_error_condition(value);
  }
};

inline const std::error_category& category() noexcept {
  static const Category instance;
  return instance;
}

// A zinc return code (0 or negative) as an error_code.
inline std::error_code make_error_code(int32_t code) noexcept {
  return code == 0 ? std::error_code{} : std::error_code(-code, category());
}

inline std::size_t page_size() noexcept {
  return zinc_page_size();
}

class Region {
 public:
  Region() noexcept = default;
  Region(Region&& other) noexcept : handle_(other.handle_.exchange(nullptr)) {}
  Region& operator=(Region&& other) noexcept {
    if (this != &other) {
      close();
      handle_.store(other.handle_.exchange(nullptr));
    }
    return *this;
  }
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;
  ~Region() { close(); }

  // Creates a region; this object owns the name and unlinks it on close.
  static Region create(std::string_view name, std::size_t capacity,
                       uint32_t flags = ZINC_CREATE_DEFAULT) {
    std::error_code ec;
    Region region = create(name, capacity, flags, ec);
    throw_if(ec, "zinc_create", name);
    return region;
  }
  static Region create(std::string_view name, std::size_t capacity, std::error_code& ec) noexcept {
    return create(name, capacity, ZINC_CREATE_DEFAULT, ec);
  }
  static Region create(std::string_view name, std::size_t capacity, uint32_t flags,
                       std::error_code& ec) noexcept {
    Region region;
    ec = with_c_name(name, [&](const char* c_name) {
      ZincHandle handle = nullptr;
      const int32_t code = zinc_create_ex(c_name, capacity, flags, &handle);
      region.handle_.store(handle);
      return code;
    });
    return region;
  }

  static Region open(std::string_view name) {
    std::error_code ec;
    Region region = open(name, ec);
    throw_if(ec, "zinc_open", name);
    return region;
  }
  static Region open(std::string_view name, std::error_code& ec) noexcept {
    Region region;
    ec = with_c_name(name, [&](const char* c_name) {
      ZincHandle handle = nullptr;
      const int32_t code = zinc_open(c_name, &handle);
      region.handle_.store(handle);
      return code;
    });
    return region;
  }

  // False after close() or a move; every other accessor then returns empty.
  bool is_open() const noexcept { return handle_.load() != nullptr; }
  explicit operator bool() const noexcept { return is_open(); }

  std::span<std::byte> bytes() noexcept {
    const ZincHandle handle = handle_.load();
    return {reinterpret_cast<std::byte*>(zinc_ptr(handle)), zinc_capacity(handle)};
  }
  std::span<const std::byte> bytes() const noexcept {
    const ZincHandle handle = handle_.load();
    return {reinterpret_cast<const std::byte*>(zinc_ptr(handle)), zinc_capacity(handle)};
  }

  // The data area as `count` objects of T starting `offset` bytes in
  // (count 0 = as many whole T as fit). Throws std::invalid_argument if the
  // start is misaligned for T or the span would run past the capacity.
  template <typename T>
  std::span<T> as(std::size_t offset = 0, std::size_t count = 0) {
    static_assert(std::is_trivially_copyable_v<T>, "shared memory holds trivially copyable types");
    const std::span<std::byte> all = bytes();
    if (offset > all.size()) throw std::invalid_argument("zinc: offset is past the capacity");
    auto* start = all.data() + offset;
    if (reinterpret_cast<std::uintptr_t>(start) % alignof(T) != 0) {
      throw std::invalid_argument("zinc: offset is not aligned for the requested type");
    }
    const std::size_t fit = (all.size() - offset) / sizeof(T);
    if (count == 0) count = fit;
    if (count > fit) throw std::invalid_argument("zinc: span would run past the capacity");
    return {reinterpret_cast<T*>(start), count};
  }

  std::size_t capacity() const noexcept { return zinc_capacity(handle_.load()); }
  std::string_view name() const noexcept {
    const char* n = zinc_name(handle_.load());
    return n == nullptr ? std::string_view{} : std::string_view{n};
  }

  void notify() noexcept { zinc_notify(handle_.load()); }

  // True if a notification this handle had not seen arrived within timeout.
  bool wait(std::chrono::milliseconds timeout) {
    std::error_code ec;
    const bool notified = wait(timeout, ec);
    throw_if(ec, "zinc_wait");
    return notified;
  }
  bool wait(std::chrono::milliseconds timeout, std::error_code& ec) noexcept {
    const int32_t code = zinc_wait(handle_.load(), clamp_timeout(timeout));
    ec = code == ZINC_ETIMEDOUT ? std::error_code{} : make_error_code(code);
    return code == ZINC_OK;
  }

  bool try_wait() {
    std::error_code ec;
    const bool notified = try_wait(ec);
    throw_if(ec, "zinc_try_wait");
    return notified;
  }
  bool try_wait(std::error_code& ec) noexcept {
    const int32_t code = zinc_try_wait(handle_.load());
    ec = code == ZINC_EAGAIN ? std::error_code{} : make_error_code(code);
    return code == ZINC_OK;
  }

  // How long wait() polls before it sleeps (see zinc_set_spin); 0 = sleep at
  // once. Throws std::system_error for a closed handle or more than 1 s.
  void set_spin(std::chrono::microseconds limit) {
    const auto us = limit.count() <= 0 ? 0 : limit.count();
    const int32_t code = us > ZINC_MAX_SPIN_US
                             ? ZINC_EINVAL
                             : zinc_set_spin(handle_.load(), static_cast<uint32_t>(us));
    throw_if(make_error_code(code), "zinc_set_spin");
  }
  std::chrono::microseconds spin() const noexcept {
    return std::chrono::microseconds(zinc_get_spin(handle_.load()));
  }

  // Idempotent. The owner's close unlinks the name. May run while another
  // thread waits on this Region: that wait returns (ZINC_ECANCELED, thrown
  // as std::system_error) and every later call sees a closed Region.
  void close() noexcept {
    if (ZincHandle handle = handle_.exchange(nullptr); handle != nullptr) zinc_close(handle);
  }

  ZincHandle native_handle() const noexcept { return handle_.load(); }

 private:
  static uint32_t clamp_timeout(std::chrono::milliseconds timeout) noexcept {
    if (timeout.count() <= 0) return 0;
    constexpr auto kMax = std::numeric_limits<uint32_t>::max();
    return timeout.count() >= kMax ? kMax : static_cast<uint32_t>(timeout.count());
  }

  // Names need not be NUL-terminated views; an embedded NUL is an error
  // rather than a silently shorter name.
  template <typename Call>
  static std::error_code with_c_name(std::string_view name, Call call) noexcept {
    if (name.find('\0') != std::string_view::npos) return make_error_code(ZINC_EINVAL);
    try {
      const std::string copy(name);
      return make_error_code(call(copy.c_str()));
    } catch (...) {
      return std::make_error_code(std::errc::not_enough_memory);
    }
  }

  static void throw_if(const std::error_code& ec, const char* what, std::string_view name = {}) {
    if (!ec) return;
    std::string detail = what;
    if (name.find('\0') != std::string_view::npos) {
      detail += ": name contains a NUL byte";  // rejected here, before any C call
    } else if (const char* message = zinc_last_error_message(); *message != '\0') {
      detail += std::string(": ") + message;
    }
    throw std::system_error(ec, detail);
  }

  // Atomic: close() may run on one thread while wait() runs on another.
  std::atomic<ZincHandle> handle_{nullptr};
};

}  // namespace zinc
