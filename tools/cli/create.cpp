// zinc create NAME SIZE: create a region and hold it until Ctrl-C/SIGTERM,
// or leave it behind with --detach.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "command.hpp"
#include "json.hpp"
#include "stop_signals.hpp"
#include "zinc.h"

namespace zinc::cli {
namespace {

// "4096", "64K", "1M", "2G" (binary units; "KiB" etc. too). False if malformed.
bool parse_size(const std::string& text, uint64_t* out) {
  if (text.empty() || text[0] < '0' || text[0] > '9') return false;
  errno = 0;
  char* end = nullptr;
  const unsigned long long number = std::strtoull(text.c_str(), &end, 10);
  if (errno == ERANGE) return false;
  const std::string unit = end;
  unsigned shift = 0;
  if (unit.empty() || unit == "B")
    shift = 0;
  else if (unit == "K" || unit == "k" || unit == "KiB")
    shift = 10;
  else if (unit == "M" || unit == "m" || unit == "MiB")
    shift = 20;
  else if (unit == "G" || unit == "g" || unit == "GiB")
    shift = 30;
  else
    return false;
  if (shift != 0 && number > (UINT64_MAX >> shift)) return false;
  *out = number << shift;
  return true;
}

int run(const Invocation& call) {
  const std::string& name = call.args[0];
  uint64_t size = 0;
  if (!parse_size(call.args[1], &size)) {
    return call.fail(kExitUsage, "size '" + call.args[1] +
                                     "' is not a number of bytes (e.g. 4096, 64K, 1M, 2G)");
  }
  uint32_t flags = ZINC_CREATE_DEFAULT;
  if (call.has("--replace-stale")) flags |= ZINC_CREATE_REPLACE_STALE;
  if (call.has("--prefault")) flags |= ZINC_CREATE_PREFAULT;
  if (call.has("--no-reserve")) flags |= ZINC_CREATE_NORESERVE;
  const bool detach = call.has("--detach");

  // Signals are blocked before anything else so a Ctrl-C right after the
  // create still ends in a clean close.
  StopSignals stop;
  ZincHandle handle = nullptr;
  if (const int32_t code = zinc_create_ex(name.c_str(), size, flags, &handle); code != ZINC_OK) {
    return call.fail_zinc(code);
  }
  const int pid = static_cast<int>(getpid());
  if (call.json()) {
    Json json;
    json.begin_object().key("event").value("created").key("name").value(name);
    json.key("capacity").value(uint64_t{zinc_capacity(handle)}).key("pid").value(pid);
    json.key("detached").value(detach).end_object().print();
  } else if (detach) {
    std::printf(
        "created region '%s' (%zu bytes) and left it behind: it stays until "
        "'zinc rm %s' (or 'zinc gc', to which it is stale once nothing maps it)\n",
        name.c_str(), static_cast<size_t>(zinc_capacity(handle)), name.c_str());
  } else {
    std::printf("created region '%s' (%zu bytes), pid %d; holding it until Ctrl-C or SIGTERM\n",
                name.c_str(), static_cast<size_t>(zinc_capacity(handle)), pid);
  }
  std::fflush(stdout);
  // Detached: exit without zinc_close, so the name is not unlinked. The
  // header's owner_pid is this process, which is gone a moment later.
  if (detach) return kExitOk;

  const int signal_number = stop.wait();
  zinc_close(handle);  // the owner's close unlinks the name
  if (call.json()) {
    Json json;
    json.begin_object().key("event").value("closed").key("name").value(name);
    json.key("signal").value(signal_number).end_object().print();
  } else {
    std::printf("closed region '%s' and removed its name (signal %d)\n", name.c_str(),
                signal_number);
  }
  return kExitOk;
}

}  // namespace

const Command kCreate = {
    "create",
    "zinc create NAME SIZE [--detach] [--replace-stale] [--prefault | --no-reserve] [--json]",
    "Create a region and hold it until Ctrl-C or SIGTERM.",
    R"(
Creates region NAME with SIZE usable bytes (a multiple of the page size;
4096, 64K, 1M and 2G are accepted). A region lives as long as its creator
holds it, so by default this command stays in the foreground holding the
region (other processes can open it, notify and wait) until Ctrl-C, SIGTERM
or SIGHUP; then it closes the region, which removes the name.

Options:
  --detach         create the region and exit at once without closing it, so
                   the name stays until 'zinc rm NAME'. Stale by design: the
                   region's creator (this command) is dead, so 'zinc ls'
                   shows it as stale (or orphaned while something maps it),
                   'zinc gc' removes it once nothing maps it, and a create
                   with --replace-stale (ZINC_CREATE_REPLACE_STALE) replaces it.
  --replace-stale  if NAME is taken by a stale region (valid region, creator
                   dead), replace it; a live creator's region or an object
                   that is not a valid region is never replaced
  --prefault       populate the pages at once (ZINC_CREATE_PREFAULT)
  --no-reserve     do not reserve the pages in /dev/shm (ZINC_CREATE_NORESERVE):
                   only written pages take memory, but a write that /dev/shm
                   has no room for kills the writer with SIGBUS
  --json           JSON events on stdout: {"event": "created", ...} and, when
                   held, {"event": "closed", "signal": n}

Output: one line when created (stdout, flushed), one when closed.

Exit status: 0 created (and, unless --detach, closed on a signal);
2 invalid name or size; 5 the name is taken; 6 permission denied;
7 other errors (for example no space in /dev/shm).
)",
    {{"--detach", nullptr},
     {"--replace-stale", nullptr},
     {"--prefault", nullptr},
     {"--no-reserve", nullptr},
     {"--json", nullptr}},
    2,
    2,
    run,
};

}  // namespace zinc::cli
