// A downstream program built against an installed zinc: it includes every
// public header from the install prefix and uses a region, a channel and a
// wait set once each.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <zinc/channel.hpp>
#include <zinc/wait_set.hpp>
#include <zinc/zinc.hpp>

int main() {
  using namespace std::chrono_literals;
  const std::string name = "consumer-" + std::to_string(getpid());
  zinc::Region region = zinc::Region::create(name, zinc::page_size());
  region.notify();
  if (!region.try_wait()) return 1;

  auto writer = zinc::ChannelWriter::create(name + "-channel", {.slot_count = 2, .slot_size = 64});
  auto reader = zinc::ChannelReader::open(name + "-channel");
  zinc::WaitSet set;
  set.add(reader, 7);
  auto frame = writer.acquire(1s);
  if (!frame) return 2;
  frame->as<char>()[0] = 'z';
  writer.commit(*frame, 1);
  const std::vector<uint64_t> ready = set.wait(1s);
  if (ready.size() != 1 || ready[0] != 7) return 3;
  auto got = reader.read(0ms);
  if (!got || got->as<char>()[0] != 'z') return 4;

  std::printf("consumer ok: %zu bytes, abi 0x%08x, frame %llu through a wait set\n",
              region.capacity(), zinc_version(),
              static_cast<unsigned long long>(got->sequence()));
  return 0;
}
