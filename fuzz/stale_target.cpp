// Fuzz target "stale": the stale-region functions over hostile objects.
//
// zinc_inspect, zinc_creator_state, zinc_mapped_by and zinc_remove_stale
// read the header of any object a name leads to (anyone who can write the
// object controls it), and zinc_remove_stale may delete it. Input:
//   byte 0      control bits; bit 0: make the header valid for the object
//               (magic, version 2, capacity, name_hash; the other fields stay
//               the input's); bits 1-2: the creator (owner_pid): 0 this live
//               process, 1 a dead pid (a reaped child), 2 and 3 the input's
//               owner_pid made <= 0 (cannot be judged); bit 3: this process
//               maps the object while the functions run; bits 4-5:
//               created_at 1 ns (long before this process started), now,
//               the far future, or the input's
//   byte 1      zinc_remove_stale's flags (bits beyond the known four: EINVAL)
//   byte 2      object size: 0 (unfinished), or 1..4 pages plus 0 or 100 bytes
//   the rest    the object's first bytes (header and waiter-count block)
// The object gets a fresh name and is removed again whatever happens. The
// checks do not depend on how liveness is decided (by pid or by lock), only
// on the rules that tie the four functions together (docs/spec.md §4.4,
// include/zinc.h): each returns a documented code; an object that is not a
// valid region gets inspect's code from creator_state and is left alone by
// remove_stale (unless ZINC_REMOVE_INVALID); mapped_by names exactly this
// process when it maps the object; a dead pid is never a live creator; a
// valid region is removed exactly when its creator is judged dead (or with
// ZINC_REMOVE_FORCE), never while mapped with ZINC_REMOVE_IF_UNMAPPED, never
// with ZINC_REMOVE_DRY_RUN; and the object exists afterwards exactly when
// remove_stale says it kept it.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "zinc.h"

namespace {

using zinc::fuzz::Bytes;

const uint64_t kPage = zinc_page_size();
constexpr uint32_t kKnownFlags =
    ZINC_REMOVE_IF_UNMAPPED | ZINC_REMOVE_DRY_RUN | ZINC_REMOVE_INVALID | ZINC_REMOVE_FORCE;

std::string code_text(int32_t code) {
  return std::to_string(code) + " (" + zinc_strerror(code) + ")";
}

template <typename T>
void put(std::vector<uint8_t>& bytes, size_t offset, T value) {
  std::memcpy(bytes.data() + offset, &value, sizeof value);
}

uint64_t realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000 + static_cast<uint64_t>(ts.tv_nsec);
}

// Keeps the object mapped (or, when it is empty, open) in this process.
class Mapping {
 public:
  Mapping(const std::string& name, uint64_t size) {
    fd_ = open(("/dev/shm/zinc_" + name).c_str(), O_RDONLY | O_CLOEXEC);
    FUZZ_CHECK(fd_ >= 0, "cannot open the object to map it");
    if (size > 0) {
      view_ = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd_, 0);
      FUZZ_CHECK(view_ != MAP_FAILED, "cannot map the object");
      size_ = size;
    }
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (size_ > 0) munmap(view_, size_);
    close(fd_);
  }
  bool maps() const { return size_ > 0; }

 private:
  int fd_ = -1;
  void* view_ = nullptr;
  uint64_t size_ = 0;
};

bool is_region_code(int32_t rc) {
  return rc == ZINC_OK || rc == ZINC_EAGAIN || rc == ZINC_EBADMSG;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* input, size_t length) {
  Bytes bytes(input, length);
  const uint8_t control = bytes.u8();
  const uint32_t flags = bytes.u8();
  const uint8_t size_byte = bytes.u8();
  const uint64_t size =
      size_byte % 5 == 0 ? 0 : (size_byte % 5) * kPage + ((size_byte / 5) % 2 == 1 ? 100 : 0);
  const std::string_view content = bytes.rest();

  const std::string name = zinc::fuzz::unique_name("s");
  const zinc::fuzz::ObjectGuard guard(name);
  std::vector<uint8_t> object(std::max<uint64_t>(size, 128), 0);
  std::copy_n(content.begin(), std::min(object.size(), content.size()), object.begin());
  if ((control & 1) != 0 && size >= kPage) {
    put<uint64_t>(object, 0, ZINC_MAGIC);
    put<uint16_t>(object, 8, ZINC_FORMAT_VERSION);
    put<uint64_t>(object, 16, size / kPage * kPage - kPage);
    put<uint64_t>(object, 40, zinc_name_hash(name.c_str()));
  }
  const int creator = (control >> 1) & 3;
  int32_t owner_pid = 0;
  std::memcpy(&owner_pid, object.data() + 28, sizeof owner_pid);
  if (creator == 0) owner_pid = getpid();
  if (creator == 1) owner_pid = zinc::fuzz::dead_pid();
  if (creator >= 2 && owner_pid > 0) owner_pid = -owner_pid;
  put<int32_t>(object, 28, owner_pid);
  switch ((control >> 4) & 3) {
    case 0: put<uint64_t>(object, 32, 1); break;
    case 1: put<uint64_t>(object, 32, realtime_ns()); break;
    case 2: put<uint64_t>(object, 32, uint64_t{1} << 62); break;
    default: break;
  }
  if (!zinc::fuzz::write_object(
          name, std::string_view(reinterpret_cast<const char*>(object.data()), size), size)) {
    return 0;  // /dev/shm full: skip
  }

  const bool want_mapping = (control & 8) != 0;
  std::vector<uint8_t> before(std::min<uint64_t>(size, 2 * kPage));
  if (!before.empty()) {
    FUZZ_CHECK(zinc::fuzz::read_object(name, 0, before.size(), before.data()), "read back");
  }
  {
    // When the control asks: mapped here (held open if it has no bytes).
    std::optional<Mapping> held;
    if (want_mapping) held.emplace(name, size);
    const bool mapped = held && held->maps();

    ZincHeaderInfo info{};
    const int32_t inspected = zinc_inspect(name.c_str(), &info);
    FUZZ_CHECK(is_region_code(inspected), "inspect returned " + code_text(inspected));
    const bool valid = inspected == ZINC_OK;

    const int32_t state = zinc_creator_state(name.c_str());
    if (!valid) {
      FUZZ_CHECK(state == inspected, "creator_state of an object inspect calls " +
                                         code_text(inspected) + " returned " + code_text(state));
    } else {
      FUZZ_CHECK(state >= ZINC_CREATOR_DEAD && state <= ZINC_CREATOR_UNKNOWN,
                 "creator_state returned " + code_text(state));
      FUZZ_CHECK(creator != 1 || state == ZINC_CREATOR_DEAD || state == ZINC_CREATOR_PID_REUSED,
                 "a dead pid's region judged " + std::to_string(state));
      FUZZ_CHECK(owner_pid > 0 || creator == 0 || creator == 1 || state == ZINC_CREATOR_UNKNOWN ||
                     state == ZINC_CREATOR_DEAD,
                 "owner_pid " + std::to_string(owner_pid) + " judged " + std::to_string(state));
    }

    int32_t pids[4] = {};
    const int32_t mappers = zinc_mapped_by(name.c_str(), pids, 4);
    FUZZ_CHECK(mappers == (mapped ? 1 : 0),
               "mapped_by counted " + std::to_string(mappers) + " processes, " +
                   (mapped ? "only this one" : "none") + " maps the object");
    FUZZ_CHECK(!mapped || pids[0] == getpid(), "mapped_by named pid " + std::to_string(pids[0]));

    const int32_t removed = zinc_remove_stale(name.c_str(), flags);
    const bool dry = (flags & ZINC_REMOVE_DRY_RUN) != 0;
    const bool unmapped_only = (flags & ZINC_REMOVE_IF_UNMAPPED) != 0;
    std::string why;
    if ((flags & ~kKnownFlags) != 0) {
      FUZZ_CHECK(removed == ZINC_EINVAL, "remove_stale with unknown flags " +
                                             std::to_string(flags) + " returned " +
                                             code_text(removed));
    } else if (!valid && (flags & ZINC_REMOVE_INVALID) == 0) {
      // Invalid, or unfinished and written just now (inside the 10 s grace).
      FUZZ_CHECK(removed == inspected, "remove_stale of an object inspect calls " +
                                           code_text(inspected) + " returned " +
                                           code_text(removed));
    } else if (!valid) {
      // Refused only while this process holds it open or maps it.
      FUZZ_CHECK(removed == ZINC_OK || (removed == ZINC_EBUSY && held),
                 "remove_stale(INVALID) of an invalid object returned " + code_text(removed));
    } else {
      const bool dead = state == ZINC_CREATOR_DEAD || state == ZINC_CREATOR_PID_REUSED;
      const bool forced = (flags & ZINC_REMOVE_FORCE) != 0;
      const int32_t want = (dead || forced) && !(unmapped_only && mapped) ? ZINC_OK : ZINC_EBUSY;
      FUZZ_CHECK(removed == want, "remove_stale(flags " + std::to_string(flags) +
                                      ") of a region whose creator is judged " +
                                      std::to_string(state) + (mapped ? ", mapped here," : "") +
                                      " returned " + code_text(removed) + ", the rules say " +
                                      code_text(want) + " (" + zinc_last_error_message() + ")");
    }
    if (removed != ZINC_OK && removed != ZINC_EINVAL) {
      FUZZ_CHECK(zinc_last_error_message()[0] != '\0', "remove_stale refused without a message");
    }
    const bool gone = removed == ZINC_OK && !dry;
    FUZZ_CHECK(zinc::fuzz::object_exists(name) == !gone,
               std::string("remove_stale returned ") + code_text(removed) + " but the object " +
                   (gone ? "is still there" : "is gone"));
    if (!gone && !before.empty()) {
      std::vector<uint8_t> after(before.size());
      FUZZ_CHECK(zinc::fuzz::read_object(name, 0, after.size(), after.data()), "read back");
      FUZZ_CHECK(after == before,
                 "inspect, creator_state, mapped_by or remove_stale wrote to "
                 "the object");
    }
  }
  zinc::fuzz::unlink_object(name);
  return 0;
}
