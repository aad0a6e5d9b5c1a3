#include "handle_table.hpp"

#include <pthread.h>
#include <time.h>

#include <array>
#include <atomic>
#include <mutex>
#include <vector>

namespace zinc::core::handles {

// One handle slot. `generation` is odd while the slot holds a live region.
struct Slot {
  std::atomic<uint64_t> generation{0};
  std::atomic<Region*> region{nullptr};
  std::atomic<uint32_t> pins{0};
};

namespace {

// Handle value layout (64-bit): generation << 24 | index << 4 | kTag.
// The tag keeps every value non-NULL and never a plausible pointer.
constexpr uintptr_t kTag = 0x5;
constexpr unsigned kIndexBits = 20;
constexpr uint32_t kChunkSize = 4096;
constexpr uint32_t kMaxChunks = (1u << kIndexBits) / kChunkSize;
constexpr uint64_t kGenerationMask = (uint64_t{1} << 40) - 1;
static_assert(sizeof(uintptr_t) == 8, "handle encoding assumes 64-bit pointers");

struct Table {
  std::array<std::atomic<Slot*>, kMaxChunks> chunks{};
  std::mutex mutex;  // guards free_slots and chunk creation
  std::vector<uint32_t> free_slots;
  uint32_t slots_made = 0;
};

// fork() copies the table as it is: a mutex another thread held, and pins
// of waits running in threads the child does not have. The handlers take
// the mutex across the fork and, in the child, where only the forking
// thread exists, drop every pin so that a close there never waits for them.
void lock_for_fork();
void unlock_after_fork();
void reset_in_child();

Table& table() {
  static Table* instance = [] {
    auto* t = new Table;  // never destroyed: handles may outlive statics
    pthread_atfork(lock_for_fork, unlock_after_fork, reset_in_child);
    return t;
  }();
  return *instance;
}

void lock_for_fork() {
  table().mutex.lock();
}
void unlock_after_fork() {
  table().mutex.unlock();
}
void reset_in_child() {
  Table& t = table();
  for (uint32_t index = 0; index < t.slots_made; ++index) {
    Slot* chunk = t.chunks[index / kChunkSize].load(std::memory_order_relaxed);
    chunk[index % kChunkSize].pins.store(0, std::memory_order_relaxed);
  }
  t.mutex.unlock();
}

uint32_t index_of(ZincHandle handle) {
  return (reinterpret_cast<uintptr_t>(handle) >> 4) & ((1u << kIndexBits) - 1);
}

ZincHandle encode(uint32_t index, uint64_t generation) {
  return reinterpret_cast<ZincHandle>((generation << 24) | (uintptr_t{index} << 4) | kTag);
}

// The slot a handle value names and the generation it expects, if the value
// is well formed.
Slot* decode(ZincHandle handle, uint64_t* generation) {
  const auto value = reinterpret_cast<uintptr_t>(handle);
  if ((value & 0xF) != kTag) return nullptr;
  const uint32_t index = index_of(handle);
  *generation = value >> 24;
  Slot* chunk = table().chunks[index / kChunkSize].load(std::memory_order_acquire);
  return chunk == nullptr ? nullptr : &chunk[index % kChunkSize];
}

}  // namespace

ZincHandle insert(std::unique_ptr<Region> region) {
  Table& t = table();
  std::lock_guard lock(t.mutex);
  uint32_t index;
  if (!t.free_slots.empty()) {
    index = t.free_slots.back();
    t.free_slots.pop_back();
  } else {
    if (t.slots_made == kMaxChunks * kChunkSize) return nullptr;
    index = t.slots_made++;
    if (index % kChunkSize == 0) {
      t.chunks[index / kChunkSize].store(new Slot[kChunkSize], std::memory_order_release);
    }
  }
  Slot& slot = t.chunks[index / kChunkSize].load(std::memory_order_relaxed)[index % kChunkSize];
  slot.region.store(region.release(), std::memory_order_relaxed);
  const uint64_t generation = slot.generation.load(std::memory_order_relaxed) + 1;  // now odd
  slot.generation.store(generation, std::memory_order_release);
  return encode(index, generation & kGenerationMask);
}

namespace {

bool generation_matches(const Slot& slot, uint64_t expected) {
  const uint64_t current = slot.generation.load(std::memory_order_seq_cst);
  return (current & 1) == 1 && (current & kGenerationMask) == expected;
}

}  // namespace

Region* find(ZincHandle handle) {
  uint64_t generation = 0;
  Slot* slot = decode(handle, &generation);
  if (slot == nullptr || !generation_matches(*slot, generation)) return nullptr;
  return slot->region.load(std::memory_order_acquire);
}

Pin::Pin(ZincHandle handle) {
  uint64_t generation = 0;
  Slot* slot = decode(handle, &generation);
  if (slot == nullptr) return;
  // Pin first, then check: close() bumps the generation first, then checks
  // the pins, so (seq_cst) at least one side sees the other.
  slot->pins.fetch_add(1, std::memory_order_seq_cst);
  if (!generation_matches(*slot, generation)) {
    slot->pins.fetch_sub(1, std::memory_order_release);
    return;
  }
  slot_ = slot;
  region_ = slot->region.load(std::memory_order_acquire);
}

Pin::~Pin() {
  if (slot_ != nullptr) slot_->pins.fetch_sub(1, std::memory_order_release);
}

bool close(ZincHandle handle) {
  uint64_t generation = 0;
  Slot* slot = decode(handle, &generation);
  if (slot == nullptr) return false;
  uint64_t current = slot->generation.load(std::memory_order_seq_cst);
  // Exactly one closer wins the odd -> even step.
  do {
    if ((current & 1) == 0 || (current & kGenerationMask) != generation) return false;
  } while (
      !slot->generation.compare_exchange_weak(current, current + 1, std::memory_order_seq_cst));

  Region* region = slot->region.load(std::memory_order_acquire);
  // No pin now means no wait is running on this handle, and none can start
  // (a new Pin sees the new generation), so there is nobody to cancel and
  // close costs no FUTEX_WAKE. Otherwise: a waiter can check `cancelled`
  // just before we set it and then sleep, so keep waking until every pinned
  // call has left.
  if (slot->pins.load(std::memory_order_seq_cst) != 0) {
    region->cancel_waits();
    while (slot->pins.load(std::memory_order_acquire) != 0) {
      const timespec pause{0, 200000};
      nanosleep(&pause, nullptr);
      region->cancel_waits();
    }
  }
  delete region;
  slot->region.store(nullptr, std::memory_order_relaxed);

  Table& t = table();
  std::lock_guard lock(t.mutex);
  t.free_slots.push_back(index_of(handle));
  return true;
}

}  // namespace zinc::core::handles
