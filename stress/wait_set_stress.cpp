// Multiprocess stress of wait sets (docs/spec.md §11) with kill -9.
//
// The driver creates `--channels` lossless channels (as the reader that owns
// each name) and `--regions` regions, puts every one in one wait set, and
// starts a writer process per channel and a notifier process per region
// (this program again, with --role). For the run time it kills a random
// writer or notifier with SIGKILL every few milliseconds and starts a new
// one (a new writer takes the dead one's role and continues at write_seq,
// spec §10.3), while the driver's only thread sleeps in the set and reads
// whatever it reports. Then it stops killing and checks that every channel
// and region is still reported.
//
// Every frame's bytes derive from its sequence, so the driver detects:
//   torn    a frame whose bytes do not match its sequence;
//   lost    a sequence other than the previous + 1 (lossless, across writer
//           restarts too);
//   wedge   no key for 5 s while the peers run, or a channel or region not
//           reported within 5 s after the last kill;
//   failure an unexpected return code anywhere.
//
//   zinc_wait_set_stress [--seconds S] [--channels C] [--regions R] [--seed N] [--poll]
//
// --poll makes the set use the polling fallback (ZINC_WAIT_SET=poll).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "zinc.h"

namespace {

constexpr uint32_t kSlotCount = 4;
constexpr uint64_t kSlotSize = 256;
constexpr uint64_t kRegionKeyBase = 1000;
constexpr uint32_t kWedgeMs = 5000;

uint8_t byte_of(uint64_t sequence, uint64_t i) {
  return static_cast<uint8_t>((sequence * 131 + i * 7) & 0xFF);
}

[[noreturn]] void die(const char* what, int32_t rc) {
  std::fprintf(stderr, "wait_set_stress: %s: %d %s\n", what, rc, zinc_last_error_message());
  std::exit(1);
}

// --role writer NAME: joins (taking a dead writer's role) and writes frames
// until killed.
int run_writer(const char* name) {
  ZincChannel writer = nullptr;
  int32_t rc = ZINC_EBUSY;
  // The killed writer's lock goes with its process; until the driver reaps
  // it the role may still look held.
  for (int tries = 0; tries < 2000 && rc == ZINC_EBUSY; ++tries) {
    rc = zinc_channel_open_writer(name, &writer);
    if (rc == ZINC_EBUSY) usleep(1000);
  }
  if (rc != ZINC_OK) die("open_writer", rc);
  for (;;) {
    ZincChannelFrame frame{};
    rc = zinc_channel_acquire(writer, 1000, &frame);
    if (rc == ZINC_ETIMEDOUT) continue;
    if (rc != ZINC_OK) die("acquire", rc);
    for (uint64_t i = 0; i < frame.length; ++i) frame.data[i] = byte_of(frame.sequence, i);
    if ((rc = zinc_channel_commit(writer, frame.length)) != ZINC_OK) die("commit", rc);
    usleep(100);  // pace: leave the CPUs to the driver and the other writers
  }
}

// --role notifier NAME: notifies the region until killed.
int run_notifier(const char* name) {
  ZincHandle region = nullptr;
  if (int32_t rc = zinc_open(name, &region); rc != ZINC_OK) die("open", rc);
  for (;;) {
    zinc_notify(region);
    usleep(500);
  }
}

pid_t spawn(const char* self, const char* role, const std::string& name) {
  const pid_t pid = fork();
  if (pid == 0) {
    execl(self, self, "--role", role, name.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

struct Peer {
  std::string name;
  const char* role;
  pid_t pid;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "--role") == 0) {
    if (std::strcmp(argv[2], "writer") == 0) return run_writer(argv[3]);
    if (std::strcmp(argv[2], "notifier") == 0) return run_notifier(argv[3]);
    return 2;
  }
  double seconds = 3;
  size_t channels = 6, regions = 2;
  uint64_t seed = static_cast<uint64_t>(std::random_device{}());
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (arg == "--channels" && i + 1 < argc) {
      channels = std::strtoul(argv[++i], nullptr, 10);
    } else if (arg == "--regions" && i + 1 < argc) {
      regions = std::strtoul(argv[++i], nullptr, 10);
    } else if (arg == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--poll") {
      setenv("ZINC_WAIT_SET", "poll", 1);
    } else {
      std::fprintf(stderr,
                   "usage: %s [--seconds S] [--channels C] [--regions R] [--seed N] [--poll]\n",
                   argv[0]);
      return 2;
    }
  }
  std::printf("wait_set_stress: seed %llu, %zu channels, %zu regions, %.1f s%s\n",
              static_cast<unsigned long long>(seed), channels, regions, seconds,
              getenv("ZINC_WAIT_SET") != nullptr ? ", polling" : "");
  std::fflush(stdout);
  std::mt19937_64 random(seed);
  const std::string prefix = "wss" + std::to_string(getpid()) + "-";

  ZincWaitSet set = nullptr;
  if (int32_t rc = zinc_wait_set_create(&set); rc != ZINC_OK) die("wait_set_create", rc);
  std::vector<ZincChannel> readers(channels, nullptr);
  std::vector<ZincHandle> region_handles(regions, nullptr);
  std::vector<Peer> peers;
  for (size_t c = 0; c < channels; ++c) {
    const std::string name = prefix + "c" + std::to_string(c);
    if (int32_t rc = zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, kSlotCount, kSlotSize,
                                         1, ZINC_CHANNEL_CREATE_READER, &readers[c]);
        rc != ZINC_OK) {
      die("channel_create", rc);
    }
    if (int32_t rc = zinc_wait_set_add_channel(set, readers[c], c); rc != ZINC_OK) die("add", rc);
    peers.push_back({name, "writer", spawn(argv[0], "writer", name)});
  }
  for (size_t r = 0; r < regions; ++r) {
    const std::string name = prefix + "r" + std::to_string(r);
    if (int32_t rc = zinc_create(name.c_str(), zinc_page_size(), &region_handles[r]);
        rc != ZINC_OK) {
      die("create", rc);
    }
    if (int32_t rc = zinc_wait_set_add_region(set, region_handles[r], kRegionKeyBase + r);
        rc != ZINC_OK) {
      die("add", rc);
    }
    peers.push_back({name, "notifier", spawn(argv[0], "notifier", name)});
  }

  std::vector<uint64_t> next(channels, 0);
  uint64_t frames = 0, torn = 0, lost = 0, failures = 0, wedges = 0, kills = 0;
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto kill_until = start + std::chrono::duration<double>(seconds);
  auto next_kill = start;
  std::vector<bool> seen_after(channels + regions, false);
  size_t seen_count = 0;
  auto last_kill = start;
  auto last_report = start;

  // Reads every frame a ready reader has.
  auto drain = [&](size_t c) {
    for (;;) {
      ZincChannelFrame frame{};
      const int32_t rc = zinc_channel_read(readers[c], 0, &frame);
      if (rc == ZINC_EAGAIN) return;
      if (rc != ZINC_OK) {
        ++failures;
        std::fprintf(stderr, "read: %d %s\n", rc, zinc_last_error_message());
        return;
      }
      for (uint64_t i = 0; i < frame.length; ++i) {
        if (frame.data[i] != byte_of(frame.sequence, i)) {
          ++torn;
          break;
        }
      }
      if (frame.sequence != next[c]) {
        ++lost;
        std::fprintf(stderr, "channel %zu: frame %llu after %llu\n", c,
                     static_cast<unsigned long long>(frame.sequence),
                     static_cast<unsigned long long>(next[c]));
      }
      next[c] = frame.sequence + 1;
      ++frames;
      zinc_channel_release(readers[c]);
    }
  };

  bool killing = true;
  for (;;) {
    const auto now = Clock::now();
    if (killing && now >= kill_until) {
      killing = false;
      last_kill = now;
    }
    if (killing && now >= next_kill) {
      Peer& victim = peers[random() % peers.size()];
      kill(victim.pid, SIGKILL);
      waitpid(victim.pid, nullptr, 0);
      victim.pid = spawn(argv[0], victim.role, victim.name);
      ++kills;
      next_kill = now + std::chrono::microseconds(2000 + random() % 30000);
    }
    if (!killing && seen_count == seen_after.size()) break;
    if (!killing && now - last_kill > std::chrono::milliseconds(kWedgeMs)) {
      ++wedges;
      for (size_t k = 0; k < seen_after.size(); ++k) {
        if (!seen_after[k]) std::fprintf(stderr, "member %zu not reported after the kills\n", k);
      }
      break;
    }
    uint64_t keys[64];
    const uint32_t timeout = killing ? 20 : 100;  // come back to kill on time
    const int32_t n = zinc_wait_set_wait(set, timeout, keys, 64);
    if (n == ZINC_ETIMEDOUT) {
      if (Clock::now() - last_report > std::chrono::milliseconds(kWedgeMs)) {
        ++wedges;
        std::fprintf(stderr, "no member reported for %u ms\n", kWedgeMs);
        break;
      }
      continue;
    }
    if (n < 0) {
      ++failures;
      std::fprintf(stderr, "wait: %d %s\n", n, zinc_last_error_message());
      break;
    }
    last_report = Clock::now();
    for (int32_t i = 0; i < n; ++i) {
      const uint64_t key = keys[i];
      const size_t index = key >= kRegionKeyBase ? channels + (key - kRegionKeyBase) : key;
      if (key < channels) drain(key);
      if (!killing && !seen_after[index]) {
        seen_after[index] = true;
        ++seen_count;
      }
    }
  }

  for (Peer& peer : peers) {
    kill(peer.pid, SIGKILL);
    waitpid(peer.pid, nullptr, 0);
  }
  zinc_wait_set_close(set);
  for (ZincChannel reader : readers) zinc_channel_close(reader);
  for (ZincHandle region : region_handles) zinc_close(region);
  std::printf(
      "wait_set_stress: %llu frames, %llu kills, torn %llu, lost %llu, wedges %llu, "
      "failures %llu\n",
      static_cast<unsigned long long>(frames), static_cast<unsigned long long>(kills),
      static_cast<unsigned long long>(torn), static_cast<unsigned long long>(lost),
      static_cast<unsigned long long>(wedges), static_cast<unsigned long long>(failures));
  const bool ok = torn == 0 && lost == 0 && wedges == 0 && failures == 0 && frames > 0;
  std::printf("wait_set_stress: %s\n", ok ? "OK" : "VIOLATION");
  return ok ? 0 : 1;
}
