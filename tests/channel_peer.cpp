// A channel participant in its own process, for the tests that kill one
// with SIGKILL at a known point. It prints one line when it has reached
// that point, then sleeps until killed.
//   zinc_channel_peer reader NAME           joins as a reader, holds nothing
//   zinc_channel_peer reader-holding NAME   joins, reads one frame and holds it
//   zinc_channel_peer writer-mid-frame NAME BYTE COUNT
//       joins as the writer, commits COUNT frames filled with BYTE, then
//       acquires the next slot and fills half of it with BYTE + 1
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "zinc.h"

namespace {

[[noreturn]] void die(const char* what, int32_t rc) {
  std::printf("error %s %d %s\n", what, rc, zinc_last_error_message());
  std::fflush(stdout);
  std::exit(1);
}

[[noreturn]] void report_and_sleep(const char* line) {
  std::printf("%s\n", line);
  std::fflush(stdout);
  for (;;) pause();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s reader|reader-holding|writer-mid-frame NAME ...\n", argv[0]);
    return 2;
  }
  const std::string role = argv[1];
  const char* name = argv[2];
  ZincChannel channel = nullptr;
  if (role == "reader" || role == "reader-holding") {
    if (int32_t rc = zinc_channel_open_reader(name, &channel); rc != 0) die("open_reader", rc);
    if (role == "reader-holding") {
      ZincChannelFrame frame{};
      if (int32_t rc = zinc_channel_read(channel, 5000, &frame); rc != 0) die("read", rc);
    }
    report_and_sleep("ready");
  }
  if (role == "writer-mid-frame" && argc == 5) {
    const int byte = std::atoi(argv[3]);
    const int count = std::atoi(argv[4]);
    if (int32_t rc = zinc_channel_open_writer(name, &channel); rc != 0) die("open_writer", rc);
    ZincChannelFrame frame{};
    for (int i = 0; i < count; ++i) {
      if (int32_t rc = zinc_channel_acquire(channel, 5000, &frame); rc != 0) die("acquire", rc);
      std::memset(frame.data, byte, frame.length);
      if (int32_t rc = zinc_channel_commit(channel, frame.length); rc != 0) die("commit", rc);
    }
    if (int32_t rc = zinc_channel_acquire(channel, 5000, &frame); rc != 0) die("acquire", rc);
    std::memset(frame.data, byte + 1, frame.length / 2);
    report_and_sleep("mid-frame");
  }
  std::fprintf(stderr, "unknown role %s\n", role.c_str());
  return 2;
}
