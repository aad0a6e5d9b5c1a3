#include <unistd.h>

#include <cstdio>
#include <string>
#include <zinc/zinc.hpp>

int main() {
  const std::string name = "consumer-" + std::to_string(getpid());
  zinc::Region region = zinc::Region::create(name, zinc::page_size());
  region.notify();
  if (!region.try_wait()) return 1;
  std::printf("consumer ok: %zu bytes, abi 0x%08x\n", region.capacity(), zinc_version());
  return 0;
}
