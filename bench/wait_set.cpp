// One waiter for many channels: wake latency and idle CPU of a wait set
// (docs/spec.md §11) against a thread per channel, for --members channels.
//
// The waiting process creates --members lossless channels (64 B slots) as
// their reader; a writer process (forked) joins every one as its writer.
// Latency: the writer picks a channel at random, waits --gap-us (so the
// waiter is asleep), stamps CLOCK_MONOTONIC into a frame and commits it;
// the waiter records the time from the stamp to its read of that frame, and
// acknowledges through an ack region before the writer sends the next one.
// Idle: with no traffic for --idle-seconds, the waiting process's CPU time
// (all its threads, getrusage) as a percentage of one CPU.
//
//   set       one thread: zinc_wait_set_wait on all the readers, then reads
//             the reported ones (futex_waitv; pool threads past 127)
//   set-poll  the same with the polling fallback (ZINC_WAIT_SET=poll)
//   threads   a thread per channel, each blocked in zinc_channel_read
//
// ZINC_SPIN_US is 0 for every process, so every waiter sleeps in the kernel
// and the commit's notify is what wakes it (the same for all modes).
//
// Usage: zinc_bench_wait_set --mode=set [--members=10] [--samples=2000]
//        [--gap-us=300] [--idle-seconds=1] [--json=FILE]
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.hpp"
#include "zinc.h"

namespace {

using zinc::bench::die;
using zinc::bench::now_ns;

std::string channel_name(pid_t owner, size_t index) {
  return "bench-ws-" + std::to_string(owner) + "-" + std::to_string(index);
}

// The writer process: joins every channel and sends `samples` stamped
// frames, each after the waiter acknowledged the last.
[[noreturn]] void run_writer(pid_t owner, size_t members, int64_t samples, int64_t gap_us,
                             const std::string& ack_name) {
  std::vector<ZincChannel> writers(members, nullptr);
  for (size_t i = 0; i < members; ++i) {
    if (zinc_channel_open_writer(channel_name(owner, i).c_str(), &writers[i]) != 0) _exit(3);
  }
  ZincHandle ack = nullptr;
  if (zinc_open(ack_name.c_str(), &ack) != 0) _exit(4);
  std::mt19937_64 random(42);
  for (int64_t s = 0; s < samples; ++s) {
    const size_t k = random() % members;
    const int64_t gap = gap_us / 2 + static_cast<int64_t>(random() % (gap_us + 1));
    const int64_t until = now_ns() + gap * 1000;
    while (now_ns() < until) usleep(static_cast<useconds_t>(std::max<int64_t>(1, gap / 4)));
    ZincChannelFrame frame{};
    if (zinc_channel_acquire(writers[k], 5000, &frame) != 0) _exit(5);
    const int64_t stamp = now_ns();
    std::memcpy(frame.data, &stamp, sizeof stamp);
    if (zinc_channel_commit(writers[k], sizeof stamp) != 0) _exit(6);
    if (zinc_wait(ack, 10000) != 0) _exit(7);
  }
  pause();  // until killed: the idle phase needs the writers alive
  _exit(0);
}

// Reads the frame a ready reader has; its latency, or -1 if none.
int64_t take_frame(ZincChannel reader) {
  ZincChannelFrame frame{};
  if (zinc_channel_read(reader, 0, &frame) != 0) return -1;
  int64_t stamp = 0;
  std::memcpy(&stamp, frame.data, sizeof stamp);
  const int64_t latency = now_ns() - stamp;
  zinc_channel_release(reader);
  return latency;
}

int64_t cpu_ns() {
  return zinc::bench::cpu_time_ns(RUSAGE_SELF);
}

}  // namespace

int main(int argc, char** argv) {
  zinc::bench::Flags flags(argc, argv);
  const std::string mode = flags.str("mode", "set");
  const size_t members = static_cast<size_t>(flags.num("members", 10));
  const int64_t samples = static_cast<int64_t>(flags.num("samples", 2000));
  const int64_t gap_us = static_cast<int64_t>(flags.num("gap-us", 300));
  const double idle_seconds = flags.num("idle-seconds", 1.0);
  const std::string json = flags.str("json", "");
  flags.check_all_used();
  if (mode != "set" && mode != "set-poll" && mode != "threads")
    die("--mode: set, set-poll or threads");
  if (members == 0 || samples <= 0) die("--members and --samples must be positive");
  setenv("ZINC_SPIN_US", "0", 1);
  if (mode == "set-poll") setenv("ZINC_WAIT_SET", "poll", 1);
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;  // a handle holds a descriptor (its locks)
  setrlimit(RLIMIT_NOFILE, &files);
  zinc::bench::watch_stop_signals();

  const pid_t owner = getpid();
  std::vector<ZincChannel> readers(members, nullptr);
  zinc::bench::at_failure([&] {
    for (ZincChannel r : readers) zinc_channel_close(r);
  });
  for (size_t i = 0; i < members; ++i) {
    if (zinc_channel_create(channel_name(owner, i).c_str(), ZINC_CHANNEL_LOSSLESS, 4, 64, 1,
                            ZINC_CHANNEL_CREATE_READER, &readers[i]) != 0) {
      die(std::string("zinc_channel_create: ") + zinc_last_error_message());
    }
  }
  const std::string ack_name = "bench-ws-ack-" + std::to_string(owner);
  ZincHandle ack = nullptr;
  if (zinc_create(ack_name.c_str(), zinc_page_size(), &ack) != 0) die("zinc_create (ack)");
  zinc::bench::at_failure([&] { zinc_close(ack); });

  const pid_t writer = fork();
  if (writer < 0) die("fork failed");
  if (writer == 0) run_writer(owner, members, samples, gap_us, ack_name);
  zinc::bench::at_failure([&] {
    kill(writer, SIGKILL);
    waitpid(writer, nullptr, 0);
  });

  std::vector<int64_t> latencies;
  latencies.reserve(static_cast<size_t>(samples));
  std::atomic<bool> idle{false};
  int64_t idle_cpu = 0, idle_wall = 0;
  auto measure_idle = [&] {
    const int64_t cpu0 = cpu_ns(), wall0 = now_ns();
    const timespec pause_for{
        static_cast<time_t>(idle_seconds),
        static_cast<long>((idle_seconds - static_cast<time_t>(idle_seconds)) * 1e9)};
    nanosleep(&pause_for, nullptr);
    idle_cpu = cpu_ns() - cpu0;
    idle_wall = now_ns() - wall0;
  };

  if (mode == "threads") {
    std::mutex lock;
    std::atomic<int64_t> got{0};
    std::vector<std::thread> threads;
    for (size_t i = 0; i < members; ++i) {
      threads.emplace_back([&, i] {
        while (!idle.load()) {
          ZincChannelFrame frame{};
          const int32_t rc = zinc_channel_read(readers[i], 3'600'000, &frame);
          if (rc != 0 && idle.load()) break;  // closed: the run is over
          if (rc == ZINC_ETIMEDOUT) continue;
          if (rc != 0) die(std::string("zinc_channel_read: ") + zinc_last_error_message());
          int64_t stamp = 0;
          std::memcpy(&stamp, frame.data, sizeof stamp);
          const int64_t latency = now_ns() - stamp;
          zinc_channel_release(readers[i]);
          {
            std::lock_guard guard(lock);
            latencies.push_back(latency);
          }
          got.fetch_add(1);
          zinc_notify(ack);
        }
      });
    }
    while (got.load() < samples) {
      zinc::bench::check_stop_signal();
      usleep(1000);
    }
    // Idle: every thread asleep in its read while nothing comes; closing
    // the readers then cancels the reads.
    measure_idle();
    idle = true;
    for (ZincChannel& r : readers) zinc_channel_close(r);
    for (std::thread& t : threads) t.join();
  } else {
    ZincWaitSet set = nullptr;
    if (zinc_wait_set_create(&set) != 0) die("zinc_wait_set_create");
    for (size_t i = 0; i < members; ++i) {
      if (zinc_wait_set_add_channel(set, readers[i], i) != 0) {
        die(std::string("zinc_wait_set_add_channel: ") + zinc_last_error_message());
      }
    }
    std::vector<uint64_t> keys(64);
    while (static_cast<int64_t>(latencies.size()) < samples) {
      zinc::bench::check_stop_signal();
      const int32_t n = zinc_wait_set_wait(set, 1000, keys.data(), 64);
      if (n == ZINC_ETIMEDOUT) continue;
      if (n < 0) die(std::string("zinc_wait_set_wait: ") + zinc_last_error_message());
      for (int32_t k = 0; k < n; ++k) {
        const int64_t latency = take_frame(readers[keys[k]]);
        if (latency < 0) continue;
        latencies.push_back(latency);
        zinc_notify(ack);
      }
    }
    // Idle: one thread asleep in the set.
    std::thread waiter([&] {
      while (!idle.load()) {
        if (zinc_wait_set_wait(set, ZINC_WAIT_FOREVER, keys.data(), 64) == ZINC_ECANCELED) break;
      }
    });
    measure_idle();
    idle = true;
    zinc_wait_set_close(set);  // wakes the waiter with ZINC_ECANCELED
    waiter.join();
  }

  kill(writer, SIGKILL);
  waitpid(writer, nullptr, 0);
  for (ZincChannel r : readers) zinc_channel_close(r);
  readers.clear();
  zinc_close(ack);

  zinc::bench::Summary wake = zinc::bench::summarize(latencies);
  const double cpu_pct = 100.0 * static_cast<double>(idle_cpu) / static_cast<double>(idle_wall);
  zinc::bench::JsonLine()
      .add("bench", "wait_set")
      .add("mode", mode)
      .add("members", static_cast<int64_t>(members))
      .add("gap_us", gap_us)
      .add("wake", wake)
      .add("idle_seconds", idle_seconds)
      .add("idle_cpu_pct", cpu_pct)
      .write(json);
  std::printf("wait set %-8s %5zu members: wake p50 %s p99 %s, idle %.3f%% of a CPU\n",
              mode.c_str(), members, zinc::bench::format_ns(static_cast<double>(wake.p50)).c_str(),
              zinc::bench::format_ns(static_cast<double>(wake.p99)).c_str(), cpu_pct);
  return 0;
}
