// Shared by the cross-process benchmark drivers: failure clean-up, clock,
// CPU pinning, percentile summaries, command-line flags and a small JSON
// writer. Header-only; each driver is one .cpp file.
#pragma once

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace zinc::bench {

// What a failing process must still do before it exits: kill and reap its
// children, close (and so unlink) the regions it created.
struct FailureHook {
  pid_t owner;  // only this process runs it: a forked child inherits the list
  std::function<void()> run;
};

inline std::vector<FailureHook>& failure_hooks() {
  static std::vector<FailureHook> hooks;
  return hooks;
}

// Registers `hook` for die() in this process; later hooks run first.
inline void at_failure(std::function<void()> hook) {
  failure_hooks().push_back({getpid(), std::move(hook)});
}

// Ends a benchmark program with "<program>: <what>" on stderr, after the
// hooks this process registered with at_failure.
[[noreturn]] inline void die(const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", program_invocation_short_name, what.c_str());
  std::vector<FailureHook> hooks;
  hooks.swap(failure_hooks());  // a hook that dies again runs none twice
  for (auto it = hooks.rbegin(); it != hooks.rend(); ++it) {
    if (it->owner == getpid()) it->run();
  }
  std::exit(1);
}

// The signal (SIGINT, SIGTERM, SIGHUP) that asked this process to stop, once
// watch_stop_signals() ran; 0 before. Drivers check it in their loops and
// die(), so that the clean-up runs instead of the signal killing them.
inline volatile sig_atomic_t stop_signal = 0;

inline void watch_stop_signals() {
  struct sigaction action {};
  action.sa_handler = [](int signal_number) { stop_signal = signal_number; };
  sigemptyset(&action.sa_mask);
  for (int signal_number : {SIGINT, SIGTERM, SIGHUP}) sigaction(signal_number, &action, nullptr);
}

// Dies if a stop signal came.
inline void check_stop_signal() {
  if (stop_signal != 0) die(std::string("stopped by signal ") + std::to_string(stop_signal));
}

// Writes all of `data`, retrying short writes and EINTR.
inline void write_all(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die(std::string("write failed: ") + std::strerror(errno));
    p += n;
    size -= static_cast<size_t>(n);
  }
}

// Reads exactly `size` bytes; false at end of stream.
inline bool read_all(int fd, void* data, size_t size) {
  char* p = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t n = read(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die(std::string("read failed: ") + std::strerror(errno));
    if (n == 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

inline int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000LL + ts.tv_nsec;
}

// One PAUSE (x86) / YIELD (ARM) between polls.
inline void cpu_pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// Pins the calling process to one CPU (modulo the CPUs available); false if
// the machine has a single CPU or the call failed.
inline bool pin_to_cpu(int index) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0 || CPU_COUNT(&allowed) < 2) return false;
  int seen = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &allowed)) continue;
    if (seen++ == index % CPU_COUNT(&allowed)) {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      return sched_setaffinity(0, sizeof one, &one) == 0;
    }
  }
  return false;
}

// CPU time (user + system) of this process, or of its reaped children.
inline int64_t cpu_time_ns(int who = RUSAGE_SELF) {
  rusage usage{};
  getrusage(who, &usage);
  return (int64_t{usage.ru_utime.tv_sec} + usage.ru_stime.tv_sec) * 1000000000LL +
         (int64_t{usage.ru_utime.tv_usec} + usage.ru_stime.tv_usec) * 1000;
}

struct Summary {
  size_t count = 0;
  double mean = 0;
  int64_t min = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
};

// Sorts `samples` in place.
inline Summary summarize(std::vector<int64_t>& samples) {
  Summary s;
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  const size_t n = samples.size();
  auto at = [&](double q) {
    const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(n)));
    return samples[std::min(n - 1, rank == 0 ? 0 : rank - 1)];
  };
  s.count = n;
  double total = 0;
  for (int64_t v : samples) total += static_cast<double>(v);
  s.mean = total / static_cast<double>(n);
  s.min = samples.front();
  s.max = samples.back();
  s.p50 = at(0.50);
  s.p90 = at(0.90);
  s.p99 = at(0.99);
  s.p999 = at(0.999);
  return s;
}

// --name=value flags; bare --name means "1".
class Flags {
 public:
  Flags(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      if (arg.rfind("--", 0) != 0) {
        std::fprintf(stderr, "unexpected argument '%s' (flags look like --name=value)\n", argv[i]);
        std::exit(2);
      }
      const size_t eq = arg.find('=');
      if (eq == std::string::npos)
        values_[arg.substr(2)] = "1";
      else
        values_[arg.substr(2, eq - 2)] = arg.substr(eq + 1);
    }
  }
  std::string str(const std::string& name, const std::string& fallback) {
    used_.push_back(name);
    const auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
  }
  double num(const std::string& name, double fallback) {
    const std::string text = str(name, "");
    if (text.empty()) return fallback;
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (*end != '\0') {
      std::fprintf(stderr, "--%s=%s is not a number\n", name.c_str(), text.c_str());
      std::exit(2);
    }
    return value;
  }
  // Sizes accept K, M and G suffixes (powers of 1024).
  size_t bytes(const std::string& name, size_t fallback) {
    std::string text = str(name, "");
    if (text.empty()) return fallback;
    size_t scale = 1;
    switch (text.back()) {
      case 'K': scale = size_t{1} << 10; break;
      case 'M': scale = size_t{1} << 20; break;
      case 'G': scale = size_t{1} << 30; break;
      default: break;
    }
    if (scale != 1) text.pop_back();
    char* end = nullptr;
    const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0') {
      std::fprintf(stderr, "--%s needs a size like 4096, 64K or 1M\n", name.c_str());
      std::exit(2);
    }
    return static_cast<size_t>(value) * scale;
  }
  // Exits on flags no caller asked for (typos).
  void check_all_used() const {
    for (const auto& [name, value] : values_) {
      if (std::find(used_.begin(), used_.end(), name) == used_.end()) {
        std::fprintf(stderr, "unknown flag --%s\n", name.c_str());
        std::exit(2);
      }
    }
  }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> used_;
};

// Appends one JSON object per call to a file (JSON Lines), built from
// key/value pairs in order.
class JsonLine {
 public:
  JsonLine& add(const char* key, const std::string& value) {
    sep();
    text_ += quote(key) + ":" + quote(value);
    return *this;
  }
  JsonLine& add(const char* key, const char* value) { return add(key, std::string(value)); }
  JsonLine& add(const char* key, double value) {
    sep();
    char number[64];
    std::snprintf(number, sizeof number, "%.6g", value);
    text_ += quote(key) + ":" + number;
    return *this;
  }
  JsonLine& add(const char* key, int64_t value) {
    sep();
    text_ += quote(key) + ":" + std::to_string(value);
    return *this;
  }
  JsonLine& add(const char* key, const Summary& s) {
    return add((std::string(key) + "_count").c_str(), static_cast<int64_t>(s.count))
        .add((std::string(key) + "_mean_ns").c_str(), s.mean)
        .add((std::string(key) + "_min_ns").c_str(), s.min)
        .add((std::string(key) + "_p50_ns").c_str(), s.p50)
        .add((std::string(key) + "_p90_ns").c_str(), s.p90)
        .add((std::string(key) + "_p99_ns").c_str(), s.p99)
        .add((std::string(key) + "_p999_ns").c_str(), s.p999)
        .add((std::string(key) + "_max_ns").c_str(), s.max);
  }
  // Raw samples (already sorted) for the plots, thinned to at most `limit`
  // evenly spaced ranks so the distribution's shape survives.
  JsonLine& add_samples(const char* key, const std::vector<int64_t>& sorted, size_t limit) {
    sep();
    text_ += quote(key) + ":[";
    const size_t n = sorted.size();
    const size_t take = std::min(n, limit);
    for (size_t k = 0; k < take; ++k) {
      const size_t index = take == n ? k : k * (n - 1) / (take - 1);
      if (k != 0) text_ += ",";
      text_ += std::to_string(sorted[index]);
    }
    text_ += "]";
    return *this;
  }
  // Appends to `path` ("" = nothing, "-" = stdout).
  void write(const std::string& path) const {
    if (path.empty()) return;
    FILE* out = path == "-" ? stdout : std::fopen(path.c_str(), "a");
    if (out == nullptr) {
      std::fprintf(stderr, "cannot write %s: %s\n", path.c_str(), std::strerror(errno));
      std::exit(1);
    }
    std::fprintf(out, "{%s}\n", text_.c_str());
    if (out != stdout) std::fclose(out);
  }

 private:
  void sep() {
    if (!text_.empty()) text_ += ",";
  }
  static std::string quote(const std::string& s) {
    std::string q = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') q += '\\';
      q += c;
    }
    return q + "\"";
  }
  std::string text_;
};

inline std::string format_ns(double ns) {
  char text[32];
  if (ns < 1000)
    std::snprintf(text, sizeof text, "%.0f ns", ns);
  else if (ns < 1e6)
    std::snprintf(text, sizeof text, "%.2f us", ns / 1e3);
  else
    std::snprintf(text, sizeof text, "%.2f ms", ns / 1e6);
  return text;
}

}  // namespace zinc::bench
