// zinc-camera: a camera-like producer and its consumers, in separate
// processes, sharing frames through a latest-value channel without copying
// them.
//
//   zinc-camera [--seconds S] [--fps F] [--consumer COMMAND]...
//       creates the channel, starts one C++ consumer (this program again,
//       with --consume) and each COMMAND (run by /bin/sh with the channel
//       name and S appended), then commits F frames per second for S
//       seconds and waits for the consumers' summaries.
//   zinc-camera --consume NAME [--seconds S]
//       a consumer on its own.
//
// The frame contract (python/examples/camera_consumer.py follows it too):
// a typed channel of "|u1" frames of shape (480, 640, 3), latest mode,
// 8 slots, up to 4 readers. Every byte of row r of frame f is
// (f + r) % 256, except the first 8 bytes, which hold the time the frame
// was committed (CLOCK_MONOTONIC nanoseconds, little-endian u64), so that a
// consumer can tell its latency. A consumer stops once the producer has
// left and no new frame comes.
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "zinc/channel.hpp"

namespace {

using namespace std::chrono_literals;

constexpr uint64_t kHeight = 480, kWidth = 640, kChannels = 3;
constexpr uint64_t kRowBytes = kWidth * kChannels;
constexpr uint32_t kMaxReaders = 4;

uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

struct Options {
  double seconds = 3;
  double fps = 60;
  std::string consume;                 // --consume NAME
  std::vector<std::string> consumers;  // --consumer COMMAND
};

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: zinc-camera [--seconds S] [--fps F] [--consumer COMMAND]...\n"
               "       zinc-camera --consume NAME [--seconds S]\n");
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) usage();
    const char* value = argv[++i];
    if (arg == "--seconds") {
      o.seconds = std::atof(value);
    } else if (arg == "--fps") {
      o.fps = std::atof(value);
    } else if (arg == "--consume") {
      o.consume = value;
    } else if (arg == "--consumer") {
      o.consumers.emplace_back(value);
    } else {
      usage();
    }
  }
  if (o.seconds <= 0 || o.seconds > 3600 || o.fps <= 0 || o.fps > 10000) usage();
  return o;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[static_cast<size_t>(p * static_cast<double>(values.size() - 1))];
}

// Row r of frame f holds (f + r) % 256, past the 8 timestamp bytes.
bool pattern_ok(const uint8_t* frame, uint64_t sequence) {
  for (const uint64_t row : {uint64_t{0}, kHeight / 2, kHeight - 1}) {
    const uint8_t want = static_cast<uint8_t>(sequence + row);
    const uint8_t* bytes = frame + row * kRowBytes;
    for (uint64_t i = row == 0 ? 8 : 0; i < kRowBytes; ++i) {
      if (bytes[i] != want) return false;
    }
  }
  return true;
}

int consume(const std::string& name, double seconds) {
  // The producer creates the channel before it starts us; a consumer
  // started by hand may come first, so the join waits for it a while.
  std::error_code join_error;
  zinc::ChannelReader reader = zinc::ChannelReader::open(name, 5s, join_error);
  if (join_error) {
    std::fprintf(stderr, "C++ consumer: cannot open %s: %s\n", name.c_str(),
                 join_error.message().c_str());
    return 1;
  }
  std::vector<double> latency_ms;
  uint64_t frames = 0, first = 0, last = 0, bad = 0;
  const auto stop = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds + 10);
  while (std::chrono::steady_clock::now() < stop) {
    std::error_code ec;
    std::optional<zinc::ReadFrame> frame = reader.read(200ms, ec);
    if (ec == std::errc::broken_pipe) break;  // ZINC_EPIPE: the producer closed the channel
    if (ec) throw std::system_error(ec, "zinc_channel_read");
    if (!frame) continue;
    const uint64_t now = monotonic_ns();
    const auto bytes = frame->as<uint8_t>();
    uint64_t stamp = 0;
    std::memcpy(&stamp, bytes.data(), sizeof stamp);
    latency_ms.push_back(static_cast<double>(now - stamp) / 1e6);
    if (!pattern_ok(bytes.data(), frame->sequence())) ++bad;
    if (frames == 0) first = frame->sequence();
    last = frame->sequence();
    ++frames;
  }
  const uint64_t skipped = frames == 0 ? 0 : last - first + 1 - frames;
  std::printf("C++ consumer: %llu frames, %llu skipped, latency p50 %.2f ms p99 %.2f ms, %s\n",
              static_cast<unsigned long long>(frames), static_cast<unsigned long long>(skipped),
              percentile(latency_ms, 0.5), percentile(latency_ms, 0.99),
              bad == 0 ? "pattern ok" : "PATTERN BROKEN");
  std::fflush(stdout);
  return frames > 0 && bad == 0 ? 0 : 1;
}

pid_t spawn(const std::vector<std::string>& args) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    std::perror("zinc-camera: exec");
    _exit(127);
  }
  return pid;
}

void fill(uint8_t* frame, uint64_t sequence) {
  for (uint64_t row = 0; row < kHeight; ++row) {
    std::memset(frame + row * kRowBytes, static_cast<int>((sequence + row) % 256), kRowBytes);
  }
}

int produce(const Options& o) {
  const std::string name = "zinc-camera-" + std::to_string(getpid());
  const ZincChannelFrameType type{
      .dtype = "|u1", .ndim = 3, .reserved = 0, .shape = {kHeight, kWidth, kChannels}};
  zinc::ChannelWriter writer = zinc::ChannelWriter::create(name, {.mode = zinc::ChannelMode::latest,
                                                                  .slot_count = 8,
                                                                  .max_readers = kMaxReaders,
                                                                  .frame_type = type});

  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return 1;
  self[n] = '\0';
  const std::string seconds = std::to_string(o.seconds);
  std::vector<pid_t> children{spawn({self, "--consume", name, "--seconds", seconds})};
  for (const std::string& command : o.consumers) {
    children.push_back(spawn({"/bin/sh", "-c", command + " " + name + " " + seconds}));
  }

  // Start once every consumer has joined, so that each sees the whole run
  // (a consumer that exits first, e.g. a command not found, ends the wait).
  int failed = 0;
  const auto give_up = std::chrono::steady_clock::now() + 20s;
  while (writer.info().readers < children.size() && std::chrono::steady_clock::now() < give_up) {
    for (pid_t& child : children) {
      int status = 0;
      if (child > 0 && waitpid(child, &status, WNOHANG) == child) {
        child = -1;
        ++failed;
      }
    }
    if (failed > 0) break;
    std::this_thread::sleep_for(10ms);
  }
  const uint32_t joined = writer.info().readers;
  if (joined < children.size()) {
    for (const pid_t child : children) {
      if (child > 0) kill(child, SIGTERM);
      if (child > 0) waitpid(child, nullptr, 0);
    }
    std::fprintf(stderr, "zinc-camera: only %u of %zu consumers joined (%d exited first)\n", joined,
                 children.size(), failed);
    return 1;
  }

  const auto period = std::chrono::duration<double>(1.0 / o.fps);
  const auto frames = static_cast<uint64_t>(o.seconds * o.fps);
  const auto start = std::chrono::steady_clock::now();
  uint64_t late = 0;
  for (uint64_t f = 0; f < frames; ++f) {
    const auto due = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                 period * static_cast<double>(f));
    if (std::chrono::steady_clock::now() > due + period) ++late;
    std::this_thread::sleep_until(due);
    std::optional<zinc::WriteFrame> frame = writer.acquire(0ms);  // latest: never waits
    uint8_t* bytes = frame->as<uint8_t>().data();
    fill(bytes, frame->sequence());
    const uint64_t stamp = monotonic_ns();
    std::memcpy(bytes, &stamp, sizeof stamp);
    writer.commit(*frame, frame->bytes().size());
  }
  // Frame 0 went out at the start, so frames - 1 periods end at the last.
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  writer.close();  // the consumers see the writer leave and finish

  for (const pid_t child : children) {
    int status = 0;
    if (child > 0 &&
        (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
      ++failed;
    }
  }
  std::printf("producer: %llu frames of 480x640x3 uint8 at %.1f fps, %llu late; %u consumers\n",
              static_cast<unsigned long long>(frames), static_cast<double>(frames - 1) / elapsed,
              static_cast<unsigned long long>(late), joined);
  if (failed > 0) std::fprintf(stderr, "zinc-camera: %d consumers failed\n", failed);
  return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse(argc, argv);
    return o.consume.empty() ? produce(o) : consume(o.consume, o.seconds);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "zinc-camera: %s\n", e.what());
    return 1;
  }
}
