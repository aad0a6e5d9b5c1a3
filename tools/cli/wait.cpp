// zinc wait NAME: block until the region's next notification.
#include <chrono>
#include <cstdio>
#include <string>

#include "command.hpp"
#include "json.hpp"
#include "watched_region.hpp"

namespace zinc::cli {
namespace {

using Clock = std::chrono::steady_clock;

int run(const Invocation& call) {
  const std::string& name = call.args[0];
  uint64_t timeout_ms = 0;
  int exit_code = kExitOk;
  if (!call.number("--timeout", &timeout_ms, &exit_code)) return exit_code;
  const bool forever = !call.has("--timeout");
  if (timeout_ms > UINT32_MAX) {
    return call.fail(kExitUsage, "--timeout is at most " + std::to_string(UINT32_MAX) + " ms");
  }

  WatchedRegion region;
  if (const int32_t code = region.open(name); code != ZINC_OK) return call.fail_zinc(code);
  region.drain();  // earlier notifications do not count: wait for the next one
  const Clock::time_point start = Clock::now();
  int32_t code = ZINC_ETIMEDOUT;
  do {
    // Without --timeout, wait in hour-long steps for ever.
    code = region.wait(forever ? 3600000u : static_cast<uint32_t>(timeout_ms));
  } while (forever && code == ZINC_ETIMEDOUT);
  const double waited_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();

  if (code == ZINC_ECANCELED) {
    return call.fail(128 + region.stop_signal(),
                     "interrupted by signal " + std::to_string(region.stop_signal()));
  }
  if (code != ZINC_OK && code != ZINC_ETIMEDOUT) return call.fail_zinc(code);
  uint32_t sequence = 0;
  const bool known = region.sequence(&sequence);
  if (call.json()) {
    Json json;
    json.begin_object().key("name").value(name).key("notified").value(code == ZINC_OK);
    json.key("sequence");
    if (known)
      json.value(sequence);
    else
      json.null();
    json.key("waited_ms").value(waited_ms).end_object().print();
  } else if (code == ZINC_OK) {
    std::printf("notified: region '%s' is at sequence %u (waited %.1f ms)\n", name.c_str(),
                sequence, waited_ms);
  } else {
    std::printf("timed out after %llu ms: no notification on region '%s'\n",
                static_cast<unsigned long long>(timeout_ms), name.c_str());
  }
  std::fflush(stdout);
  return code == ZINC_OK ? kExitOk : kExitTimedOut;
}

}  // namespace

const Command kWait = {
    "wait",
    "zinc wait NAME [--timeout MS] [--json]",
    "Wait for the region's next notification.",
    R"(
Opens region NAME and blocks until a notification is published after the
command started (notifications from before it are ignored), or until
--timeout MS passes. Without --timeout it waits for ever. Ctrl-C, SIGTERM
or SIGHUP end it at once.

Options:
  --timeout MS  give up after MS milliseconds (0 = just look once)
  --json        {"name": ..., "notified": b, "sequence": n, "waited_ms": x}

Exit status: 0 notified; 1 timed out; 2 invalid name or option; 3 no such
region; 4 not a valid region; 6 permission denied; 7 other errors;
128+N interrupted by signal N (130 for Ctrl-C, 143 for SIGTERM).
)",
    {{"--timeout", "MS"}, {"--json", nullptr}},
    1,
    1,
    run,
};

}  // namespace zinc::cli
