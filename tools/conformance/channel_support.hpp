// What the channel checks share: channel handles that close themselves,
// frames written and read with a known pattern, and a child process that
// joins a channel and then waits to be killed.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "check.hpp"
#include "library.hpp"

namespace zinc::conformance {

// A candidate channel handle closed at scope exit (unless leaked).
class ChannelHandle {
 public:
  explicit ChannelHandle(const Api& api) : api_(&api) {}
  ChannelHandle(ChannelHandle&& other) noexcept : api_(other.api_), handle_(other.handle_) {
    other.handle_ = nullptr;
  }
  ChannelHandle(const ChannelHandle&) = delete;
  ChannelHandle& operator=(const ChannelHandle&) = delete;
  ~ChannelHandle() { close(); }

  ZincChannel get() const { return handle_; }
  ZincChannel* out() { return &handle_; }
  void close();
  void leak() { handle_ = nullptr; }

 private:
  const Api* api_;
  ZincChannel handle_ = nullptr;
};

// zinc_channel_create / open_writer / open_reader that stop the check unless
// they return 0.
ChannelHandle create_channel(CheckContext& ctx, const std::string& name, uint32_t mode,
                             uint32_t slot_count, uint64_t slot_size, uint32_t max_readers,
                             uint32_t flags = 0);
ChannelHandle open_writer(CheckContext& ctx, const std::string& name);
ChannelHandle open_reader(CheckContext& ctx, const std::string& name);

// Frame payloads are the fill pattern of peer.hpp for a seed; both sides
// compare FNV-1a 64 hashes of the bytes.
uint64_t frame_hash(uint64_t length, uint32_t seed);

// Acquires (waiting up to timeout_ms), fills `length` bytes with the pattern
// for `seed` and commits: the first code that is not 0. *sequence (may be
// NULL) receives the frame's sequence.
int32_t write_frame(const Api& api, ZincChannel writer, uint32_t timeout_ms, uint64_t length,
                    uint32_t seed, uint64_t* sequence = nullptr);
// write_frame that expects 0.
bool expect_write(CheckContext& ctx, ZincChannel writer, uint64_t length, uint32_t seed);

// A read (and, when it returns 0, the release) of one frame.
struct ReadFrame {
  int32_t rc = 0;
  uint64_t sequence = 0;
  uint64_t length = 0;
  uint64_t hash = 0;
  int32_t release_rc = 0;
};
ReadFrame read_frame(const Api& api, ZincChannel reader, uint32_t timeout_ms);
// Reads one frame and expects it to be frame `sequence` of `length` bytes
// with the pattern for `seed`.
bool expect_frame(CheckContext& ctx, const std::string& what, ZincChannel reader, uint64_t sequence,
                  uint64_t length, uint32_t seed, uint32_t timeout_ms = 2000);

// The data area of region `name` as it is now, read from /dev/shm (the
// object from the page size on; `length` bytes at most).
std::vector<uint8_t> read_data_area(const std::string& name, uint64_t length);

// A channel as a plain v2 peer (or the original's) would leave it: a region
// without liveness locks (header flags 0) whose data area holds a channel
// (docs/spec.md §10.1, §10.2) with no writer, no reader and no frame, and
// `write_seq` as given. The whole object, ready for plant_object; a check
// edits owner words and slots in it before planting.
struct PlainChannel {
  std::vector<uint8_t> object;
  uint64_t data = 0;  // offset of the data area (the page size)
  uint64_t entry(uint32_t index) const;
  uint64_t slot(uint32_t index) const;
  // Stores a little-endian field of `size` bytes at data-area offset `at`.
  void store(uint64_t at, size_t size, uint64_t value);

  uint32_t slot_count = 0;
  uint64_t slot_size = 0;
  uint32_t max_readers = 0;
};
PlainChannel plain_channel(const std::string& name, uint16_t mode, uint32_t slot_count,
                           uint64_t slot_size, uint32_t max_readers, uint64_t write_seq = 0);

// A forked child of the check process that runs `body` (which joins a
// channel and returns 0, or a code), reports the result, and then waits to
// be killed (60 s at most). The child never returns into the check.
class ChannelChild {
 public:
  explicit ChannelChild(const std::function<int32_t()>& body);
  ChannelChild(const ChannelChild&) = delete;
  ChannelChild& operator=(const ChannelChild&) = delete;
  ~ChannelChild();  // kills and reaps it if still there

  pid_t pid() const { return pid_; }
  // What body returned; INT32_MIN if the child did not report within
  // timeout_ms.
  int32_t result(int timeout_ms = 10000);
  // SIGKILL, then reap, so the pid is gone (not a zombie) when it returns.
  void kill_and_reap();

 private:
  pid_t pid_ = -1;
  int from_child_ = -1;
  bool reaped_ = false;
};

}  // namespace zinc::conformance
