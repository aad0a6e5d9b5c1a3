// Maps opaque ZincHandle values to live Regions.
//
// A handle is not a pointer but (slot index, generation): closing bumps the
// slot's generation, so a double close or a call on a closed handle finds a
// stale generation and is rejected instead of touching freed memory. Slots
// live in chunks that are never freed, so looking one up is always safe.
#pragma once

#include <cstdint>
#include <memory>

#include "region.hpp"
#include "zinc.h"

namespace zinc::core::handles {

// Stores the region; nullptr if every slot is taken.
ZincHandle insert(std::unique_ptr<Region> region);

// The live region behind `handle`, or nullptr for NULL, foreign or closed
// handles. Racing a close of the same handle is the caller's bug.
Region* find(ZincHandle handle);

// Keeps a handle's region alive across a blocking call: close() waits for
// every pin to be released, after cancelling the region's waits.
class Pin {
 public:
  explicit Pin(ZincHandle handle);
  Pin(const Pin&) = delete;
  Pin& operator=(const Pin&) = delete;
  ~Pin();
  Region* region() const { return region_; }

 private:
  struct Slot* slot_ = nullptr;
  Region* region_ = nullptr;
};

// Invalidates the handle, cancels its waits, waits for pins to drop, then
// destroys the region. False if the handle was not live (double close).
bool close(ZincHandle handle);

}  // namespace zinc::core::handles
