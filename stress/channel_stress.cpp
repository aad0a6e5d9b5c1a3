// Multiprocess stress of channels (docs/spec.md §10) with kill -9.
//
// The driver creates a channel (as a reader that owns the name and checks
// frames in a thread of its own), starts one writer and several reader
// processes (this program again, with --role), and for the run time kills
// the writer or a reader with SIGKILL at random moments, starting a new one
// each time. Then it stops killing and checks that frames still flow.
//
// Every frame carries its sequence number, a length and content derived from
// the sequence, and a checksum of the whole, so a reader detects:
//   torn       content or checksum that does not match the sequence (a frame
//              overwritten while held, or half written by a killed writer);
//   lost       lossless: a sequence other than the previous + 1;
//   backwards  latest: a sequence not newer than the previous one.
// Counters live in a shared stats region, so those of killed processes
// count too. Violations: any torn, lost or backwards frame; a process that
// was not killed exiting nonzero (a sanitizer report in a child too); no
// frame reaching the driver's reader within 5 s after the last kill.
//
//   zinc_channel_stress --mode lossless|latest [--seconds S] [--readers K] [--seed N]
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "zinc.h"

namespace {

constexpr uint32_t kSlotCount = 8;
constexpr uint64_t kSlotSize = 4096;
constexpr uint32_t kMaxReaders = 6;
constexpr int kStatsEntries = 512;  // one per process started, the driver's reader last

struct Stats {
  std::atomic<uint64_t> written;
  std::atomic<uint64_t> read;
  std::atomic<uint64_t> torn;
  std::atomic<uint64_t> lost;
  std::atomic<uint64_t> backwards;
  std::atomic<uint64_t> failures;  // unexpected return codes
  std::atomic<uint64_t> pad[2];
};

std::atomic<bool> stop_requested{false};
void on_term(int) {
  stop_requested = true;
}

uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

uint64_t checksum(const uint8_t* bytes, uint64_t length) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (uint64_t i = 0; i < length; ++i) h = (h ^ bytes[i]) * 0x100000001b3ULL;
  return h;
}

// Frame layout: [seq u64][body...][checksum u64]; length 16..slot size,
// chosen by the sequence.
uint64_t frame_length(uint64_t seq) {
  return 16 + mix(seq) % (kSlotSize - 15);
}

void fill_frame(uint8_t* data, uint64_t seq) {
  const uint64_t length = frame_length(seq);
  std::memcpy(data, &seq, 8);
  for (uint64_t i = 8; i < length - 8; ++i)
    data[i] = static_cast<uint8_t>(mix(seq + i / 8) >> (i % 8));
  const uint64_t sum = checksum(data, length - 8);
  std::memcpy(data + length - 8, &sum, 8);
}

bool frame_is_whole(const ZincChannelFrame& frame) {
  if (frame.length < 16) return false;
  uint64_t seq = 0, sum = 0;
  std::memcpy(&seq, frame.data, 8);
  std::memcpy(&sum, frame.data + frame.length - 8, 8);
  if (seq != frame.sequence || frame.length != frame_length(seq)) return false;
  for (uint64_t i = 8; i < frame.length - 8; ++i) {
    if (frame.data[i] != static_cast<uint8_t>(mix(seq + i / 8) >> (i % 8))) return false;
  }
  return sum == checksum(frame.data, frame.length - 8);
}

Stats* map_stats(const std::string& name, ZincHandle* handle) {
  if (zinc_open(name.c_str(), handle) != ZINC_OK) return nullptr;
  return reinterpret_cast<Stats*>(zinc_ptr(*handle));
}

int run_writer(const std::string& name, Stats& stats) {
  ZincChannel writer = nullptr;
  // The previous writer may have been killed a moment ago; its role is free
  // once it is judged dead (it has been reaped by then).
  int32_t rc = ZINC_EBUSY;
  for (int i = 0; i < 500 && rc == ZINC_EBUSY && !stop_requested; ++i) {
    rc = zinc_channel_open_writer(name.c_str(), &writer);
    if (rc == ZINC_EBUSY) usleep(2000);
  }
  if (rc != ZINC_OK) {
    if (stop_requested) return 0;
    std::fprintf(stderr, "writer: open: %s\n", zinc_last_error_message());
    stats.failures++;
    return 1;
  }
  while (!stop_requested) {
    ZincChannelFrame frame{};
    rc = zinc_channel_acquire(writer, 100, &frame);
    if (rc == ZINC_ETIMEDOUT || rc == ZINC_EAGAIN) continue;
    if (rc != ZINC_OK) {
      std::fprintf(stderr, "writer: acquire: %s\n", zinc_last_error_message());
      stats.failures++;
      break;
    }
    fill_frame(frame.data, frame.sequence);
    if (zinc_channel_commit(writer, frame_length(frame.sequence)) != ZINC_OK) {
      stats.failures++;
      break;
    }
    stats.written++;
  }
  zinc_channel_close(writer);
  return stats.failures.load() == 0 ? 0 : 1;
}

// Reads until `stop` (or a signal); checks each frame.
void read_frames(ZincChannel reader, uint32_t mode, Stats& stats, const std::atomic<bool>& stop) {
  bool first = true;
  uint64_t last = 0;
  while (!stop && !stop_requested) {
    ZincChannelFrame frame{};
    const int32_t rc = zinc_channel_read(reader, 100, &frame);
    if (rc == ZINC_ETIMEDOUT || rc == ZINC_EAGAIN) continue;
    if (rc != ZINC_OK) {
      std::fprintf(stderr, "reader: read: %s\n", zinc_last_error_message());
      stats.failures++;
      return;
    }
    if (!frame_is_whole(frame)) stats.torn++;
    if (!first && mode == ZINC_CHANNEL_LOSSLESS && frame.sequence != last + 1) stats.lost++;
    if (!first && mode == ZINC_CHANNEL_LATEST && frame.sequence <= last) stats.backwards++;
    first = false;
    last = frame.sequence;
    stats.read++;
    zinc_channel_release(reader);
  }
}

int run_reader(const std::string& name, uint32_t mode, Stats& stats) {
  ZincChannel reader = nullptr;
  int32_t rc = ZINC_EBUSY;
  // A full table frees up as dead readers are reclaimed.
  for (int i = 0; i < 500 && rc == ZINC_EBUSY && !stop_requested; ++i) {
    rc = zinc_channel_open_reader(name.c_str(), &reader);
    if (rc == ZINC_EBUSY) usleep(2000);
  }
  if (rc != ZINC_OK) {
    if (stop_requested) return 0;
    std::fprintf(stderr, "reader: open: %s\n", zinc_last_error_message());
    stats.failures++;
    return 1;
  }
  const std::atomic<bool> never{false};
  read_frames(reader, mode, stats, never);
  zinc_channel_close(reader);
  return stats.failures.load() == 0 ? 0 : 1;
}

struct Child {
  pid_t pid = -1;
  bool writer = false;
};

// The child starts with SIGTERM blocked and unblocks it once its handler is
// in place, so the driver's SIGTERM at the end cannot kill a child that was
// started a moment before (it would look like a bad exit).
pid_t spawn(const char* self, const std::string& role, const std::string& name,
            const std::string& stats, int index, const char* mode) {
  sigset_t term, previous;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigprocmask(SIG_BLOCK, &term, &previous);
  const pid_t pid = fork();
  if (pid == 0) {
    const std::string idx = std::to_string(index);
    execl(self, self, "--role", role.c_str(), "--name", name.c_str(), "--stats", stats.c_str(),
          "--index", idx.c_str(), "--mode", mode, static_cast<char*>(nullptr));
    _exit(127);
  }
  sigprocmask(SIG_SETMASK, &previous, nullptr);
  return pid;
}

const char* arg(int argc, char** argv, const char* key, const char* fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], key) == 0) return argv[i + 1];
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode_name = arg(argc, argv, "--mode", "lossless");
  const uint32_t mode = mode_name == "latest" ? ZINC_CHANNEL_LATEST : ZINC_CHANNEL_LOSSLESS;
  const std::string role = arg(argc, argv, "--role", "driver");
  if (role != "driver") {
    signal(SIGTERM, on_term);
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_UNBLOCK, &term, nullptr);
    ZincHandle stats_handle = nullptr;
    Stats* stats = map_stats(arg(argc, argv, "--stats", ""), &stats_handle);
    const int index = std::atoi(arg(argc, argv, "--index", "0"));
    if (stats == nullptr || index < 0 || index >= kStatsEntries) return 2;
    const std::string name = arg(argc, argv, "--name", "");
    const int rc =
        role == "writer" ? run_writer(name, stats[index]) : run_reader(name, mode, stats[index]);
    zinc_close(stats_handle);
    return rc;
  }

  const double seconds = std::atof(arg(argc, argv, "--seconds", "3"));
  const int readers = std::atoi(arg(argc, argv, "--readers", "3"));
  const uint64_t seed = std::strtoull(
      arg(argc, argv, "--seed", std::to_string(std::random_device{}()).c_str()), nullptr, 10);
  std::mt19937_64 random(seed);
  const std::string name = "t" + std::to_string(getpid()) + "-chstress";
  const std::string stats_name = name + "-stats";

  ZincHandle stats_handle = nullptr;
  const uint64_t stats_bytes = sizeof(Stats) * kStatsEntries;
  const uint64_t page = zinc_page_size();
  if (zinc_create(stats_name.c_str(), (stats_bytes + page - 1) / page * page, &stats_handle) != 0) {
    std::fprintf(stderr, "stats region: %s\n", zinc_last_error_message());
    return 1;
  }
  Stats* stats = reinterpret_cast<Stats*>(zinc_ptr(stats_handle));
  ZincChannel own = nullptr;
  if (zinc_channel_create(name.c_str(), mode, kSlotCount, kSlotSize, kMaxReaders,
                          ZINC_CHANNEL_CREATE_READER, &own) != 0) {
    std::fprintf(stderr, "channel: %s\n", zinc_last_error_message());
    zinc_close(stats_handle);
    return 1;
  }
  Stats& own_stats = stats[kStatsEntries - 1];
  std::atomic<bool> stop_own{false};
  std::thread own_reader([&] { read_frames(own, mode, own_stats, stop_own); });

  std::vector<Child> children;
  int next_index = 0;
  auto start_child = [&](bool writer) {
    if (next_index >= kStatsEntries - 1) return;
    const pid_t pid = spawn(argv[0], writer ? "writer" : "reader", name, stats_name, next_index++,
                            mode_name.c_str());
    children.push_back({pid, writer});
  };
  start_child(true);
  for (int i = 0; i < readers; ++i) start_child(false);

  uint64_t writer_kills = 0, reader_kills = 0, bad_exits = 0;
  const auto begin = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  };
  while (elapsed() < seconds) {
    std::this_thread::sleep_for(std::chrono::microseconds(20000 + random() % 130000));
    // Kill the writer one time in three, else a reader; start a new one.
    const bool kill_writer = random() % 3 == 0;
    std::vector<size_t> candidates;
    for (size_t i = 0; i < children.size(); ++i) {
      if (children[i].pid > 0 && children[i].writer == kill_writer) candidates.push_back(i);
    }
    if (candidates.empty() || next_index >= kStatsEntries - 1) continue;
    Child& victim = children[candidates[random() % candidates.size()]];
    kill(victim.pid, SIGKILL);
    waitpid(victim.pid, nullptr, 0);
    victim.pid = -1;
    (kill_writer ? writer_kills : reader_kills)++;
    start_child(kill_writer);
  }

  // No wedge: after the last kill, frames reach the driver's reader again.
  const uint64_t before = own_stats.read.load();
  const auto settle = std::chrono::steady_clock::now();
  bool flowing = false;
  while (std::chrono::steady_clock::now() - settle < std::chrono::seconds(5)) {
    if (own_stats.read.load() >= before + 10) {
      flowing = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const double settle_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - settle).count();

  for (Child& c : children) {
    if (c.pid > 0) kill(c.pid, SIGTERM);
  }
  for (Child& c : children) {
    if (c.pid <= 0) continue;
    int status = 0;
    waitpid(c.pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::fprintf(stderr, "%s pid %d ended with status 0x%x\n", c.writer ? "writer" : "reader",
                   c.pid, status);
      ++bad_exits;
    }
  }
  stop_own = true;
  own_reader.join();
  zinc_channel_close(own);

  uint64_t written = 0, read = 0, torn = 0, lost = 0, backwards = 0, failures = 0;
  for (int i = 0; i < kStatsEntries; ++i) {
    written += stats[i].written;
    read += stats[i].read;
    torn += stats[i].torn;
    lost += stats[i].lost;
    backwards += stats[i].backwards;
    failures += stats[i].failures;
  }
  const uint64_t driver_read = own_stats.read.load();
  zinc_close(stats_handle);

  std::printf(
      "zinc_channel_stress %s (seed %llu): %.1f s, %d processes\n"
      "  frames: %llu written, %llu read (%llu by the driver's reader)\n"
      "  kill -9: %llu writers, %llu readers\n"
      "  torn %llu, lost %llu, backwards %llu, failed calls %llu, bad exits %llu\n"
      "  frames flowing again %.1f ms after the last kill\n",
      mode_name.c_str(), static_cast<unsigned long long>(seed), elapsed(), next_index,
      static_cast<unsigned long long>(written), static_cast<unsigned long long>(read),
      static_cast<unsigned long long>(driver_read), static_cast<unsigned long long>(writer_kills),
      static_cast<unsigned long long>(reader_kills), static_cast<unsigned long long>(torn),
      static_cast<unsigned long long>(lost), static_cast<unsigned long long>(backwards),
      static_cast<unsigned long long>(failures), static_cast<unsigned long long>(bad_exits),
      settle_ms);
  const bool ok = torn == 0 && lost == 0 && backwards == 0 && failures == 0 && bad_exits == 0 &&
                  flowing && written > 0;
  if (!flowing) std::printf("VIOLATION: no frame reached the driver's reader within 5 s\n");
  std::printf("zinc_channel_stress: %s\n", ok ? "no violations" : "VIOLATIONS");
  return ok ? 0 : 1;
}
