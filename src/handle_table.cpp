// The process's handle tables: one per kind of handle, each with its tag and
// the way to cancel its objects' blocking calls.
#include "handle_table.hpp"

#include "channel.hpp"
#include "region.hpp"
#include "wait_set.hpp"

namespace zinc::core {

HandleTable<Region>& region_handles() {
  static auto* table = new HandleTable<Region>(0x5, [](Region& region) { region.cancel_waits(); });
  return *table;
}

HandleTable<Channel>& channel_handles() {
  static auto* table = new HandleTable<Channel>(0x9, [](Channel& channel) { channel.cancel(); });
  return *table;
}

HandleTable<WaitSet>& wait_set_handles() {
  static auto* table = new HandleTable<WaitSet>(0xD, [](WaitSet& set) { set.cancel(); });
  return *table;
}

}  // namespace zinc::core
