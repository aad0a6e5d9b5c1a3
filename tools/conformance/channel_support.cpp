#include "channel_support.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <string_view>
#include <vector>

#include "channel_format.hpp"
#include "check_support.hpp"
#include "format.hpp"
#include "peer.hpp"
#include "raw_object.hpp"

namespace zinc::conformance {

void ChannelHandle::close() {
  if (handle_ != nullptr) api_->channel_close(handle_);
  handle_ = nullptr;
}

namespace {

ChannelHandle require_channel(CheckContext& ctx, const std::string& call, int32_t rc,
                              ChannelHandle handle) {
  if (rc != 0) handle.leak();
  ctx.require_code(call, 0, rc);
  return handle;
}

}  // namespace

ChannelHandle create_channel(CheckContext& ctx, const std::string& name, uint32_t mode,
                             uint32_t slot_count, uint64_t slot_size, uint32_t max_readers,
                             uint32_t flags) {
  ChannelHandle handle(ctx.zinc);
  const int32_t rc = ctx.zinc.channel_create(name.c_str(), mode, slot_count, slot_size, max_readers,
                                             flags, handle.out());
  return require_channel(ctx,
                         "zinc_channel_create(" + mode_name(mode) + ", " +
                             std::to_string(slot_count) + " slots of " + std::to_string(slot_size) +
                             ", " + std::to_string(max_readers) + " readers, flags " +
                             std::to_string(flags) + ")",
                         rc, std::move(handle));
}

ChannelHandle open_writer(CheckContext& ctx, const std::string& name) {
  ChannelHandle handle(ctx.zinc);
  const int32_t rc = ctx.zinc.channel_open_writer(name.c_str(), handle.out());
  return require_channel(ctx, "zinc_channel_open_writer", rc, std::move(handle));
}

ChannelHandle open_reader(CheckContext& ctx, const std::string& name) {
  ChannelHandle handle(ctx.zinc);
  const int32_t rc = ctx.zinc.channel_open_reader(name.c_str(), handle.out());
  return require_channel(ctx, "zinc_channel_open_reader", rc, std::move(handle));
}

uint64_t frame_hash(uint64_t length, uint32_t seed) {
  std::vector<uint8_t> bytes(length);
  fill_pattern(bytes.data(), length, seed);
  return fnv1a64(std::string_view(reinterpret_cast<const char*>(bytes.data()), length));
}

int32_t write_frame(const Api& api, ZincChannel writer, uint32_t timeout_ms, uint64_t length,
                    uint32_t seed, uint64_t* sequence) {
  ZincChannelFrame frame{};
  const int32_t rc = api.channel_acquire(writer, timeout_ms, &frame);
  if (rc != 0) return rc;
  if (frame.data == nullptr || frame.length < length) return ZINC_EINVAL;
  fill_pattern(frame.data, length, seed);
  if (sequence != nullptr) *sequence = frame.sequence;
  return api.channel_commit(writer, length);
}

bool expect_write(CheckContext& ctx, ZincChannel writer, uint64_t length, uint32_t seed) {
  return ctx.expect_code("write a frame of " + std::to_string(length) + " bytes (acquire, commit)",
                         0, write_frame(ctx.zinc, writer, 2000, length, seed));
}

ReadFrame read_frame(const Api& api, ZincChannel reader, uint32_t timeout_ms) {
  ReadFrame r;
  ZincChannelFrame frame{};
  r.rc = api.channel_read(reader, timeout_ms, &frame);
  if (r.rc != 0) return r;
  r.sequence = frame.sequence;
  r.length = frame.length;
  if (frame.data != nullptr) {
    r.hash = fnv1a64(std::string_view(reinterpret_cast<const char*>(frame.data), frame.length));
  }
  r.release_rc = api.channel_release(reader);
  return r;
}

bool expect_frame(CheckContext& ctx, const std::string& what, ZincChannel reader, uint64_t sequence,
                  uint64_t length, uint32_t seed, uint32_t timeout_ms) {
  const ReadFrame r = read_frame(ctx.zinc, reader, timeout_ms);
  if (!ctx.expect_code(what + ": zinc_channel_read", 0, r.rc)) return false;
  const std::string expected = "frame " + std::to_string(sequence) + " of " +
                               std::to_string(length) + " bytes (pattern " + std::to_string(seed) +
                               ", hash " + hex(frame_hash(length, seed)) + ")";
  const std::string actual = "frame " + std::to_string(r.sequence) + " of " +
                             std::to_string(r.length) + " bytes (hash " + hex(r.hash) + ")";
  const bool held =
      ctx.expect(r.sequence == sequence && r.length == length && r.hash == frame_hash(length, seed),
                 what, expected, actual);
  ctx.expect_code(what + ": zinc_channel_release", 0, r.release_rc);
  return held;
}

std::vector<uint8_t> read_data_area(const std::string& name, uint64_t length) {
  return read_object_range(name, system_page_size(), length);
}

uint64_t PlainChannel::entry(uint32_t index) const {
  return channel_layout(slot_count, slot_size, max_readers).entry(index);
}

uint64_t PlainChannel::slot(uint32_t index) const {
  return channel_layout(slot_count, slot_size, max_readers).slot(index);
}

void PlainChannel::store(uint64_t at, size_t size, uint64_t value) {
  store_le(object.data() + data + at, size, value);
}

PlainChannel plain_channel(const std::string& name, uint16_t mode, uint32_t slot_count,
                           uint64_t slot_size, uint32_t max_readers, uint64_t write_seq) {
  namespace o = channel_offset;
  const uint64_t page = system_page_size();
  const ChannelLayout layout = channel_layout(slot_count, slot_size, max_readers);
  const uint64_t capacity = (layout.required_bytes + page - 1) / page * page;
  PlainChannel channel;
  channel.object = valid_header_page(name, capacity);
  channel.object.resize(page + capacity, 0);
  channel.data = page;
  channel.slot_count = slot_count;
  channel.slot_size = slot_size;
  channel.max_readers = max_readers;
  channel.store(o::kMagic, 8, kChannelMagic);
  channel.store(o::kVersion, 2, kChannelVersion);
  channel.store(o::kMode, 2, mode);
  channel.store(o::kSlotCount, 4, slot_count);
  channel.store(o::kMaxReaders, 4, max_readers);
  channel.store(o::kSlotSize, 8, slot_size);
  channel.store(o::kWriteSeq, 8, write_seq);
  channel.store(o::kLatestSlot, 4, kNoSlot);
  return channel;
}

ChannelChild::ChannelChild(const std::function<int32_t()>& body) {
  int fds[2];
  if (pipe(fds) != 0) throw KitError("pipe: " + std::string(std::strerror(errno)));
  pid_ = fork();
  if (pid_ < 0) throw KitError("fork: " + std::string(std::strerror(errno)));
  if (pid_ == 0) {
    close(fds[0]);
    alarm(60);  // never outlives a check that forgot it
    const int32_t rc = body();
    if (write(fds[1], &rc, sizeof rc) != sizeof rc) _exit(1);
    for (;;) pause();
  }
  close(fds[1]);
  from_child_ = fds[0];
}

ChannelChild::~ChannelChild() {
  kill_and_reap();
  if (from_child_ >= 0) close(from_child_);
}

int32_t ChannelChild::result(int timeout_ms) {
  pollfd p{from_child_, POLLIN, 0};
  const int64_t deadline = monotonic_ms() + timeout_ms;
  for (;;) {
    const int64_t left = deadline - monotonic_ms();
    if (left <= 0) return INT32_MIN;
    const int ready = poll(&p, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return INT32_MIN;
    int32_t rc = 0;
    return read(from_child_, &rc, sizeof rc) == sizeof rc ? rc : INT32_MIN;
  }
}

void ChannelChild::kill_and_reap() {
  if (reaped_ || pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
}

}  // namespace zinc::conformance
