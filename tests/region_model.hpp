// An in-memory model of the region protocol as docs/spec.md states it: what
// every create, open, close, notify, try_wait and wait(0) must return, and
// what the header then holds. It knows nothing of zinc's code; the API
// sequence fuzzer and the stateful property tests run the real library next
// to it and compare every result.
//
// Handles and names are small integers chosen by the caller. Regions are
// never forgotten: a region whose name was unlinked lives on for the handles
// that still map it.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "zinc.h"

namespace zinc::model {

struct Region {
  int name = 0;
  uint64_t capacity = 0;
  uint32_t seq = 0;        // notify_seq
  uint32_t ref_count = 1;  // 1 at create, +1 per open, -1 per close
  // The waiter-count block (docs/spec.md §9) when every handle is a libzinc
  // handle: counted_handles equals ref_count, and counted_changes counts the
  // opens and closes since the create.
  uint32_t counted_changes = 0;
  int owner = -1;                       // the owner's handle
  bool linked = true;                   // the name still refers to this region
  std::map<uint64_t, uint8_t> written;  // data bytes not zero
};

struct Handle {
  int region = -1;
  bool owner = false;
  uint32_t cursor = 0;  // starts at 0 at create and at open (spec §5.2)
  bool open = true;
};

class Protocol {
 public:
  Protocol(uint64_t page_size, int names) : page_(page_size), named_(names, -1) {}

  // create(name, capacity, flags): the new handle's id in *handle on success.
  int32_t create(int name, uint64_t capacity, int* handle, uint32_t flags = 0) {
    if (capacity == 0 || capacity % page_ != 0) return ZINC_EINVAL;
    if ((flags & ~uint32_t{ZINC_CREATE_PREFAULT | ZINC_CREATE_REPLACE_STALE}) != 0) {
      return ZINC_EINVAL;
    }
    if (named_[name] >= 0) return ZINC_EEXIST;
    Region region;
    region.name = name;
    region.capacity = capacity;
    regions_.push_back(region);
    named_[name] = static_cast<int>(regions_.size()) - 1;
    add_handle(named_[name], true, handle);
    regions_.back().owner = *handle;
    return ZINC_OK;
  }

  int32_t open(int name, int* handle) {
    if (named_[name] < 0) return ZINC_ENOENT;
    ++regions_[named_[name]].ref_count;
    ++regions_[named_[name]].counted_changes;
    return add_handle(named_[name], false, handle);
  }

  // Closing a closed handle is a detected no-op.
  void close(int handle) {
    if (!is_open(handle)) return;
    Handle& h = handles_[handle];
    Region& r = regions_[h.region];
    if (r.ref_count > 0) --r.ref_count;
    ++r.counted_changes;
    if (h.owner && r.linked) {  // the owner unlinks its own region only
      r.linked = false;
      named_[r.name] = -1;
    }
    h.open = false;
  }

  void notify(int handle) {
    if (is_open(handle)) ++mutable_region(handle).seq;
  }

  int32_t try_wait(int handle) {
    if (!is_open(handle)) return ZINC_EINVAL;
    Handle& h = handles_[handle];
    const uint32_t seq = regions_[h.region].seq;
    if (seq == h.cursor) return ZINC_EAGAIN;
    h.cursor = seq;  // coalescing: every change so far, consumed at once
    return ZINC_OK;
  }

  // wait with timeout 0 checks once.
  int32_t wait_zero(int handle) {
    const int32_t rc = try_wait(handle);
    return rc == ZINC_EAGAIN ? ZINC_ETIMEDOUT : rc;
  }

  void write(int handle, uint64_t offset, uint8_t value) {
    Region& r = mutable_region(handle);
    if (value == 0) {
      r.written.erase(offset);
    } else {
      r.written[offset] = value;
    }
  }

  uint8_t read(int handle, uint64_t offset) const {
    const Region& r = regions_[handles_[handle].region];
    const auto it = r.written.find(offset);
    return it == r.written.end() ? 0 : it->second;
  }

  // Sets notify_seq directly, as a test may through the header.
  void set_seq(int handle, uint32_t seq) { mutable_region(handle).seq = seq; }

  // zinc_inspect(name): ZINC_ENOENT or ZINC_OK with these fields.
  int32_t inspect(int name, ZincHeaderInfo* info) const {
    if (named_[name] < 0) return ZINC_ENOENT;
    const Region& r = regions_[named_[name]];
    *info = ZincHeaderInfo{};
    info->notify_seq = r.seq;
    info->capacity = r.capacity;
    info->ref_count = r.ref_count;
    return ZINC_OK;
  }

  bool is_open(int handle) const {
    return handle >= 0 && handle < static_cast<int>(handles_.size()) && handles_[handle].open;
  }
  bool name_exists(int name) const { return named_[name] >= 0; }
  // The region a name refers to now; only valid if name_exists(name).
  const Region& named_region(int name) const { return regions_[named_[name]]; }
  uint64_t capacity(int handle) const { return regions_[handles_[handle].region].capacity; }
  const Handle& handle(int handle) const { return handles_[handle]; }
  const Region& region_of(int handle) const { return regions_[handles_[handle].region]; }
  int handle_count() const { return static_cast<int>(handles_.size()); }

 private:
  int32_t add_handle(int region, bool owner, int* handle) {
    Handle h;
    h.region = region;
    h.owner = owner;
    handles_.push_back(h);
    *handle = static_cast<int>(handles_.size()) - 1;
    return ZINC_OK;
  }
  Region& mutable_region(int handle) { return regions_[handles_[handle].region]; }

  uint64_t page_;
  std::vector<int> named_;  // name -> region index, or -1
  std::vector<Region> regions_;
  std::vector<Handle> handles_;
};

}  // namespace zinc::model
