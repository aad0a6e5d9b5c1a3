// A C++ writer for the bridge tests (python/tests/test_bridge.py), built by
// the test against the installed package's zinc.h and libzinc_core.
//
//   bridge_writer NAME MODE FRAMES [DTYPE:]SHAPE [HZ]
//
// Creates channel NAME (MODE lossless|latest, typed frames of SHAPE, e.g.
// "64" or "1080,1920,3", of DTYPE elements, "|u1" if not given, e.g.
// "<u2:8,4"; 8 slots, 4 readers), prints "ready", waits
// until a reader has joined (the bridge), then commits FRAMES frames (HZ per
// second if given, else as fast as the ring allows), prints "done N" and
// closes the channel. Frame i is checkable on its own (bridge_reader.py):
//   bytes 0..7   i, little-endian u64
//   bytes 8..11  CRC-32 (zlib's) of bytes 12..end
//   bytes 12..   (i * 131 + k * 7 + k / 256) % 256 for byte k
#include <time.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "zinc.h"

namespace {

[[noreturn]] void die(const char* what, int32_t rc) {
  std::fprintf(stderr, "bridge_writer: %s failed: %d %s\n", what, rc, zinc_last_error_message());
  std::exit(1);
}

uint32_t crc32(const uint8_t* data, uint64_t length) {
  static const auto table = [] {
    struct Table {
      uint32_t entry[256];
    } t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int bit = 0; bit < 8; ++bit) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
      t.entry[n] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (uint64_t i = 0; i < length; ++i) crc = table.entry[(crc ^ data[i]) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}

void fill(uint8_t* data, uint64_t length, uint64_t index) {
  for (uint64_t k = 12; k < length; ++k)
    data[k] = static_cast<uint8_t>((index * 131 + k * 7 + k / 256) % 256);
  std::memcpy(data, &index, 8);  // little-endian on every platform zinc runs on
  const uint32_t crc = crc32(data + 12, length - 12);
  std::memcpy(data + 8, &crc, 4);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: bridge_writer NAME lossless|latest FRAMES [DTYPE:]SHAPE [HZ]\n");
    return 2;
  }
  const char* name = argv[1];
  const std::string mode = argv[2];
  const uint64_t frames = std::strtoull(argv[3], nullptr, 10);
  const double hz = argc > 5 ? std::atof(argv[5]) : 0;
  ZincChannelFrameType type{};
  const char* shape = argv[4];
  if (const char* colon = std::strchr(shape, ':'); colon != nullptr && colon - shape < 8) {
    std::memcpy(type.dtype, shape, static_cast<size_t>(colon - shape));
    shape = colon + 1;
  } else {
    std::strcpy(type.dtype, "|u1");
  }
  for (const char* p = shape; *p != '\0' && type.ndim < ZINC_CHANNEL_MAX_DIMS; ++type.ndim) {
    char* end = nullptr;
    type.shape[type.ndim] = std::strtoull(p, &end, 10);
    p = *end == ',' ? end + 1 : end;
  }
  ZincChannel channel = nullptr;
  const uint32_t mode_value = mode == "latest" ? ZINC_CHANNEL_LATEST : ZINC_CHANNEL_LOSSLESS;
  if (int32_t rc = zinc_channel_create_typed(name, mode_value, 8, &type, 4, 0, &channel); rc != 0)
    die("create", rc);
  std::printf("ready\n");
  std::fflush(stdout);
  for (;;) {
    ZincChannelInfo info{};
    if (int32_t rc = zinc_channel_info(channel, &info); rc != 0) die("info", rc);
    if (info.readers > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < frames; ++i) {
    if (hz > 0) std::this_thread::sleep_until(start + std::chrono::duration<double>(i / hz));
    ZincChannelFrame frame{};
    int32_t rc;
    while ((rc = zinc_channel_acquire(channel, 1000, &frame)) == ZINC_ETIMEDOUT) {
    }
    if (rc != 0) die("acquire", rc);
    if (frame.length < 12) die("a frame of at least 12 bytes", ZINC_EINVAL);
    fill(frame.data, frame.length, i);
    if (rc = zinc_channel_commit(channel, frame.length); rc != 0) die("commit", rc);
  }
  std::printf("done %llu\n", static_cast<unsigned long long>(frames));
  std::fflush(stdout);
  zinc_channel_close(channel);
  return 0;
}
