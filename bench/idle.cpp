// CPU used by a waiter that has nothing to wait for: a process waits on a
// region nobody notifies, for --seconds, in one of these patterns:
//
//   long     one zinc_wait for the whole time
//   10ms     zinc_wait(10 ms) in a loop
//   1ms      zinc_wait(1 ms) in a loop
//
// Reports the waiter's CPU time (user + system, from wait4) as a percentage
// of one CPU over the wall time.
//
// Usage: zinc_bench_idle [--seconds=1] [--json=FILE]
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "bench_util.hpp"
#include "zinc.h"

namespace {

using zinc::bench::die;
using zinc::bench::read_all;
using zinc::bench::write_all;

double idle_cpu_percent(const std::string& region, uint32_t timeout_ms, double seconds) {
  const int64_t start = zinc::bench::now_ns();
  const pid_t child = fork();
  if (child < 0) die("fork failed");
  if (child == 0) {
    ZincHandle h = nullptr;
    if (zinc_open(region.c_str(), &h) != 0) _exit(3);
    zinc_try_wait(h);  // nothing pending from here on
    const int64_t until = start + static_cast<int64_t>(seconds * 1e9);
    while (zinc::bench::now_ns() < until) {
      if (zinc_wait(h, timeout_ms) != ZINC_ETIMEDOUT) _exit(4);
    }
    zinc_close(h);
    _exit(0);
  }
  int status = 0;
  rusage usage{};
  if (wait4(child, &status, 0, &usage) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    die("the waiting process failed");
  }
  const int64_t wall = zinc::bench::now_ns() - start;
  const int64_t cpu = (int64_t{usage.ru_utime.tv_sec} + usage.ru_stime.tv_sec) * 1000000000LL +
                      (int64_t{usage.ru_utime.tv_usec} + usage.ru_stime.tv_usec) * 1000;
  return 100.0 * static_cast<double>(cpu) / static_cast<double>(wall);
}

}  // namespace

int main(int argc, char** argv) {
  zinc::bench::Flags flags(argc, argv);
  const double seconds = flags.num("seconds", 1.0);
  const std::string json = flags.str("json", "");
  flags.check_all_used();

  const std::string region = "bench-idle-" + std::to_string(getpid());
  ZincHandle owner = nullptr;
  if (zinc_create(region.c_str(), zinc_page_size(), &owner) != 0) {
    die(std::string("zinc_create: ") + zinc_last_error_message());
  }
  const struct {
    const char* name;
    uint32_t timeout_ms;
  } patterns[] = {{"long", static_cast<uint32_t>(seconds * 1000)}, {"10ms", 10}, {"1ms", 1}};
  for (const auto& pattern : patterns) {
    const double percent = idle_cpu_percent(region, pattern.timeout_ms, seconds);
    zinc::bench::JsonLine()
        .add("bench", "idle")
        .add("pattern", pattern.name)
        .add("timeout_ms", static_cast<int64_t>(pattern.timeout_ms))
        .add("spin_us", static_cast<int64_t>(zinc_get_spin(owner)))
        .add("seconds", seconds)
        .add("cpu_pct", percent)
        .write(json);
    std::printf("idle waiter, %-4s waits: %.3f%% of a CPU\n", pattern.name, percent);
  }
  zinc_close(owner);
  return 0;
}
