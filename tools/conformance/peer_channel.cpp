#include "peer_channel.hpp"

#include <cstdio>
#include <string_view>

#include "channel_support.hpp"
#include "format.hpp"

namespace zinc::conformance {
namespace {

bool has_channels(const Api& zinc) {
  for (const std::string& name : channel_functions()) {
    if (!zinc.has(name)) return false;
  }
  return true;
}

}  // namespace

bool serve_channel_command(const Api& zinc, const std::string& op, std::istringstream& in,
                           ZincChannel* channel) {
  if (op.rfind("channel_", 0) != 0) return false;
  if (!has_channels(zinc)) {
    std::printf("rc none\n");
    return true;
  }
  if (op == "channel_create") {
    std::string name;
    uint32_t mode = 0, slots = 0, readers = 0, flags = 0;
    unsigned long long size = 0;
    in >> name >> mode >> slots >> size >> readers >> flags;
    std::printf("rc %d\n",
                zinc.channel_create(name.c_str(), mode, slots, size, readers, flags, channel));
  } else if (op == "channel_open_writer" || op == "channel_open_reader") {
    std::string name;
    in >> name;
    std::printf("rc %d\n", op == "channel_open_writer"
                               ? zinc.channel_open_writer(name.c_str(), channel)
                               : zinc.channel_open_reader(name.c_str(), channel));
  } else if (op == "channel_write") {
    uint32_t timeout = 0, seed = 0;
    unsigned long long length = 0;
    in >> timeout >> length >> seed;
    uint64_t sequence = 0;
    const int32_t rc = write_frame(zinc, *channel, timeout, length, seed, &sequence);
    std::printf("rc %d seq %llu\n", rc, static_cast<unsigned long long>(rc == 0 ? sequence : 0));
  } else if (op == "channel_read") {
    uint32_t timeout = 0;
    in >> timeout;
    const ReadFrame r = read_frame(zinc, *channel, timeout);
    if (r.rc != 0) {
      std::printf("rc %d\n", r.rc);
    } else {
      std::printf("frame %llu %llu %s\n", static_cast<unsigned long long>(r.sequence),
                  static_cast<unsigned long long>(r.length), hex(r.hash).c_str());
    }
  } else if (op == "channel_close") {
    zinc.channel_close(*channel);
    *channel = nullptr;
    std::printf("ok\n");
  } else {
    std::printf("unknown command '%s'\n", op.c_str());
  }
  return true;
}

}  // namespace zinc::conformance
