// zinc watch NAME: print every notification with its sequence number and
// the current rate, until Ctrl-C / SIGTERM, --count or --duration.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <string>

#include "command.hpp"
#include "json.hpp"
#include "watched_region.hpp"

namespace zinc::cli {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// Notifications per second over about the last second: measured from the
// newest sample at least one second old (or from the start), so a slow
// stream shows its real rate rather than 0.
class Rate {
 public:
  Rate(Clock::time_point start, uint64_t total) { samples_.push_back({start, total}); }
  double add(Clock::time_point now, uint64_t total) {
    samples_.push_back({now, total});
    while (samples_.size() >= 2 && seconds_between(samples_[1].time, now) >= 1.0) {
      samples_.pop_front();
    }
    const Sample& base = samples_.front();
    const double span = seconds_between(base.time, now);
    return span > 0 ? static_cast<double>(total - base.total) / span : 0.0;
  }

 private:
  struct Sample {
    Clock::time_point time;
    uint64_t total;
  };
  std::deque<Sample> samples_;
};

// Whether the name still refers to the region we opened: a closing creator
// unlinks it, and a new creator may have made a different region under it.
const char* name_gone(const std::string& name, uint64_t our_created_at) {
  ZincHeaderInfo header{};
  const int32_t code = zinc_inspect(name.c_str(), &header);
  if (code == ZINC_ENOENT) return "removed";
  if ((code == ZINC_OK || code == ZINC_EBADMSG) && header.created_at != our_created_at) {
    return "replaced";
  }
  return nullptr;
}

int run(const Invocation& call) {
  const std::string& name = call.args[0];
  uint64_t count = 0, duration_ms = 0;
  int exit_code = kExitOk;
  if (!call.number("--count", &count, &exit_code)) return exit_code;
  if (!call.number("--duration", &duration_ms, &exit_code)) return exit_code;
  const bool until_count = call.has("--count");
  const bool until_time = call.has("--duration");

  WatchedRegion region;
  if (const int32_t code = region.open(name); code != ZINC_OK) return call.fail_zinc(code);
  region.drain();
  uint32_t last = 0;
  uint64_t created_at = 0;
  region.sequence(&last);
  region.created_at(&created_at);
  const Clock::time_point start = Clock::now();
  const uint32_t first = last;
  if (call.json()) {
    Json json;
    json.begin_object().key("event").value("start").key("name").value(name);
    json.key("sequence").value(last).end_object().print();
  } else {
    std::printf("watching region '%s' from sequence %u; Ctrl-C to stop\n", name.c_str(), last);
    std::fflush(stdout);
  }

  Rate rate(start, 0);
  uint64_t total = 0;
  const char* reason = nullptr;
  while (reason == nullptr) {
    if (until_count && total >= count) {
      reason = "count";
      break;
    }
    const double elapsed_ms = seconds_between(start, Clock::now()) * 1000;
    if (until_time && elapsed_ms >= static_cast<double>(duration_ms)) {
      reason = "duration";
      break;
    }
    // Wake at least every second to notice a region that went away.
    double slice = 1000;
    if (until_time) slice = std::min(slice, static_cast<double>(duration_ms) - elapsed_ms);
    const int32_t code = region.wait(static_cast<uint32_t>(std::max(slice, 1.0)));
    if (code == ZINC_ECANCELED) {
      reason = "signal";
    } else if (code == ZINC_ETIMEDOUT) {
      reason = name_gone(name, created_at);
    } else if (code != ZINC_OK) {
      return call.fail_zinc(code);
    } else {
      uint32_t sequence = 0;
      if (!region.sequence(&sequence)) {
        reason = "signal";
        break;
      }
      const uint32_t delta = sequence - last;  // wraps correctly at 2^32
      if (delta == 0) continue;                // already counted before the drain
      last = sequence;
      total += delta;
      const Clock::time_point now = Clock::now();
      const double per_second = rate.add(now, total);
      if (call.json()) {
        Json json;
        json.begin_object().key("event").value("notify").key("sequence").value(sequence);
        json.key("delta").value(delta).key("elapsed_s").value(seconds_between(start, now));
        json.key("rate_per_s").value(per_second).end_object().print();
      } else {
        std::printf("%+10.3fs  seq %u  (+%u)  rate %.1f/s\n", seconds_between(start, now), sequence,
                    delta, per_second);
        std::fflush(stdout);
      }
    }
  }
  const double elapsed = seconds_between(start, Clock::now());
  const double average = elapsed > 0 ? static_cast<double>(total) / elapsed : 0.0;
  if (call.json()) {
    Json json;
    json.begin_object().key("event").value("end").key("reason").value(reason);
    json.key("notifications").value(total).key("first_sequence").value(first);
    json.key("last_sequence").value(last).key("elapsed_s").value(elapsed);
    json.key("rate_per_s").value(average).end_object().print();
  } else {
    std::printf("%llu notification%s in %.3f s (%.1f/s); stopped: %s\n",
                static_cast<unsigned long long>(total), total == 1 ? "" : "s", elapsed, average,
                reason);
  }
  return kExitOk;
}

}  // namespace

const Command kWatch = {
    "watch",
    "zinc watch NAME [--count N] [--duration MS] [--json]",
    "Print each notification with its sequence number and the rate.",
    R"(
Opens region NAME and prints one line per wake-up: the time since the start,
the region's sequence number, how many notifications arrived since the last
line (several notifications before the watcher runs coalesce into one
wake-up), and the rate over about the last second. Earlier notifications are
not shown. Ends on Ctrl-C, SIGTERM or SIGHUP, after --count notifications,
after --duration, or when the name stops referring to the watched region
(its creator closed it, or it was removed or replaced), then prints a
summary line.

Options:
  --count N        stop once N notifications have arrived
  --duration MS    stop after MS milliseconds
  --json           JSON Lines: {"event": "start", "sequence": n}, then
                   {"event": "notify", "sequence": n, "delta": n,
                   "elapsed_s": x, "rate_per_s": x} per wake-up, and
                   {"event": "end", "reason": "count|duration|signal|removed|
                   replaced", "notifications": n, ...}

Exit status: 0 when it ended as above; 2 invalid name or option; 3 no such
region; 4 not a valid region; 6 permission denied; 7 other errors.
)",
    {{"--count", "N"}, {"--duration", "MS"}, {"--json", nullptr}},
    1,
    1,
    run,
};

}  // namespace zinc::cli
