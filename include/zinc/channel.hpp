// zinc C++ API for channels (docs/spec.md §10): move-only RAII participants
// over the C ABI in <zinc.h>, with typed spans over the frames.
//
//   auto writer = zinc::ChannelWriter::create("cam", {.slot_size = 1 << 20});
//   auto frame = writer.acquire(100ms);          // std::optional<WriteFrame>
//   auto pixels = frame->as<uint8_t>();          // the slot itself, no copy
//   ...fill pixels...
//   writer.commit(*frame, pixels.size());
//
//   auto reader = zinc::ChannelReader::open("cam", 5s);  // waits for "cam"
//   if (auto got = reader.read(100ms)) use(got->as<uint8_t>());  // released
//                                                                // at scope end
//
// Joins that wait: open(name, timeout) waits up to `timeout` for the
// channel to appear (zinc::kForever: as long as it takes; 0ms: one try);
// only ZINC_ENOENT (and ZINC_EAGAIN from an older core's unfinished
// creator) is waited on, and an expired wait is ZINC_ETIMEDOUT naming the
// channel. ChannelWriter::open_or_create joins a channel as its writer or
// creates it, safe against a concurrent creator.
// A timeout (or "nothing now" for a zero timeout) is an empty optional;
// other failures throw std::system_error (code in zinc::category(), what()
// with the library's message), or fill the std::error_code of the noexcept
// forms.
#pragma once

#include <zinc.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
#include <zinc/zinc.hpp>

namespace zinc {

enum class ChannelMode : uint32_t {
  lossless = ZINC_CHANNEL_LOSSLESS,  // bounded ring, every frame to every reader
  latest = ZINC_CHANNEL_LATEST,      // readers get the newest frame; the writer never waits
};

struct ChannelOptions {
  ChannelMode mode = ChannelMode::lossless;
  uint32_t slot_count = 8;
  std::size_t slot_size = 4096;
  uint32_t max_readers = 4;
  uint32_t region_flags = ZINC_CREATE_DEFAULT;  // ZINC_CREATE_* for the region
  // Typed frames (spec §10.2.1): the slot size is then the frame's bytes
  // and slot_size is ignored.
  std::optional<ZincChannelFrameType> frame_type = std::nullopt;
};

// A join's timeout that never expires.
inline constexpr std::chrono::milliseconds kForever = std::chrono::milliseconds::max();

namespace detail {

[[noreturn]] inline void throw_channel_error(int32_t code, const char* what) {
  std::string detail = what;
  if (const char* message = zinc_last_error_message(); *message != '\0') {
    detail += std::string(": ") + message;
  }
  throw std::system_error(make_error_code(code), detail);
}

inline uint32_t clamp_timeout(std::chrono::milliseconds timeout) noexcept {
  if (timeout.count() <= 0) return 0;
  constexpr auto kMax = std::numeric_limits<uint32_t>::max();
  return timeout.count() >= kMax ? kMax : static_cast<uint32_t>(timeout.count());
}

// `count` objects of T at the start of `bytes` (0 = as many as fit).
template <typename T, typename Byte>
std::span<T> typed(std::span<Byte> bytes, std::size_t count) {
  static_assert(std::is_trivially_copyable_v<std::remove_const_t<T>>,
                "frames hold trivially copyable types");
  const std::size_t fit = bytes.size() / sizeof(T);
  if (count == 0) count = fit;
  if (count > fit) throw std::invalid_argument("zinc: span would run past the frame");
  return {reinterpret_cast<T*>(bytes.data()), count};  // payloads are 64-byte aligned
}

inline ZincChannel open_channel(std::string_view name, bool writer, std::error_code& ec) noexcept {
  ZincChannel channel = nullptr;
  if (name.find('\0') != std::string_view::npos) {
    ec = make_error_code(ZINC_EINVAL);
    return nullptr;
  }
  try {
    const std::string copy(name);
    ec = make_error_code(writer ? zinc_channel_open_writer(copy.c_str(), &channel)
                                : zinc_channel_open_reader(copy.c_str(), &channel));
  } catch (...) {
    ec = std::make_error_code(std::errc::not_enough_memory);
  }
  return channel;
}

// open_channel until the channel is there: only "not there yet" (ENOENT,
// or EAGAIN from an older core's creator still laying it out) is waited on,
// with pauses from 1 ms doubling to 50 ms. ZINC_ETIMEDOUT once `timeout`
// has passed (0: one try, which reports the open's own error).
inline ZincChannel join_channel(std::string_view name, bool writer,
                                std::chrono::milliseconds timeout, std::error_code& ec) noexcept {
  using Clock = std::chrono::steady_clock;
  const bool forever = timeout == kForever;
  const auto deadline = forever ? Clock::time_point::max()
                                : Clock::now() + std::max(timeout, std::chrono::milliseconds(0));
  std::chrono::milliseconds pause(1);
  for (;;) {
    ZincChannel channel = open_channel(name, writer, ec);
    const bool absent = ec.value() == -ZINC_ENOENT || ec.value() == -ZINC_EAGAIN;
    if (!ec || !absent || timeout.count() <= 0) return channel;
    const auto now = Clock::now();
    if (!forever && now >= deadline) {
      ec = make_error_code(ZINC_ETIMEDOUT);
      return nullptr;
    }
    const auto left =
        forever ? pause : std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    std::this_thread::sleep_for(std::min(pause, left));
    pause = std::min(2 * pause, std::chrono::milliseconds(50));
  }
}

[[noreturn]] inline void throw_join_error(std::error_code ec, std::string_view name,
                                          std::chrono::milliseconds timeout, const char* what) {
  if (ec.value() != -ZINC_ETIMEDOUT) throw_channel_error(-ec.value(), what);
  throw std::system_error(ec, "zinc: channel '" + std::string(name) + "' did not appear within " +
                                  std::to_string(timeout.count()) + " ms");
}

inline ZincChannel create_channel(std::string_view name, const ChannelOptions& options,
                                  uint32_t role_flags, std::error_code& ec) noexcept {
  ZincChannel channel = nullptr;
  if (name.find('\0') != std::string_view::npos) {
    ec = make_error_code(ZINC_EINVAL);
    return nullptr;
  }
  try {
    const std::string copy(name);
    const auto mode = static_cast<uint32_t>(options.mode);
    const uint32_t flags = options.region_flags | role_flags;
    ec = make_error_code(
        options.frame_type
            ? zinc_channel_create_typed(copy.c_str(), mode, options.slot_count,
                                        &*options.frame_type, options.max_readers, flags, &channel)
            : zinc_channel_create(copy.c_str(), mode, options.slot_count, options.slot_size,
                                  options.max_readers, flags, &channel));
  } catch (...) {
    ec = std::make_error_code(std::errc::not_enough_memory);
  }
  return channel;
}

// What both participants share: ownership of the handle.
class ChannelHandle {
 public:
  ChannelHandle() noexcept = default;
  explicit ChannelHandle(ZincChannel channel) noexcept : channel_(channel) {}
  ChannelHandle(ChannelHandle&& other) noexcept
      : channel_(std::exchange(other.channel_, nullptr)) {}
  ChannelHandle& operator=(ChannelHandle&& other) noexcept {
    if (this != &other) {
      close();
      channel_ = std::exchange(other.channel_, nullptr);
    }
    return *this;
  }
  ~ChannelHandle() { close(); }
  void close() noexcept {
    if (channel_ != nullptr) zinc_channel_close(channel_);
    channel_ = nullptr;
  }
  ZincChannel get() const noexcept { return channel_; }
  ZincChannelInfo info() const {
    ZincChannelInfo info{};
    if (const int32_t code = zinc_channel_info(channel_, &info); code != ZINC_OK) {
      throw_channel_error(code, "zinc_channel_info");
    }
    return info;
  }

 private:
  ZincChannel channel_ = nullptr;
};

}  // namespace detail

// The writer's slot for one frame: fill it, then ChannelWriter::commit.
// Dropping it uncommitted is fine: the next acquire returns the same slot.
class WriteFrame {
 public:
  std::span<std::byte> bytes() const noexcept {
    return {reinterpret_cast<std::byte*>(frame_.data), frame_.length};
  }
  template <typename T>
  std::span<T> as(std::size_t count = 0) const {
    return detail::typed<T>(bytes(), count);
  }
  uint64_t sequence() const noexcept { return frame_.sequence; }

 private:
  friend class ChannelWriter;
  explicit WriteFrame(const ZincChannelFrame& frame) noexcept : frame_(frame) {}
  ZincChannelFrame frame_;
};

// A committed frame a reader holds; released when destroyed (or release()).
class ReadFrame {
 public:
  ReadFrame(ReadFrame&& other) noexcept
      : channel_(std::exchange(other.channel_, nullptr)), frame_(other.frame_) {}
  ReadFrame& operator=(ReadFrame&& other) noexcept {
    if (this != &other) {
      release();
      channel_ = std::exchange(other.channel_, nullptr);
      frame_ = other.frame_;
    }
    return *this;
  }
  ReadFrame(const ReadFrame&) = delete;
  ReadFrame& operator=(const ReadFrame&) = delete;
  ~ReadFrame() { release(); }

  std::span<const std::byte> bytes() const noexcept {
    return {reinterpret_cast<const std::byte*>(frame_.data), frame_.length};
  }
  template <typename T>
  std::span<const T> as(std::size_t count = 0) const {
    return detail::typed<const T>(bytes(), count);
  }
  uint64_t sequence() const noexcept { return frame_.sequence; }
  // Gives the frame back; its bytes must not be read afterwards.
  void release() noexcept {
    if (channel_ != nullptr) zinc_channel_release(channel_);
    channel_ = nullptr;
  }

 private:
  friend class ChannelReader;
  ReadFrame(ZincChannel channel, const ZincChannelFrame& frame) noexcept
      : channel_(channel), frame_(frame) {}
  ZincChannel channel_;
  ZincChannelFrame frame_;
};

class ChannelWriter {
 public:
  ChannelWriter() noexcept = default;

  // Creates the channel's region (this writer owns its name).
  static ChannelWriter create(std::string_view name, const ChannelOptions& options) {
    std::error_code ec;
    ChannelWriter writer = create(name, options, ec);
    if (ec) detail::throw_channel_error(-ec.value(), "zinc_channel_create");
    return writer;
  }
  static ChannelWriter create(std::string_view name, const ChannelOptions& options,
                              std::error_code& ec) noexcept {
    return ChannelWriter(detail::create_channel(name, options, 0, ec));
  }
  // Joins an existing channel as its writer (ZINC_EBUSY while a live one is).
  static ChannelWriter open(std::string_view name) {
    std::error_code ec;
    ChannelWriter writer = open(name, ec);
    if (ec) detail::throw_channel_error(-ec.value(), "zinc_channel_open_writer");
    return writer;
  }
  static ChannelWriter open(std::string_view name, std::error_code& ec) noexcept {
    return ChannelWriter(detail::open_channel(name, true, ec));
  }
  // Joins as the writer, waiting up to `timeout` for the channel to appear.
  static ChannelWriter open(std::string_view name, std::chrono::milliseconds timeout) {
    std::error_code ec;
    ChannelWriter writer = open(name, timeout, ec);
    if (ec) detail::throw_join_error(ec, name, timeout, "zinc_channel_open_writer");
    return writer;
  }
  static ChannelWriter open(std::string_view name, std::chrono::milliseconds timeout,
                            std::error_code& ec) noexcept {
    return ChannelWriter(detail::join_channel(name, true, timeout, ec));
  }

  // Joins channel `name` as its writer if it exists, else creates it with
  // `options` (then this writer owns the name). A channel that exists must
  // have the mode and frames `options` ask for: ZINC_EINVAL otherwise.
  // ZINC_EBUSY while a live writer holds it, ZINC_ENOMSG if the name holds
  // a region that is not a channel.
  static ChannelWriter open_or_create(std::string_view name, const ChannelOptions& options) {
    std::error_code ec;
    ChannelWriter writer = open_or_create(name, options, ec);
    if (ec) detail::throw_channel_error(-ec.value(), "zinc: open_or_create");
    return writer;
  }
  static ChannelWriter open_or_create(std::string_view name, const ChannelOptions& options,
                                      std::error_code& ec) noexcept {
    // Each turn either joins, creates, or lost a race to a creator or a
    // closer; a few turns settle any real race.
    for (int turn = 0; turn < 100; ++turn) {
      ChannelWriter writer = open(name, ec);
      if (!ec) {
        if (writer.matches(options)) return writer;
        ec = make_error_code(ZINC_EINVAL);
        return {};
      }
      if (ec.value() == -ZINC_EAGAIN) {  // an older core's creator is laying it out
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      if (ec.value() != -ZINC_ENOENT) return {};
      writer = create(name, options, ec);
      if (ec.value() != -ZINC_EEXIST) return writer;
    }
    return {};
  }

  bool is_open() const noexcept { return handle_.get() != nullptr; }
  explicit operator bool() const noexcept { return is_open(); }

  // The next frame's slot; empty if the ring stayed full for `timeout`.
  std::optional<WriteFrame> acquire(std::chrono::milliseconds timeout) {
    std::error_code ec;
    std::optional<WriteFrame> frame = acquire(timeout, ec);
    if (ec) detail::throw_channel_error(-ec.value(), "zinc_channel_acquire");
    return frame;
  }
  std::optional<WriteFrame> acquire(std::chrono::milliseconds timeout,
                                    std::error_code& ec) noexcept {
    ZincChannelFrame frame{};
    const int32_t code =
        zinc_channel_acquire(handle_.get(), detail::clamp_timeout(timeout), &frame);
    ec = code == ZINC_EAGAIN || code == ZINC_ETIMEDOUT ? std::error_code{} : make_error_code(code);
    if (code != ZINC_OK) return std::nullopt;
    return WriteFrame(frame);
  }

  // Publishes `frame` with its first `length` bytes.
  void commit(const WriteFrame& frame, std::size_t length) {
    (void)frame;  // one frame at a time: the C ABI knows which
    if (const int32_t code = zinc_channel_commit(handle_.get(), length); code != ZINC_OK) {
      detail::throw_channel_error(code, "zinc_channel_commit");
    }
  }

  ZincChannelInfo info() const { return handle_.info(); }

  void close() noexcept { handle_.close(); }
  ZincChannel native_handle() const noexcept { return handle_.get(); }

 private:
  explicit ChannelWriter(ZincChannel channel) noexcept : handle_(channel) {}

  // The channel has the mode and the frames `options` describe: its frame
  // type, or (untyped) room for slot_size bytes.
  bool matches(const ChannelOptions& options) const noexcept {
    ZincChannelInfo info{};
    if (zinc_channel_info(handle_.get(), &info) != ZINC_OK) return false;
    if (info.mode != static_cast<uint32_t>(options.mode)) return false;
    static constexpr ZincChannelFrameType kUntyped{};
    const ZincChannelFrameType& wanted = options.frame_type ? *options.frame_type : kUntyped;
    if (std::memcmp(&info.frame_type, &wanted, sizeof wanted) != 0) return false;
    return options.frame_type || info.slot_size >= options.slot_size;
  }
  detail::ChannelHandle handle_;
};

class ChannelReader {
 public:
  ChannelReader() noexcept = default;

  // Creates the channel's region as its first reader (it owns the name); a
  // writer joins with ChannelWriter::open.
  static ChannelReader create(std::string_view name, const ChannelOptions& options) {
    std::error_code ec;
    ChannelReader reader = create(name, options, ec);
    if (ec) detail::throw_channel_error(-ec.value(), "zinc_channel_create");
    return reader;
  }
  static ChannelReader create(std::string_view name, const ChannelOptions& options,
                              std::error_code& ec) noexcept {
    return ChannelReader(detail::create_channel(name, options, ZINC_CHANNEL_CREATE_READER, ec));
  }
  static ChannelReader open(std::string_view name) {
    std::error_code ec;
    ChannelReader reader = open(name, ec);
    if (ec) detail::throw_channel_error(-ec.value(), "zinc_channel_open_reader");
    return reader;
  }
  static ChannelReader open(std::string_view name, std::error_code& ec) noexcept {
    return ChannelReader(detail::open_channel(name, false, ec));
  }
  // Joins as a reader, waiting up to `timeout` for the channel to appear.
  static ChannelReader open(std::string_view name, std::chrono::milliseconds timeout) {
    std::error_code ec;
    ChannelReader reader = open(name, timeout, ec);
    if (ec) detail::throw_join_error(ec, name, timeout, "zinc_channel_open_reader");
    return reader;
  }
  static ChannelReader open(std::string_view name, std::chrono::milliseconds timeout,
                            std::error_code& ec) noexcept {
    return ChannelReader(detail::join_channel(name, false, timeout, ec));
  }

  bool is_open() const noexcept { return handle_.get() != nullptr; }
  explicit operator bool() const noexcept { return is_open(); }

  // The next (lossless) or newest unread (latest) frame; empty if none came
  // within `timeout`. Hold at most one frame at a time. Once the writer that
  // created the channel closed it (or it was removed) and every frame has
  // been read, the error is ZINC_EPIPE (std::errc::broken_pipe): the end of
  // the stream. A handle whose reader entry was taken over gets ZINC_ESTALE.
  std::optional<ReadFrame> read(std::chrono::milliseconds timeout) {
    std::error_code ec;
    std::optional<ReadFrame> frame = read(timeout, ec);
    if (ec) detail::throw_channel_error(-ec.value(), "zinc_channel_read");
    return frame;
  }
  std::optional<ReadFrame> read(std::chrono::milliseconds timeout, std::error_code& ec) noexcept {
    ZincChannelFrame frame{};
    const int32_t code = zinc_channel_read(handle_.get(), detail::clamp_timeout(timeout), &frame);
    ec = code == ZINC_EAGAIN || code == ZINC_ETIMEDOUT ? std::error_code{} : make_error_code(code);
    if (code != ZINC_OK) return std::nullopt;
    return ReadFrame(handle_.get(), frame);
  }

  ZincChannelInfo info() const { return handle_.info(); }

  void close() noexcept { handle_.close(); }
  ZincChannel native_handle() const noexcept { return handle_.get(); }

 private:
  explicit ChannelReader(ZincChannel channel) noexcept : handle_(channel) {}
  detail::ChannelHandle handle_;
};

}  // namespace zinc
