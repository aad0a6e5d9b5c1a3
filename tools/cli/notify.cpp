// zinc notify NAME: publish notifications to a region's waiters.
#include <cstdio>
#include <string>

#include "command.hpp"
#include "json.hpp"
#include "zinc.h"

namespace zinc::cli {
namespace {

int run(const Invocation& call) {
  const std::string& name = call.args[0];
  uint64_t count = 1;
  int exit_code = kExitOk;
  if (!call.number("--count", &count, &exit_code)) return exit_code;
  ZincHandle handle = nullptr;
  if (const int32_t code = zinc_open(name.c_str(), &handle); code != ZINC_OK) {
    return call.fail_zinc(code);
  }
  for (uint64_t i = 0; i < count; ++i) zinc_notify(handle);
  zinc_close(handle);
  ZincHeaderInfo header{};
  const bool known = zinc_inspect(name.c_str(), &header) == ZINC_OK;
  if (call.json()) {
    Json json;
    json.begin_object().key("name").value(name).key("notified").value(count).key("sequence");
    if (known)
      json.value(header.notify_seq);
    else
      json.null();
    json.end_object().print();
  } else if (known) {
    std::printf("notified region '%s' %llu time%s; its sequence is now %u\n", name.c_str(),
                static_cast<unsigned long long>(count), count == 1 ? "" : "s", header.notify_seq);
  } else {
    std::printf("notified region '%s' %llu time%s\n", name.c_str(),
                static_cast<unsigned long long>(count), count == 1 ? "" : "s");
  }
  return kExitOk;
}

}  // namespace

const Command kNotify = {
    "notify",
    "zinc notify NAME [--count N] [--json]",
    "Publish a notification to a region, waking its waiters.",
    R"(
Opens region NAME, calls zinc_notify (N times with --count), closes it, and
prints the region's notification sequence number afterwards. Waiters in
every process wake up; several notifications before a waiter runs coalesce
into one wake-up (a region is not a queue).

Options:
  --count N  notify N times (default 1; 0 just opens and closes)
  --json     {"name": ..., "notified": n, "sequence": n}

Exit status: 0 notified; 2 invalid name or option; 3 no such region;
4 not a valid region; 6 permission denied; 7 other errors.
)",
    {{"--count", "N"}, {"--json", nullptr}},
    1,
    1,
    run,
};

}  // namespace zinc::cli
