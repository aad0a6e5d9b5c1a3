// zinc-demo: two processes share one region. The writer puts a message in
// the shared pages and notifies; the reader (a second process, started by the
// writer) wakes, reads it in place, answers and notifies back. Then they
// ping-pong to measure the cross-process round trip.
//
// Notifications are hints, the data is the truth: each side publishes a
// round number with a release store and waits until the peer's round number
// says its answer is there. That also makes a handle's own notifications
// (which it sees, by the protocol's rules) harmless.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "zinc/zinc.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPeerTimeout = std::chrono::milliseconds(5000);

// Layout of the data area used by this demo.
struct Mailbox {
  uint64_t writer_round;  // written by the writer, read by the reader
  uint64_t reader_round;  // the reverse
  char message[256];      // writer -> reader
  char reply[256];        // reader -> writer
};

uint64_t load(uint64_t& field) {
  return std::atomic_ref<uint64_t>(field).load(std::memory_order_acquire);
}
void store(uint64_t& field, uint64_t value) {
  std::atomic_ref<uint64_t>(field).store(value, std::memory_order_release);
}

// Blocks until `field` reaches `round`; false if the peer went quiet.
bool await_round(zinc::Region& region, uint64_t& field, uint64_t round) {
  const auto give_up = Clock::now() + kPeerTimeout;
  while (load(field) < round) {
    if (Clock::now() > give_up) return false;
    region.wait(std::chrono::milliseconds(100));
  }
  return true;
}

int run_reader(const char* name, int printed_rounds) {
  zinc::Region region = zinc::Region::open(name);
  Mailbox& box = region.as<Mailbox>(0, 1)[0];
  for (uint64_t round = 1;; ++round) {
    if (!await_round(region, box.writer_round, round)) return 1;
    if (std::strcmp(box.message, "bye") == 0) return 0;
    std::snprintf(box.reply, sizeof box.reply, "ack %llu", static_cast<unsigned long long>(round));
    if (round <= static_cast<uint64_t>(printed_rounds)) {
      std::printf("reader (pid %d): woke up, read \"%s\" in place, replying \"%s\"\n", getpid(),
                  box.message, box.reply);
      std::fflush(stdout);
    }
    store(box.reader_round, round);
    region.notify();
  }
}

double percentile(std::vector<double> samples, double p) {
  std::sort(samples.begin(), samples.end());
  return samples[static_cast<size_t>(p * static_cast<double>(samples.size() - 1))];
}

int run_writer(const char* self, int rounds) {
  const std::string name = "demo-" + std::to_string(getpid());
  zinc::Region region = zinc::Region::create(name, zinc::page_size());
  std::printf("writer (pid %d): created region '%s' (%zu bytes, page size %zu)\n", getpid(),
              name.c_str(), region.capacity(), zinc::page_size());
  std::fflush(stdout);
  Mailbox& box = region.as<Mailbox>(0, 1)[0];

  constexpr int kPrinted = 3;
  const pid_t child = fork();
  if (child == 0) {
    const std::string printed = std::to_string(kPrinted);
    execl(self, self, "--reader", name.c_str(), printed.c_str(), static_cast<char*>(nullptr));
    std::perror("exec reader");
    _exit(127);
  }

  std::vector<double> round_trip_us;
  bool ok = true;
  for (uint64_t round = 1; round <= static_cast<uint64_t>(rounds) + 1 && ok; ++round) {
    const bool last = round == static_cast<uint64_t>(rounds) + 1;
    if (last) {
      std::snprintf(box.message, sizeof box.message, "bye");
    } else {
      std::snprintf(box.message, sizeof box.message, "frame %llu from the writer",
                    static_cast<unsigned long long>(round));
    }
    if (round <= kPrinted) {
      std::printf("writer (pid %d): wrote \"%s\", notify\n", getpid(), box.message);
      std::fflush(stdout);
    }
    const auto start = Clock::now();
    store(box.writer_round, round);
    region.notify();
    if (last) break;
    ok = await_round(region, box.reader_round, round);
    const auto elapsed = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    round_trip_us.push_back(elapsed);
    if (ok && round <= kPrinted) {
      std::printf("writer (pid %d): got reply \"%s\" after %.1f us\n", getpid(), box.reply, elapsed);
      std::fflush(stdout);
    }
  }
  int status = 0;
  waitpid(child, &status, 0);
  if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "demo failed: the reader process did not answer\n");
    return 1;
  }
  std::printf("round trip over %d notify/wait ping-pongs between two processes: "
              "p50 %.1f us, p99 %.1f us, min %.1f us\n",
              rounds, percentile(round_trip_us, 0.5), percentile(round_trip_us, 0.99),
              percentile(round_trip_us, 0.0));
  region.close();
  std::printf("region '%s' closed and unlinked by its creator\n", name.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 4 && std::strcmp(argv[1], "--reader") == 0) {
      return run_reader(argv[2], std::atoi(argv[3]));
    }
    int rounds = 10000;
    if (argc == 3 && std::strcmp(argv[1], "--rounds") == 0) rounds = std::atoi(argv[2]);
    if (rounds < 1) {
      std::fprintf(stderr, "usage: zinc-demo [--rounds N]   (N >= 1)\n");
      return 2;
    }
    return run_writer("/proc/self/exe", rounds);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "zinc-demo: %s\n", e.what());
    return 1;
  }
}
