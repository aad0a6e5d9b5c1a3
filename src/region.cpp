#include "region.hpp"

#include <cstring>
#include <limits>

#include "futex.hpp"
#include "name.hpp"
#include "stale.hpp"
#include "zinc.h"

namespace zinc::core {
namespace {

Status validate_capacity(uint64_t capacity, size_t page) {
  // Overflow and addressability come first so a huge capacity is reported
  // as too large, not as misaligned.
  constexpr uint64_t kMaxObject = uint64_t{std::numeric_limits<std::ptrdiff_t>::max()};
  if (capacity > kMaxObject - page) {
    return Status::error(ZINC_EINVAL, "capacity " + std::to_string(capacity) +
                                          " is too large for one mapping");
  }
  if (capacity == 0) return Status::error(ZINC_EINVAL, "capacity must be positive");
  if (capacity % page != 0) {
    return Status::error(ZINC_EINVAL, "capacity " + std::to_string(capacity) +
                                          " is not a multiple of the page size " +
                                          std::to_string(page));
  }
  return Status::ok();
}

// "region 'x': why" -> "why", for messages that name the region already.
std::string without_name_prefix(const std::string& message, std::string_view name) {
  const std::string prefix = "region '" + std::string(name) + "': ";
  return message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message;
}

Status with_name(Status status, std::string_view name) {
  if (!status.is_ok()) status.message = "region '" + std::string(name) + "': " + status.message;
  return status;
}

}  // namespace

Region::Region(std::string name, uint8_t* base, size_t length, bool owner, posix::ObjectId id)
    : name_(std::move(name)),
      base_(base),
      length_(length),
      page_size_(posix::page_size()),
      owner_(owner),
      id_(id) {}

Status Region::create(std::string_view name, uint64_t capacity, uint32_t flags,
                      std::unique_ptr<Region>* out) {
  if (Status s = validate_name(name); !s.is_ok()) return s;
  const size_t page = posix::page_size();
  if (Status s = validate_capacity(capacity, page); !s.is_ok()) return with_name(s, name);
  constexpr uint32_t kKnownFlags = ZINC_CREATE_PREFAULT | ZINC_CREATE_REPLACE_STALE;
  if ((flags & ~kKnownFlags) != 0) {
    return Status::error(ZINC_EINVAL, "unknown create flags " + std::to_string(flags));
  }
  const std::string object = object_name(name);
  const uint64_t total = page + capacity;

  posix::Fd fd;
  Status created = posix::create_object(object, &fd);
  if (created.code == ZINC_EEXIST && (flags & ZINC_CREATE_REPLACE_STALE) != 0) {
    // Readers of the stale region are not waited for: with its creator dead
    // nobody will publish there again, and their mappings stay valid.
    Status removed = remove_stale(name, ZINC_REMOVE_DEFAULT);
    if (removed.is_ok() || removed.code == ZINC_ENOENT) {
      created = posix::create_object(object, &fd);
    } else {
      return Status::error(ZINC_EEXIST, "region '" + std::string(name) +
                                            "' already exists and was not replaced: " +
                                            without_name_prefix(removed.message, name));
    }
  }
  if (created.code == ZINC_EEXIST) {
    return Status::error(ZINC_EEXIST, "region '" + std::string(name) + "' already exists");
  }
  if (!created.is_ok()) return with_name(created, name);
  uint64_t size = 0;
  posix::ObjectId id;
  uint8_t* base = nullptr;
  Status s = posix::reserve(fd.get(), total);
  if (s.is_ok()) s = posix::stat_object(fd.get(), &size, &id);
  if (s.is_ok()) s = posix::map_shared(fd.get(), total, flags & ZINC_CREATE_PREFAULT, &base);
  if (!s.is_ok()) {
    posix::unlink_object(object);  // we created it; nobody can have opened it yet
    return with_name(s, name);
  }

  // Plain fields first, then publish with a release store of the magic: an
  // opener that acquire-loads the magic sees every field below.
  Header* h = reinterpret_cast<Header*>(base);
  h->version = ZINC_FORMAT_VERSION;
  h->flags = 0;
  h->capacity = capacity;
  h->created_at = posix::realtime_ns();
  h->name_hash = name_hash(name);
  h->ref_count.store(1, std::memory_order_relaxed);
  h->owner_pid.store(posix::process_id(), std::memory_order_relaxed);
  h->magic.store(ZINC_MAGIC, std::memory_order_release);

  out->reset(new Region(std::string(name), base, total, true, id));
  return Status::ok();
}

Status Region::open(std::string_view name, std::unique_ptr<Region>* out) {
  if (Status s = validate_name(name); !s.is_ok()) return s;
  const size_t page = posix::page_size();
  posix::Fd fd;
  if (Status s = posix::open_object(object_name(name), false, &fd); !s.is_ok()) {
    if (s.code == ZINC_ENOENT) s.message = "no region named '" + std::string(name) + "'";
    return with_name(s, name);
  }
  uint64_t size = 0;
  posix::ObjectId id;
  if (Status s = posix::stat_object(fd.get(), &size, &id); !s.is_ok()) return with_name(s, name);
  // Size first: mapping and touching a short object is what would SIGBUS.
  if (Status s = validate_object_size(size, page); !s.is_ok()) return with_name(s, name);

  uint8_t* base = nullptr;
  if (Status s = posix::map_shared(fd.get(), size, false, &base); !s.is_ok()) {
    return with_name(s, name);
  }
  Header* h = reinterpret_cast<Header*>(base);
  uint8_t snapshot[ZINC_HEADER_SIZE];
  const uint64_t magic = h->magic.load(std::memory_order_acquire);
  std::memcpy(snapshot, base, sizeof snapshot);
  std::memcpy(snapshot, &magic, sizeof magic);
  Status s = validate_header(snapshot, size, page);
  const uint64_t expected_hash = name_hash(name);
  if (s.is_ok() && decode_header(snapshot).name_hash != expected_hash) {
    s = Status::error(ZINC_EBADMSG, "name_hash does not match the name (another region's header?)");
  }
  if (s.is_ok()) {
    // Count ourselves in, refusing counts that only corruption produces.
    uint32_t count = h->ref_count.load(std::memory_order_relaxed);
    do {
      if (count == 0 || count == UINT32_MAX) {
        s = Status::error(ZINC_EBADMSG, "ref_count " + std::to_string(count) +
                                            " is impossible for a live region");
        break;
      }
    } while (!h->ref_count.compare_exchange_weak(count, count + 1, std::memory_order_acq_rel));
  }
  if (!s.is_ok()) {
    posix::unmap(base, size);
    return with_name(s, name);
  }
  out->reset(new Region(std::string(name), base, size, false, id));
  return Status::ok();
}

Region::~Region() {
  // Never below zero, even if another process corrupted the count.
  std::atomic<uint32_t>& count = header()->ref_count;
  uint32_t current = count.load(std::memory_order_relaxed);
  while (current != 0 &&
         !count.compare_exchange_weak(current, current - 1, std::memory_order_acq_rel)) {
  }
  if (owner_) {
    // Unlink by identity: if the name was removed and re-created by someone
    // else, it is not ours to remove. Our mapping keeps our inode alive, so
    // a match cannot be a recycled inode number.
    const std::string object = object_name(name_);
    posix::Fd fd;
    uint64_t size = 0;
    posix::ObjectId current_id;
    if (posix::open_object(object, true, &fd).is_ok() &&
        posix::stat_object(fd.get(), &size, &current_id).is_ok() && current_id == id_) {
      posix::unlink_object(object);
    }
  }
  posix::unmap(base_, length_);
}

void Region::notify() {
  header()->notify_seq.fetch_add(1, std::memory_order_release);
  futex::wake_all(&header()->notify_seq);
}

bool Region::consume(uint32_t& seen, uint32_t current) {
  return cursor_.compare_exchange_strong(seen, current, std::memory_order_acq_rel);
}

int32_t Region::try_wait() {
  uint32_t seen = cursor_.load(std::memory_order_acquire);
  for (;;) {
    const uint32_t current = header()->notify_seq.load(std::memory_order_acquire);
    if (current == seen) return ZINC_EAGAIN;
    // On failure another thread on this handle consumed it; `seen` is
    // reloaded and we look again, so each change is reported once.
    if (consume(seen, current)) return ZINC_OK;
  }
}

int32_t Region::wait(uint32_t timeout_ms) {
  const int64_t deadline = futex::monotonic_ns() + int64_t{timeout_ms} * 1000000;
  std::atomic<uint32_t>* word = &header()->notify_seq;
  uint32_t seen = cursor_.load(std::memory_order_acquire);
  for (;;) {
    const uint32_t current = word->load(std::memory_order_acquire);
    if (current != seen) {
      if (consume(seen, current)) return ZINC_OK;
      continue;
    }
    if (cancelled_.load(std::memory_order_acquire)) return ZINC_ECANCELED;
    if (futex::monotonic_ns() >= deadline) return ZINC_ETIMEDOUT;
    if (const int err = futex::wait_until(word, seen, deadline); err != 0) return err;
  }
}

void Region::cancel_waits() {
  cancelled_.store(true, std::memory_order_release);
  // A spurious wake for other processes' waiters: they re-check and sleep.
  futex::wake_all(&header()->notify_seq);
}

}  // namespace zinc::core
