// Streaming frames from a producer process to a consumer process that
// checksums every byte of every frame, and the single-thread memcpy
// bandwidth it is compared with.
//
//   zinc     frames are written in place into a ring of slots in a region;
//            the consumer checksums them in place (zero copy) and returns
//            each slot through a counter and a second region's notify
//   channel  a zinc channel (lossless, --slots slots, one reader): the
//            producer acquires a slot, fills it and commits it; the
//            consumer reads, checksums in place and releases
//   pipe     write() / read() of each frame (pipe buffer raised to 1 MiB)
//   unix     the same over a socketpair(AF_UNIX, SOCK_STREAM)
//   memcpy   one thread copying a buffer much larger than the caches
//            (--buffer, default 1 GiB), the bandwidth yardstick
//
// In every transport the producer fills each frame with memset (its
// "work"), and the consumer sums it as 64-bit words and checks the sum.
//
// Usage: zinc_bench_stream --transport=zinc|channel|pipe|unix|memcpy [--frame=1M] [--slots=8]
//        [--seconds=2] [--buffer=1G] [--placement=two-cpus|scheduler] [--json=FILE]
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "zinc.h"

namespace {

using zinc::bench::die;
using zinc::bench::read_all;
using zinc::bench::write_all;

using zinc::bench::now_ns;

// Sum of the frame as 64-bit words; four accumulators keep the adds
// independent so the loop runs at memory speed.
uint64_t checksum(const uint8_t* data, size_t size) {
  const auto* words = reinterpret_cast<const uint64_t*>(data);
  const size_t n = size / 8;
  uint64_t a = 0, b = 0, c = 0, d = 0;
  size_t k = 0;
  for (; k + 4 <= n; k += 4) {
    a += words[k];
    b += words[k + 1];
    c += words[k + 2];
    d += words[k + 3];
  }
  for (; k < n; ++k) a += words[k];
  return a + b + c + d;
}

uint64_t expected_checksum(uint64_t frame, size_t size) {
  const uint64_t word = (frame & 0xff) * 0x0101010101010101ULL;
  return word * (size / 8);
}

void fill(uint8_t* data, size_t size, uint64_t frame) {
  std::memset(data, static_cast<int>(frame & 0xff), size);
}

struct alignas(64) Line {
  std::atomic<uint64_t> value{0};
};
// In an anonymous shared page: results the consumer reports back.
struct Shared {
  Line frames;
  Line errors;
  Line stop;
};

class Stream {
 public:
  virtual ~Stream() = default;
  virtual void start_producer() {}
  virtual void start_consumer() {}
  virtual void produce(uint64_t frame) = 0;
  // Consumes frame `frame`; false once the producer has finished.
  virtual bool consume(uint64_t frame, Shared* shared) = 0;
  virtual void finish() = 0;
};

class ZincStream : public Stream {
 public:
  ZincStream(size_t frame, size_t slots) : frame_(frame), slots_(slots) {
    const size_t page = zinc_page_size();
    const std::string base = "bench-stream-" + std::to_string(getpid());
    frames_name_ = base + "-frames";
    credits_name_ = base + "-credits";
    // One page of counters, then the slots.
    if (zinc_create_ex(frames_name_.c_str(), page + frame * slots, ZINC_CREATE_PREFAULT,
                       &frames_) != 0 ||
        zinc_create(credits_name_.c_str(), page, &credits_) != 0) {
      die(std::string("zinc_create: ") + zinc_last_error_message());
    }
  }
  ~ZincStream() override {
    zinc_close(frames_);
    zinc_close(credits_);
  }
  void start_consumer() override {
    if (zinc_open(frames_name_.c_str(), &frames_) != 0 ||
        zinc_open(credits_name_.c_str(), &credits_) != 0) {
      die(std::string("zinc_open: ") + zinc_last_error_message());
    }
  }
  void produce(uint64_t frame) override {
    // Wait for a free slot: the consumer returns them by advancing `read`.
    while (frame - read().load(std::memory_order_acquire) > slots_) {
      while (zinc_wait(credits_, 1000) != 0) {
        if (waitpid(-1, nullptr, WNOHANG) > 0) die("the consumer died");
      }
    }
    fill(slot(frame), frame_, frame);
    written().store(frame, std::memory_order_release);
    zinc_notify(frames_);
  }
  bool consume(uint64_t frame, Shared* shared) override {
    while (written().load(std::memory_order_acquire) < frame) {
      // The producer sets stop after its last frame: look at `written`
      // once more after seeing it.
      if (shared->stop.value.load(std::memory_order_acquire) != 0 &&
          written().load(std::memory_order_acquire) < frame) {
        return false;
      }
      zinc_wait(frames_, 1000);
    }
    if (checksum(slot(frame), frame_) != expected_checksum(frame, frame_)) {
      shared->errors.value.fetch_add(1, std::memory_order_relaxed);
    }
    read().store(frame, std::memory_order_release);
    zinc_notify(credits_);
    return true;
  }
  void finish() override { zinc_notify(frames_); }

 private:
  std::atomic<uint64_t>& written() const {
    return *reinterpret_cast<std::atomic<uint64_t>*>(zinc_ptr(frames_));
  }
  std::atomic<uint64_t>& read() const {
    return *reinterpret_cast<std::atomic<uint64_t>*>(zinc_ptr(frames_) + 64);
  }
  uint8_t* slot(uint64_t frame) const {
    return zinc_ptr(frames_) + zinc_page_size() + (frame % slots_) * frame_;
  }
  size_t frame_, slots_;
  std::string frames_name_, credits_name_;
  ZincHandle frames_ = nullptr, credits_ = nullptr;
};

class ChannelStream : public Stream {
 public:
  ChannelStream(size_t frame, size_t slots) : frame_(frame) {
    name_ = "bench-stream-channel-" + std::to_string(getpid());
    if (zinc_channel_create(name_.c_str(), ZINC_CHANNEL_LOSSLESS, static_cast<uint32_t>(slots),
                            frame, 1, ZINC_CREATE_PREFAULT, &writer_) != 0) {
      die(std::string("zinc_channel_create: ") + zinc_last_error_message());
    }
  }
  ~ChannelStream() override { finish(); }
  void start_producer() override {
    // A lossless reader gets the frames committed after it joined: wait
    // for it before the first.
    const int64_t deadline = now_ns() + 10'000'000'000;
    for (ZincChannelInfo info{}; info.readers == 0; usleep(1000)) {
      if (zinc_channel_info(writer_, &info) != 0) {
        die(std::string("zinc_channel_info: ") + zinc_last_error_message());
      }
      if (waitpid(-1, nullptr, WNOHANG) > 0) die("the consumer died");
      if (now_ns() > deadline) die("the consumer did not join the channel in 10 s");
    }
  }
  void start_consumer() override {
    // The writer's handle, inherited through fork, is left alone here.
    if (zinc_channel_open_reader(name_.c_str(), &reader_) != 0) {
      die(std::string("zinc_channel_open_reader: ") + zinc_last_error_message());
    }
  }
  void produce(uint64_t frame) override {
    ZincChannelFrame slot{};
    acquire(&slot);
    fill(slot.data, frame_, frame);
    if (zinc_channel_commit(writer_, frame_) != 0) {
      die(std::string("zinc_channel_commit: ") + zinc_last_error_message());
    }
  }
  bool consume(uint64_t frame, Shared* shared) override {
    ZincChannelFrame got{};
    for (;;) {
      const int32_t rc = zinc_channel_read(reader_, 1000, &got);
      if (rc == 0) break;
      if (rc != ZINC_ETIMEDOUT) die(std::string("zinc_channel_read: ") + zinc_last_error_message());
      if (getppid() == 1) die("the producer is gone");
    }
    const bool end = got.length == 0;  // the producer's last, empty frame
    if (!end &&
        (got.length != frame_ || checksum(got.data, frame_) != expected_checksum(frame, frame_))) {
      shared->errors.value.fetch_add(1, std::memory_order_relaxed);
    }
    zinc_channel_release(reader_);
    return !end;
  }
  void finish() override {
    if (writer_ == nullptr) return;
    // An empty frame tells the consumer the stream ended.
    ZincChannelFrame slot{};
    if (zinc_channel_acquire(writer_, 1000, &slot) == 0) zinc_channel_commit(writer_, 0);
    zinc_channel_close(writer_);  // the creator's close unlinks the name
    writer_ = nullptr;
  }

 private:
  void acquire(ZincChannelFrame* slot) {
    for (;;) {
      const int32_t rc = zinc_channel_acquire(writer_, 1000, slot);
      if (rc == 0) return;
      if (rc != ZINC_ETIMEDOUT) {
        die(std::string("zinc_channel_acquire: ") + zinc_last_error_message());
      }
      if (waitpid(-1, nullptr, WNOHANG) > 0) die("the consumer died");
    }
  }
  size_t frame_;
  std::string name_;
  ZincChannel writer_ = nullptr;
  ZincChannel reader_ = nullptr;
};

class CopyStream : public Stream {
 public:
  CopyStream(bool socket, size_t frame) : buffer_(frame) {
    if (socket) {
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds_) != 0) die("socketpair failed");
      const int size = 4 << 20;  // asks for 4 MiB; the kernel caps it at wmem_max/rmem_max
      setsockopt(fds_[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
      setsockopt(fds_[1], SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    } else {
      if (pipe2(fds_, O_CLOEXEC) != 0) die("pipe failed");
      std::swap(fds_[0], fds_[1]);  // fds_[0] writes, fds_[1] reads, as for the socket
      fcntl(fds_[0], F_SETPIPE_SZ, 1 << 20);
    }
  }
  void start_producer() override { close(fds_[1]); }
  void start_consumer() override { close(fds_[0]); }
  void produce(uint64_t frame) override {
    fill(buffer_.data(), buffer_.size(), frame);
    write_all(fds_[0], buffer_.data(), buffer_.size());
  }
  bool consume(uint64_t frame, Shared* shared) override {
    if (!read_all(fds_[1], buffer_.data(), buffer_.size())) return false;
    if (checksum(buffer_.data(), buffer_.size()) != expected_checksum(frame, buffer_.size())) {
      shared->errors.value.fetch_add(1, std::memory_order_relaxed);
    }
    return true;
  }
  void finish() override { close(fds_[0]); }

 private:
  std::vector<uint8_t> buffer_;
  int fds_[2];
};

// Single-thread memcpy between two buffers far larger than the caches.
double memcpy_gbps(size_t buffer, double seconds) {
  auto* src = static_cast<uint8_t*>(std::malloc(buffer));
  auto* dst = static_cast<uint8_t*>(std::malloc(buffer));
  if (src == nullptr || dst == nullptr) die("cannot allocate the memcpy buffers");
  std::memset(src, 1, buffer);  // fault everything in first
  std::memset(dst, 2, buffer);
  size_t copied = 0;
  const int64_t start = now_ns();
  const int64_t until = start + static_cast<int64_t>(seconds * 1e9);
  int64_t end = start;
  do {
    std::memcpy(dst, src, buffer);
    copied += buffer;
    end = now_ns();
  } while (end < until);
  const double gbps = static_cast<double>(copied) / static_cast<double>(end - start);
  if (dst[buffer / 2] != 1) die("memcpy did not copy");
  std::free(src);
  std::free(dst);
  return gbps;
}

}  // namespace

int main(int argc, char** argv) {
  zinc::bench::Flags flags(argc, argv);
  const std::string transport = flags.str("transport", "zinc");
  const size_t frame = flags.bytes("frame", size_t{1} << 20);
  const size_t slots = flags.bytes("slots", 8);
  const double seconds = flags.num("seconds", 2.0);
  const size_t buffer = flags.bytes("buffer", size_t{1} << 30);
  const bool pin = flags.str("placement", "two-cpus") == "two-cpus";
  const std::string json = flags.str("json", "");
  flags.check_all_used();
  if (frame == 0 || frame % 4096 != 0) die("--frame must be a positive multiple of 4096");
  if (slots == 0) die("--slots must be positive");

  zinc::bench::JsonLine line;
  line.add("bench", "stream").add("transport", transport);
  if (transport == "memcpy") {
    if (pin) zinc::bench::pin_to_cpu(0);
    const double gbps = memcpy_gbps(buffer, seconds);
    line.add("buffer_bytes", static_cast<int64_t>(buffer)).add("gb_per_s", gbps).write(json);
    std::printf("stream %-6s buffer %zu MiB: %.2f GB/s\n", transport.c_str(), buffer >> 20, gbps);
    return 0;
  }

  std::unique_ptr<Stream> stream;
  if (transport == "zinc")
    stream = std::make_unique<ZincStream>(frame, slots);
  else if (transport == "channel")
    stream = std::make_unique<ChannelStream>(frame, slots);
  else if (transport == "pipe")
    stream = std::make_unique<CopyStream>(false, frame);
  else if (transport == "unix")
    stream = std::make_unique<CopyStream>(true, frame);
  else
    die("unknown --transport=" + transport + " (zinc, channel, pipe, unix, memcpy)");
  // A failure still closes the regions (the owner's close unlinks them).
  zinc::bench::at_failure([&stream] { stream.reset(); });
  zinc::bench::watch_stop_signals();

  void* page =
      mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) die("mmap failed");
  Shared* shared = new (page) Shared;

  const pid_t child = fork();
  if (child < 0) die("fork failed");
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (int signal_number : {SIGINT, SIGTERM, SIGHUP}) signal(signal_number, SIG_DFL);
    if (pin) zinc::bench::pin_to_cpu(1);
    stream->start_consumer();
    uint64_t frame_no = 1;
    while (stream->consume(frame_no, shared)) {
      shared->frames.value.store(frame_no, std::memory_order_release);
      ++frame_no;
    }
    _exit(0);
  }
  zinc::bench::at_failure([child] {
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
  });
  if (pin) zinc::bench::pin_to_cpu(0);
  stream->start_producer();

  const int64_t start = now_ns();
  const int64_t until = start + static_cast<int64_t>(seconds * 1e9);
  uint64_t produced = 0;
  while (now_ns() < until) {
    zinc::bench::check_stop_signal();
    stream->produce(++produced);
  }
  shared->stop.value.store(1, std::memory_order_release);
  stream->finish();
  int status = 0;
  waitpid(child, &status, 0);
  const int64_t elapsed = now_ns() - start;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("the consumer failed");
  const uint64_t consumed = shared->frames.value.load();
  const uint64_t errors = shared->errors.value.load();
  if (errors != 0) die(std::to_string(errors) + " frames failed their checksum");
  if (consumed != produced) {
    die("produced " + std::to_string(produced) + " frames but " + std::to_string(consumed) +
        " were consumed");
  }
  stream.reset();

  const double gbps = static_cast<double>(consumed * frame) / static_cast<double>(elapsed);
  line.add("frame_bytes", static_cast<int64_t>(frame))
      .add("slots", static_cast<int64_t>(transport == "zinc" || transport == "channel" ? slots : 0))
      .add("frames", static_cast<int64_t>(consumed))
      .add("seconds", static_cast<double>(elapsed) / 1e9)
      .add("gb_per_s", gbps)
      .add("frames_per_s", static_cast<double>(consumed) * 1e9 / static_cast<double>(elapsed))
      .write(json);
  std::printf("stream %-6s frame %zu KiB: %.2f GB/s (%llu frames checksummed)\n", transport.c_str(),
              frame >> 10, gbps, static_cast<unsigned long long>(consumed));
  return 0;
}
