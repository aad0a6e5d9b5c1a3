// kill -9 anywhere in create or close leaves nothing that needs a manual
// `zinc rm` (issue 18): a child runs create/close cycles of a region or a
// channel without pause, and the driver kills it with SIGKILL after a random
// number of microseconds, so the kill lands at a random point of a cycle:
// inside create, between create and close, inside close. Then, if the name
// is left behind, the driver checks that zinc recovers it by itself, either
// the way `zinc gc` does (zinc_remove_stale(name, 0)) or the way a new
// creator does (ZINC_CREATE_REPLACE_STALE); the first method tried
// alternates between rounds and the other is tried when it refuses.
//
// Counted and printed at the end:
//   rounds      children started and killed
//   cycles      create/close cycles the children completed
//   leftovers   names still present after a kill
//   recovered   leftovers removed (or replaced) by gc or REPLACE_STALE
//   aged        unfinished objects (an older or plain v2 creator killed
//               mid-create) that gc removes once they are 10 s old
//   stuck       leftovers neither recovers: what would need `zinc rm`
// The run fails (exit 1) when any leftover is stuck. Stuck objects are
// removed (as `zinc rm` would) so the run leaves nothing behind, whatever
// happens; the names are "t<driver pid>-kl-..." so scripts/lib.sh sweeps a
// killed run's objects too.
//
//   zinc_kill_loop [--seconds S] [--max-delay-us N] [--seed N]
#include <dirent.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "zinc.h"

namespace {

using Clock = std::chrono::steady_clock;

// SIGTERM / SIGINT (a ctest timeout, ^C) end the loop early; the run still
// kills its child and removes everything it made.
volatile sig_atomic_t stop_requested = 0;
void request_stop(int) {
  stop_requested = 1;
}

enum class Kind { kRegion, kChannel };

const char* kind_name(Kind kind) {
  return kind == Kind::kRegion ? "region" : "channel";
}

struct Counts {
  uint64_t rounds = 0;
  uint64_t leftovers = 0;
  uint64_t recovered_by_gc = 0;
  uint64_t recovered_by_replace = 0;
  uint64_t gc_refused = 0;       // gc tried first and refused (REPLACE_STALE then decided)
  uint64_t replace_refused = 0;  // REPLACE_STALE tried first and refused
  uint64_t aged = 0;
  uint64_t stuck = 0;
};

const char* arg(int argc, char** argv, const char* flag, const char* fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], flag) == 0) return argv[i + 1];
  }
  return fallback;
}

int32_t create(Kind kind, const std::string& name, uint32_t flags, void** out) {
  if (kind == Kind::kRegion) return zinc_create_ex(name.c_str(), zinc_page_size(), flags, out);
  return zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 4, 64, 2, flags, out);
}

void close_handle(Kind kind, void* handle) {
  if (kind == Kind::kRegion) {
    zinc_close(handle);
  } else {
    zinc_channel_close(handle);
  }
}

// The child: create/close cycles until killed, counting completed ones.
[[noreturn]] void run_cycles(Kind kind, const std::string& name, std::atomic<uint64_t>* cycles) {
  for (;;) {
    void* handle = nullptr;
    if (create(kind, name, ZINC_CREATE_DEFAULT, &handle) == ZINC_OK) {
      close_handle(kind, handle);
      cycles->fetch_add(1, std::memory_order_relaxed);
    }
  }
}

bool name_exists(const std::string& name) {
  return access(("/dev/shm/zinc_" + name).c_str(), F_OK) == 0;
}

int32_t recover_by_gc(const std::string& name) {
  return zinc_remove_stale(name.c_str(), ZINC_REMOVE_DEFAULT);
}

int32_t recover_by_replace(Kind kind, const std::string& name) {
  void* handle = nullptr;
  const int32_t rc = create(kind, name, ZINC_CREATE_REPLACE_STALE, &handle);
  if (rc == ZINC_OK) close_handle(kind, handle);  // the owner's close unlinks the name
  return rc;
}

// Stuck leftovers described one by one, per kind (the rest are counted).
constexpr uint64_t kStuckShown = 5;

struct Unfinished {
  std::string name;
  Kind kind;
  Clock::time_point left_at;
};

// Decides one leftover. Returns false when it is unfinished (gc's age rule
// applies later).
bool judge_leftover(Kind kind, const std::string& name, bool gc_first, Counts* counts) {
  ++counts->leftovers;
  const int32_t first = gc_first ? recover_by_gc(name) : recover_by_replace(kind, name);
  if (first == ZINC_OK) {
    ++(gc_first ? counts->recovered_by_gc : counts->recovered_by_replace);
    return true;
  }
  ++(gc_first ? counts->gc_refused : counts->replace_refused);
  const int32_t second = gc_first ? recover_by_replace(kind, name) : recover_by_gc(name);
  if (second == ZINC_OK) {
    ++(gc_first ? counts->recovered_by_replace : counts->recovered_by_gc);
    return true;
  }
  ZincHeaderInfo info{};
  const int32_t inspected = zinc_inspect(name.c_str(), &info);
  if (inspected == ZINC_EAGAIN) return false;
  ++counts->stuck;
  if (counts->stuck <= kStuckShown) {
    std::printf(
        "kill_loop: STUCK %s '%s': gc %d, replace %d, inspect %d (ref_count %u, owner_pid %d)\n",
        kind_name(kind), name.c_str(), gc_first ? first : second, gc_first ? second : first,
        inspected, info.ref_count, info.owner_pid);
  }
  zinc_remove_stale(name.c_str(), ZINC_REMOVE_FORCE | ZINC_REMOVE_INVALID);  // as `zinc rm`
  return true;
}

// Removes every object of this run still in /dev/shm (after a failure).
void sweep(const std::string& prefix) {
  DIR* dir = opendir("/dev/shm");
  if (dir == nullptr) return;
  const std::string full = "zinc_" + prefix;
  while (dirent* entry = readdir(dir)) {
    if (std::strncmp(entry->d_name, full.c_str(), full.size()) == 0) {
      unlink(("/dev/shm/" + std::string(entry->d_name)).c_str());
    }
  }
  closedir(dir);
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = std::atof(arg(argc, argv, "--seconds", "20"));
  const long max_delay_us = std::atol(arg(argc, argv, "--max-delay-us", "3000"));
  const uint64_t seed = std::strtoull(
      arg(argc, argv, "--seed", std::to_string(std::random_device{}()).c_str()), nullptr, 10);
  if (seconds <= 0 || max_delay_us <= 0) {
    std::fprintf(stderr, "usage: zinc_kill_loop [--seconds S] [--max-delay-us N] [--seed N]\n");
    return 2;
  }
  std::mt19937_64 random(seed);
  const std::string prefix = "t" + std::to_string(getpid()) + "-kl-";
  std::printf("kill_loop: seed %llu, %.0f s, kills after 0..%ld us\n",
              static_cast<unsigned long long>(seed), seconds, max_delay_us);

  // Completed cycles, counted by the children in a page they share.
  auto* cycles = static_cast<std::atomic<uint64_t>*>(
      mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  if (cycles == MAP_FAILED) {
    std::perror("mmap");
    return 2;
  }
  new (cycles) std::atomic<uint64_t>(0);

  Counts counts[2];
  std::vector<Unfinished> unfinished;
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  signal(SIGTERM, request_stop);
  signal(SIGINT, request_stop);
  while (Clock::now() < deadline && stop_requested == 0) {
    const Kind kind = random() % 2 == 0 ? Kind::kRegion : Kind::kChannel;
    Counts& c = counts[static_cast<int>(kind)];
    const std::string name = prefix + std::to_string(c.rounds) + "-" + kind_name(kind);
    const pid_t child = fork();
    if (child < 0) {
      std::perror("fork");
      break;
    }
    if (child == 0) {
      signal(SIGTERM, SIG_DFL);
      signal(SIGINT, SIG_DFL);
      run_cycles(kind, name, cycles);
    }
    // Sleeping is the point here: the kill must land at a random moment.
    std::this_thread::sleep_for(std::chrono::microseconds(random() % (max_delay_us + 1)));
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    ++c.rounds;
    if (!name_exists(name)) continue;
    if (!judge_leftover(kind, name, c.rounds % 2 == 0, &c)) {
      unfinished.push_back({name, kind, Clock::now()});
    }
  }
  // gc removes an unfinished object that nobody maps once it is 10 s old.
  for (const Unfinished& u : unfinished) {
    if (stop_requested != 0) break;
    std::this_thread::sleep_until(u.left_at + std::chrono::seconds(11));
    Counts& c = counts[static_cast<int>(u.kind)];
    if (recover_by_gc(u.name) == ZINC_OK) {
      ++c.aged;
    } else {
      ++c.stuck;
      std::printf("kill_loop: STUCK unfinished %s '%s' after 11 s\n", kind_name(u.kind),
                  u.name.c_str());
    }
  }
  sweep(prefix);

  uint64_t stuck = 0;
  for (Kind kind : {Kind::kRegion, Kind::kChannel}) {
    const Counts& c = counts[static_cast<int>(kind)];
    std::printf(
        "kill_loop: %-7s rounds %llu, leftovers %llu, recovered %llu (gc %llu, replace_stale "
        "%llu; gc refused first %llu, replace_stale refused first %llu), aged %llu, stuck %llu\n",
        kind_name(kind), static_cast<unsigned long long>(c.rounds),
        static_cast<unsigned long long>(c.leftovers),
        static_cast<unsigned long long>(c.recovered_by_gc + c.recovered_by_replace),
        static_cast<unsigned long long>(c.recovered_by_gc),
        static_cast<unsigned long long>(c.recovered_by_replace),
        static_cast<unsigned long long>(c.gc_refused),
        static_cast<unsigned long long>(c.replace_refused), static_cast<unsigned long long>(c.aged),
        static_cast<unsigned long long>(c.stuck));
    stuck += c.stuck;
  }
  std::printf("kill_loop: create/close cycles completed %llu, kills %llu, stuck %llu\n",
              static_cast<unsigned long long>(cycles->load()),
              static_cast<unsigned long long>(counts[0].rounds + counts[1].rounds),
              static_cast<unsigned long long>(stuck));
  return stuck == 0 ? 0 : 1;
}
