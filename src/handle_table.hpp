// Maps the opaque handle values of the C ABI to live objects: ZincHandle to
// Region, ZincChannel to Channel, ZincWaitSet to WaitSet. One mechanism for
// every kind.
//
// A handle is not a pointer but (slot index, generation, tag): closing bumps
// the slot's generation, so a double close or a call on a closed handle
// finds a stale generation and is rejected instead of touching freed memory.
// The tag tells the kinds apart (a region handle given to a channel call is
// rejected) and keeps every value non-NULL and never a plausible pointer.
// Slots live in chunks that are never freed, so looking one up is always
// safe, and lookups take no lock.
//
// Every C call holds a Pin on its handle for its duration. close() makes the
// handle stale, then, while any call is still pinned, cancels the object's
// blocking calls again and again until every pinned call has left, and only
// then destroys the object. Cancelling once is not enough: a call can check
// its cancel flag just before close sets it and then go to sleep on a futex
// whose value the cancel does not change, missing the single wake-up.
#pragma once

#include <pthread.h>
#include <time.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace zinc::core {

namespace testing {
// Test seam: when set, HandleTable::close calls it after each round of
// cancelling a pinned object (tests/handle_close_test.cpp). Null in every
// real use.
inline void (*after_cancel_hook)() = nullptr;
}  // namespace testing

template <typename T>
class HandleTable {
  struct Slot;

 public:
  // `tag` (odd, below 16) marks this table's handle values; `cancel` makes
  // the object's current and future blocking calls return, and may be called
  // any number of times.
  HandleTable(uintptr_t tag, void (*cancel)(T&)) : tag_(tag), cancel_(cancel) {
    instance_ = this;  // one table per type: the fork handlers find it here
    pthread_atfork(lock_for_fork, unlock_after_fork, reset_in_child);
  }
  HandleTable(const HandleTable&) = delete;
  HandleTable& operator=(const HandleTable&) = delete;

  // Stores the object; nullptr if every slot is taken.
  void* insert(std::unique_ptr<T> object);

  // The live object behind `handle`, or nullptr for NULL, foreign or closed
  // handles, without a pin: only for a caller that knows no other thread
  // closes the handle meanwhile (tests reaching an object's internals).
  T* find(void* handle) const;

  // Keeps a handle's object alive for a call: close() cancels the object's
  // blocking calls and waits until every pin is gone.
  class Pin {
   public:
    Pin(const HandleTable& table, void* handle);
    Pin(const Pin&) = delete;
    Pin& operator=(const Pin&) = delete;
    ~Pin() {
      if (slot_ != nullptr) slot_->pins.fetch_sub(1, std::memory_order_release);
    }
    // Null when the handle is not live in this table.
    T* get() const { return object_; }
    T* operator->() const { return object_; }

   private:
    Slot* slot_ = nullptr;
    T* object_ = nullptr;
  };

  // Invalidates the handle, cancels the object's blocking calls until every
  // pinned call has left, then destroys the object. False if the handle was
  // not live (double close, foreign value).
  bool close(void* handle);

 private:
  // One handle slot. `generation` is odd while the slot holds a live object.
  struct Slot {
    std::atomic<uint64_t> generation{0};
    std::atomic<T*> object{nullptr};
    std::atomic<uint32_t> pins{0};
  };

  // Handle value layout (64-bit): generation << 24 | index << 4 | tag.
  static constexpr unsigned kIndexBits = 20;
  static constexpr uint32_t kChunkSize = 4096;
  static constexpr uint32_t kMaxChunks = (1u << kIndexBits) / kChunkSize;
  static constexpr uint64_t kGenerationMask = (uint64_t{1} << 40) - 1;
  static_assert(sizeof(uintptr_t) == 8, "handle encoding assumes 64-bit pointers");

  static uint32_t index_of(void* handle) {
    return (reinterpret_cast<uintptr_t>(handle) >> 4) & ((1u << kIndexBits) - 1);
  }
  void* encode(uint32_t index, uint64_t generation) const {
    return reinterpret_cast<void*>((generation << 24) | (uintptr_t{index} << 4) | tag_);
  }
  // The slot a handle value names and the generation it expects, if the
  // value is well formed and of this table's kind.
  Slot* decode(void* handle, uint64_t* generation) const {
    const auto value = reinterpret_cast<uintptr_t>(handle);
    if ((value & 0xF) != tag_) return nullptr;
    const uint32_t index = index_of(handle);
    *generation = value >> 24;
    Slot* chunk = chunks_[index / kChunkSize].load(std::memory_order_acquire);
    return chunk == nullptr ? nullptr : &chunk[index % kChunkSize];
  }
  static bool generation_matches(const Slot& slot, uint64_t expected) {
    const uint64_t current = slot.generation.load(std::memory_order_seq_cst);
    return (current & 1) == 1 && (current & kGenerationMask) == expected;
  }

  // fork() copies the table as it is: a mutex another thread held, and pins
  // of calls running in threads the child does not have. The handlers take
  // the mutex across the fork and, in the child, where only the forking
  // thread exists, drop every pin so that a close there never waits for them.
  static void lock_for_fork() { instance_->mutex_.lock(); }
  static void unlock_after_fork() { instance_->mutex_.unlock(); }
  static void reset_in_child() {
    HandleTable& t = *instance_;
    for (uint32_t index = 0; index < t.slots_made_; ++index) {
      Slot* chunk = t.chunks_[index / kChunkSize].load(std::memory_order_relaxed);
      chunk[index % kChunkSize].pins.store(0, std::memory_order_relaxed);
    }
    t.mutex_.unlock();
  }

  static inline HandleTable* instance_ = nullptr;

  const uintptr_t tag_;
  void (*const cancel_)(T&);
  std::array<std::atomic<Slot*>, kMaxChunks> chunks_{};
  std::mutex mutex_;  // guards free_slots_, slots_made_ and chunk creation
  std::vector<uint32_t> free_slots_;
  uint32_t slots_made_ = 0;
};

template <typename T>
void* HandleTable<T>::insert(std::unique_ptr<T> object) {
  std::lock_guard lock(mutex_);
  uint32_t index;
  if (!free_slots_.empty()) {
    index = free_slots_.back();
    free_slots_.pop_back();
  } else {
    if (slots_made_ == kMaxChunks * kChunkSize) return nullptr;
    index = slots_made_++;
    if (index % kChunkSize == 0) {
      chunks_[index / kChunkSize].store(new Slot[kChunkSize], std::memory_order_release);
    }
  }
  Slot& slot = chunks_[index / kChunkSize].load(std::memory_order_relaxed)[index % kChunkSize];
  slot.object.store(object.release(), std::memory_order_relaxed);
  const uint64_t generation = slot.generation.load(std::memory_order_relaxed) + 1;  // now odd
  slot.generation.store(generation, std::memory_order_release);
  return encode(index, generation & kGenerationMask);
}

template <typename T>
T* HandleTable<T>::find(void* handle) const {
  uint64_t generation = 0;
  Slot* slot = decode(handle, &generation);
  if (slot == nullptr || !generation_matches(*slot, generation)) return nullptr;
  return slot->object.load(std::memory_order_acquire);
}

template <typename T>
HandleTable<T>::Pin::Pin(const HandleTable& table, void* handle) {
  uint64_t generation = 0;
  Slot* slot = table.decode(handle, &generation);
  if (slot == nullptr) return;
  // Pin first, then check: close() bumps the generation first, then checks
  // the pins, so (seq_cst) at least one side sees the other.
  slot->pins.fetch_add(1, std::memory_order_seq_cst);
  if (!generation_matches(*slot, generation)) {
    slot->pins.fetch_sub(1, std::memory_order_release);
    return;
  }
  slot_ = slot;
  object_ = slot->object.load(std::memory_order_acquire);
}

template <typename T>
bool HandleTable<T>::close(void* handle) {
  uint64_t generation = 0;
  Slot* slot = decode(handle, &generation);
  if (slot == nullptr) return false;
  uint64_t current = slot->generation.load(std::memory_order_seq_cst);
  // Exactly one closer wins the odd -> even step.
  do {
    if ((current & 1) == 0 || (current & kGenerationMask) != generation) return false;
  } while (
      !slot->generation.compare_exchange_weak(current, current + 1, std::memory_order_seq_cst));

  T* object = slot->object.load(std::memory_order_acquire);
  // No pin now means no call is running on this handle, and none can start
  // (a new Pin sees the new generation), so there is nobody to cancel and
  // close costs no FUTEX_WAKE. Otherwise keep cancelling until every pinned
  // call has left (see the top of this file for why once is not enough).
  while (slot->pins.load(std::memory_order_seq_cst) != 0) {
    cancel_(*object);
    if (testing::after_cancel_hook != nullptr) testing::after_cancel_hook();
    if (slot->pins.load(std::memory_order_acquire) == 0) break;
    const timespec pause{0, 200000};
    nanosleep(&pause, nullptr);
  }
  delete object;
  slot->object.store(nullptr, std::memory_order_relaxed);

  std::lock_guard lock(mutex_);
  free_slots_.push_back(index_of(handle));
  return true;
}

// The process's tables, never destroyed (handles may outlive statics).
class Region;
class Channel;
class WaitSet;
HandleTable<Region>& region_handles();     // ZincHandle values, tag 5
HandleTable<Channel>& channel_handles();   // ZincChannel values, tag 9
HandleTable<WaitSet>& wait_set_handles();  // ZincWaitSet values, tag 13

}  // namespace zinc::core
