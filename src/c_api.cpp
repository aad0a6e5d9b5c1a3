// The extern "C" surface: argument and handle checks, error codes, and the
// thread's last error message. Everything else is in Region.
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include <vector>

#include "handle_table.hpp"
#include "header.hpp"
#include "inspect.hpp"
#include "liveness.hpp"
#include "name.hpp"
#include "posix.hpp"
#include "region.hpp"
#include "stale.hpp"
#include "zinc.h"

namespace {

thread_local std::string last_error;

int32_t fail(const zinc::core::Status& status) {
  last_error = status.message;
  return status.code;
}

int32_t fail(int32_t code, const char* message) { return fail(zinc::core::Status::error(code, message)); }

// The name as a view, or an error for NULL. Non-ASCII bytes (so any non
// UTF-8) are rejected by the name rule itself.
zinc::core::Status c_name(const char* name, std::string_view* out) {
  if (name == nullptr) return zinc::core::Status::error(ZINC_EINVAL, "name is NULL");
  *out = name;
  return zinc::core::Status::ok();
}

// Every call holds a pin on its handle (src/handle_table.hpp), so a close
// from another thread waits for it instead of freeing the region under it.
using RegionPin = zinc::core::HandleTable<zinc::core::Region>::Pin;
zinc::core::HandleTable<zinc::core::Region>& regions() { return zinc::core::region_handles(); }

template <typename Make>
int32_t make_handle(ZincHandle* out, const char* name, Make make) {
  if (out == nullptr) return fail(ZINC_EINVAL, "out pointer is NULL");
  *out = nullptr;
  std::string_view view;
  if (zinc::core::Status s = c_name(name, &view); !s.is_ok()) return fail(s);
  std::unique_ptr<zinc::core::Region> region;
  if (zinc::core::Status s = make(view, &region); !s.is_ok()) return fail(s);
  ZincHandle handle = regions().insert(std::move(region));
  if (handle == nullptr) return fail(-12, "too many open zinc handles in this process");
  *out = handle;
  return ZINC_OK;
}

constexpr const char* kBadHandle = "handle is NULL or already closed";

}  // namespace

extern "C" {

int32_t zinc_create_ex(const char* aName, uintptr_t aCapacity, uint32_t aFlags, ZincHandle* aOut) {
  return make_handle(aOut, aName, [&](std::string_view name, std::unique_ptr<zinc::core::Region>* r) {
    return zinc::core::Region::create(name, aCapacity, aFlags, r);
  });
}

int32_t zinc_create(const char* aName, uintptr_t aCapacity, ZincHandle* aOut) {
  return zinc_create_ex(aName, aCapacity, ZINC_CREATE_DEFAULT, aOut);
}

int32_t zinc_open(const char* aName, ZincHandle* aOut) {
  return make_handle(aOut, aName, [](std::string_view name, std::unique_ptr<zinc::core::Region>* r) {
    return zinc::core::Region::open(name, r);
  });
}

uint8_t* zinc_ptr(ZincHandle aH) {
  RegionPin region(regions(), aH);
  return region.get() == nullptr ? nullptr : region->data();
}

uintptr_t zinc_capacity(ZincHandle aH) {
  RegionPin region(regions(), aH);
  return region.get() == nullptr ? 0 : region->capacity();
}

const char* zinc_name(ZincHandle aH) {
  RegionPin region(regions(), aH);
  return region.get() == nullptr ? nullptr : region->name().c_str();
}

void zinc_close(ZincHandle aH) {
  if (aH != nullptr && !regions().close(aH)) fail(ZINC_EINVAL, kBadHandle);
}

void zinc_notify(ZincHandle aH) {
  RegionPin region(regions(), aH);
  if (region.get() != nullptr) region->notify();
}

int32_t zinc_wait(ZincHandle aH, uint32_t aTimeoutMs) {
  RegionPin region(regions(), aH);
  if (region.get() == nullptr) return fail(ZINC_EINVAL, kBadHandle);
  const int32_t code = region->wait(aTimeoutMs);
  if (code == ZINC_ECANCELED) return fail(code, "the handle was closed while waiting");
  if (code != ZINC_OK && code != ZINC_ETIMEDOUT) {
    return fail(code, (std::string("futex wait failed: ") + std::strerror(-code)).c_str());
  }
  return code;
}

int32_t zinc_try_wait(ZincHandle aH) {
  RegionPin region(regions(), aH);
  if (region.get() == nullptr) return fail(ZINC_EINVAL, kBadHandle);
  return region->try_wait();
}

uint32_t zinc_version(void) { return ZINC_ABI_VERSION; }

uintptr_t zinc_page_size(void) { return zinc::core::posix::page_size(); }

const char* zinc_last_error_message(void) { return last_error.c_str(); }

const char* zinc_strerror(int32_t aCode) {
  switch (aCode) {
    case ZINC_OK: return "success";
    case ZINC_EPERM: return "permission denied";
    case ZINC_ENOENT: return "no such region";
    case ZINC_EAGAIN: return "not ready: nothing pending, or the region is still being created";
    case ZINC_EBUSY: return "region is in use (its creator is alive, or processes map it)";
    case ZINC_EEXIST: return "region already exists";
    case ZINC_EINVAL: return "invalid argument";
    case ZINC_ENOSPC: return "no space left for the region in shared memory";
    case ZINC_EPIPE: return "the channel's writer is gone and the channel was closed";
    case ZINC_ENOMSG: return "the region holds no channel";
    case ZINC_EBADMSG: return "not a valid zinc region (corrupted or truncated)";
    case ZINC_ETIMEDOUT: return "timed out";
    case ZINC_ESTALE: return "this handle's channel role was taken over; close it";
    case ZINC_ECANCELED: return "wait cancelled: the handle was closed";
    default: break;
  }
  if (aCode < 0 && aCode > -4096) {
    // Pass-through OS errors (Linux errnos are below 4096); glibc's text for
    // a known errno is static.
    return std::strerror(-aCode);
  }
  return "unknown zinc code";
}

int32_t zinc_check_header(const uint8_t* aBytes, uintptr_t aLen, uint64_t aObjectSize,
                          uintptr_t aPageSize, ZincHeaderInfo* aOut) {
  if (aBytes == nullptr) return fail(ZINC_EINVAL, "bytes is NULL");
  if (aLen < ZINC_HEADER_SIZE) return fail(ZINC_EINVAL, "fewer than 64 header bytes given");
  const size_t page = aPageSize == 0 ? zinc::core::posix::page_size() : aPageSize;
  if (page < ZINC_HEADER_SIZE || (page & (page - 1)) != 0) {
    return fail(ZINC_EINVAL, "page size must be a power of two of at least 64");
  }
  if (aOut != nullptr) *aOut = zinc::core::decode_header(aBytes);
  const zinc::core::Status s = zinc::core::validate_header(aBytes, aObjectSize, page);
  return s.is_ok() ? ZINC_OK : fail(s);
}

int32_t zinc_inspect(const char* aName, ZincHeaderInfo* aOut) {
  std::string_view name;
  if (zinc::core::Status s = c_name(aName, &name); !s.is_ok()) return fail(s);
  zinc::core::Inspection region;
  const zinc::core::Status s = zinc::core::inspect_object(name, &region);
  if (aOut != nullptr && region.has_header) *aOut = region.header;
  return s.is_ok() ? ZINC_OK : fail(s);
}

int32_t zinc_set_spin(ZincHandle aH, uint32_t aSpinUs) {
  RegionPin region(regions(), aH);
  if (region.get() == nullptr) return fail(ZINC_EINVAL, kBadHandle);
  if (aSpinUs > ZINC_MAX_SPIN_US) {
    return fail(ZINC_EINVAL, ("spin limit " + std::to_string(aSpinUs) +
                              " us is above the maximum " + std::to_string(ZINC_MAX_SPIN_US))
                                 .c_str());
  }
  region->set_spin_limit_us(aSpinUs);
  return ZINC_OK;
}

uint32_t zinc_get_spin(ZincHandle aH) {
  RegionPin region(regions(), aH);
  return region.get() == nullptr ? 0 : region->spin_policy().limit_us();
}

uint64_t zinc_name_hash(const char* aName) {
  return aName == nullptr ? 0 : zinc::core::name_hash(aName);
}

int32_t zinc_creator_state(const char* aName) {
  std::string_view name;
  if (zinc::core::Status s = c_name(aName, &name); !s.is_ok()) return fail(s);
  zinc::core::Inspection region;
  if (zinc::core::Status s = zinc::core::inspect_object(name, &region); !s.is_ok()) return fail(s);
  return static_cast<int32_t>(zinc::core::creator_of(region));
}

int32_t zinc_mapped_by(const char* aName, int32_t* aPids, uintptr_t aMax) {
  std::string_view name;
  if (zinc::core::Status s = c_name(aName, &name); !s.is_ok()) return fail(s);
  if (aPids == nullptr && aMax != 0) return fail(ZINC_EINVAL, "pids is NULL but max is not 0");
  // Any object under the name, valid region or not: only its identity counts.
  zinc::core::Inspection region;
  const zinc::core::Status inspected = zinc::core::inspect_object(name, &region);
  if (!region.identified) return fail(inspected);
  std::vector<int32_t> pids;
  if (zinc::core::Status s = zinc::core::posix::find_mappers(region.id, &pids); !s.is_ok()) {
    return fail(s);
  }
  for (size_t i = 0; i < pids.size() && i < aMax; ++i) aPids[i] = pids[i];
  return static_cast<int32_t>(pids.size());
}

int32_t zinc_remove_stale(const char* aName, uint32_t aFlags) {
  std::string_view name;
  if (zinc::core::Status s = c_name(aName, &name); !s.is_ok()) return fail(s);
  const zinc::core::Status s = zinc::core::remove_stale(name, aFlags);
  return s.is_ok() ? ZINC_OK : fail(s);
}

}  // extern "C"

// For the other extern "C" files (channel_c_api.cpp): records a failure
// behind zinc_last_error_message and returns its code.
namespace zinc::core {
int32_t record_failure(const Status& status) { return fail(status); }
}  // namespace zinc::core
