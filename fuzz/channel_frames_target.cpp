// Fuzz target "channel_frames": the read and write paths of a channel whose
// shared metadata someone else rewrites while it is in use.
//
// A joining lossless reader starts at write_seq, so a target that only
// hands over a data area never reaches the frame checks. This one joins
// first and lets the input rewrite the shared words afterwards: write_seq,
// latest_slot, each slot's seq and length, the slot map's entries, the
// reader's own cursor and pin,
// and other reader entries and the writer word, given to a dead process (a
// child this process forked and reaped: dead under any liveness rule, by pid
// or by lock), so that reclaiming a dead owner's role is fuzzed too. Input:
//   byte 0      bit 0: latest mode (else lossless)
//   byte 1      slot count (lossless 1..6; latest max_readers + 2 .. + 5)
//   byte 2      max_readers 1..3
//   byte 3      slot size 1..256
//   then up to 64 operations, an opcode byte and its arguments (see `Op`)
// The channel is a valid v2 region (made by zinc_channel_create, then
// copied under its name without a live owner) opened by one reader and one
// writer of this process. Each read, acquire, commit and open must return
// what docs/spec.md §10.3-10.6 say for the shared state as it is at that
// moment (written out here, independently of src/channel.cpp); frames are
// read and written byte by byte so ASan sees any view past its slot. The
// object is removed whatever happens.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "channel_rules.hpp"
#include "fuzz_support.hpp"
#include "zinc.h"

namespace {

using zinc::fuzz::Bytes;
using zinc::fuzz::code_text;
using zinc::fuzz::kActive;
using zinc::fuzz::kMaxWriteSeq;
using zinc::fuzz::Layout;

const uint64_t kPage = zinc_page_size();
constexpr uint32_t kNoSlot = UINT32_MAX;

enum Op : uint8_t {
  kForgeWriteSeq,    // u64
  kForgeSlotSeq,     // slot u8, u64
  kForgeSlotLength,  // slot u8, u64
  kForgeLatestSlot,  // u32
  kForgeCursor,      // u64: this reader's entry
  kForgeHeld,        // u32: this reader's entry
  kForgeOtherEntry,  // entry u8, kind u8 (0 free, 1 dead active, 2 dead claiming), cursor u64, held
                     // u32
  kRead,             // read without waiting; a frame is read and released
  kWrite,            // length u16: acquire without waiting, fill, commit
  kRejoin,           // the reader leaves and joins again
  kDeadWriter,       // the writer leaves, a dead process takes the word, a new writer reclaims it
  kForgeWriterWord,  // u64: any value, also one no owner word may hold
  kForgeMapEntry,    // entry u8, u32: any slot index, also one past the last
  kCount
};

// The object's bytes, mapped here independently of any zinc handle.
class Object {
 public:
  Object(const std::string& name, uint64_t size) : size_(size) {
    const int fd = open(("/dev/shm/zinc_" + name).c_str(), O_RDWR | O_CLOEXEC);
    FUZZ_CHECK(fd >= 0, "cannot open the channel's object");
    bytes_ = static_cast<uint8_t*>(mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    close(fd);
    FUZZ_CHECK(bytes_ != MAP_FAILED, "cannot map the channel's object");
  }
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;
  ~Object() { munmap(bytes_, size_); }

  // The data area as it is now (a copy, for the rules).
  std::vector<uint8_t> area() const { return {bytes_ + kPage, bytes_ + size_}; }
  template <typename T>
  T get(uint64_t offset) const {
    T value;
    std::memcpy(&value, bytes_ + kPage + offset, sizeof value);
    return value;
  }
  template <typename T>
  void set(uint64_t offset, T value) {
    std::memcpy(bytes_ + kPage + offset, &value, sizeof value);
  }

 private:
  uint8_t* bytes_ = nullptr;
  uint64_t size_;
};

struct Fixture {
  std::string name;
  Layout l;
  ZincChannel reader = nullptr;
  ZincChannel writer = nullptr;
  uint32_t my_entry = 0;     // the reader's entry (valid while reader != nullptr)
  uint64_t next_frame = 0;   // the writer's own count: the frame it acquires next
  uint64_t writer_word = 0;  // the owner word the writer's role holds while it is its own
  // Lossless: (frame, slot) of every frame this writer handle wrote, and the
  // highest slowest-cursor its acquires saw: frames below it are released
  // (docs/spec.md §10.5: a cursor seen lower later frees nothing again).
  std::vector<std::pair<uint64_t, uint32_t>> written;
  uint64_t oldest_seen = 0;
};

// What an open (reader or writer) must return for the area as it is: the
// header rules (docs/spec.md §10.2); the opens do not check the table and
// slots, which change under them (the reads and acquires check what they use).
int32_t open_rule(const std::vector<uint8_t>& area) {
  Layout l;
  return zinc::fuzz::spec_header(area, &l);
}

// The entry whose owner word changed from free to taken by a join.
uint32_t joined_entry(const std::vector<uint8_t>& before, const Object& object, const Layout& l) {
  for (uint32_t i = 0; i < l.max_readers; ++i) {
    const uint64_t now = object.get<uint64_t>(l.entry(i));
    if ((now & kActive) != 0 && now != zinc::fuzz::field<uint64_t>(before, l.entry(i))) return i;
  }
  zinc::fuzz::fail(__FILE__, __LINE__, "a reader joined but no entry changed");
}

void join(Fixture& f, Object& object) {
  const std::vector<uint8_t> before = object.area();
  const int32_t want = open_rule(before);
  ZincChannel reader = nullptr;
  const int32_t rc = zinc_channel_open_reader(f.name.c_str(), &reader);
  // Every other entry is free or a dead process's: a join always finds room.
  FUZZ_CHECK(rc == want, "open_reader returned " + code_text(rc) + ", the rules say " +
                             code_text(want) + " (" + zinc_last_error_message() + ")");
  if (rc != ZINC_OK) return;
  f.reader = reader;
  f.my_entry = joined_entry(before, object, f.l);
  const uint64_t cursor = object.get<uint64_t>(f.l.entry(f.my_entry) + 16);
  const uint64_t want_cursor = f.l.mode == ZINC_CHANNEL_LOSSLESS ? object.get<uint64_t>(32) : 0;
  FUZZ_CHECK(cursor == want_cursor, "a joining reader's cursor is " + std::to_string(cursor) +
                                        ", not " + std::to_string(want_cursor));
}

// The frame a writer taking over continues at (docs/spec.md §10.3).
uint64_t resume_frame(const Object& object, const Layout& l) {
  uint64_t frame = object.get<uint64_t>(32);
  const uint32_t latest = object.get<uint32_t>(40);
  if (l.mode == ZINC_CHANNEL_LATEST && latest < l.slot_count) {
    const uint64_t seq = object.get<uint64_t>(l.slot(latest));
    // Only the one frame a writer killed between its commit stores leaves
    // past write_seq (docs/spec.md §10.3); anything further is damage.
    if (seq != 0 && seq % 2 == 0 && seq / 2 == frame + 1) frame = seq / 2;
  }
  return frame;
}

void open_writer(Fixture& f, Object& object) {
  const int32_t want = open_rule(object.area());
  const uint64_t resume = resume_frame(object, f.l);
  ZincChannel writer = nullptr;
  const int32_t rc = zinc_channel_open_writer(f.name.c_str(), &writer);
  FUZZ_CHECK(rc == want, "open_writer returned " + code_text(rc) + ", the rules say " +
                             code_text(want) + " (" + zinc_last_error_message() + ")");
  if (rc != ZINC_OK) return;
  f.writer = writer;
  f.next_frame = resume;
  f.written.clear();  // a new writer knows only the map
  f.oldest_seen = 0;
  f.writer_word = object.get<uint64_t>(56);
}

// Whether a wait set with `member` alone reports it ready at a look
// (timeout 0); the set is made and closed here.
bool wait_set_reports_ready(ZincChannel member) {
  ZincWaitSet set = nullptr;
  FUZZ_CHECK(zinc_wait_set_create(&set) == ZINC_OK, "wait set create failed");
  FUZZ_CHECK(zinc_wait_set_add_channel(set, member, 7) == ZINC_OK, "wait set add failed");
  uint64_t key = 0;
  const int32_t rc = zinc_wait_set_wait(set, 0, &key, 1);
  zinc_wait_set_close(set);
  FUZZ_CHECK(rc == ZINC_ETIMEDOUT || (rc == 1 && key == 7),
             "a wait set's look returned " + code_text(rc));
  return rc == 1;
}

void check_read(Fixture& f, Object& object) {
  const Layout& l = f.l;
  const uint64_t entry = l.entry(f.my_entry);
  int32_t want = ZINC_EAGAIN;
  uint64_t want_frame = 0, want_length = 0;
  uint32_t slot = 0;
  if (l.mode == ZINC_CHANNEL_LOSSLESS) {
    const uint64_t cursor = object.get<uint64_t>(entry + 16);
    if (object.get<uint64_t>(32) > kMaxWriteSeq) {
      want = ZINC_EBADMSG;  // past the last frame number (§10.4): damage
    } else if (cursor < object.get<uint64_t>(32)) {
      // The slot the map names (§10.5); one past the last is damage.
      slot = object.get<uint32_t>(l.map_entry(cursor));
      want_frame = cursor;
      if (slot >= l.slot_count) {
        want = ZINC_EBADMSG;
      } else {
        want_length = object.get<uint64_t>(l.slot(slot) + 8);
        want = object.get<uint64_t>(l.slot(slot)) != 2 * cursor + 2 ? ZINC_EBADMSG
               : want_length > l.slot_size                          ? ZINC_EBADMSG
                                                                    : ZINC_OK;
      }
    }
  } else {
    slot = object.get<uint32_t>(40);
    if (slot != kNoSlot && slot >= l.slot_count) {
      want = ZINC_EBADMSG;
    } else if (slot != kNoSlot) {
      const uint64_t seq = object.get<uint64_t>(l.slot(slot));
      want_frame = seq / 2 - 1;
      want_length = object.get<uint64_t>(l.slot(slot) + 8);
      const uint64_t written = object.get<uint64_t>(32);
      const uint64_t cursor = object.get<uint64_t>(entry + 16);
      if (seq != 0 && seq % 2 == 0) {
        // A frame past write_seq, or a cursor past write_seq + 1, is damage
        // (§10.6); an older frame is "nothing new".
        if (written > kMaxWriteSeq || want_frame > written || cursor > written + 1) {
          want = ZINC_EBADMSG;
        } else if (want_frame >= cursor) {
          want = want_length > l.slot_size ? ZINC_EBADMSG : ZINC_OK;
        }
      }
    }
  }
  // The role judges (zinc_channel_role_state) read the forged owner words,
  // answer with a documented value and change nothing.
  const std::vector<uint8_t> before_judging = object.area();
  for (int32_t role = -1; role < static_cast<int32_t>(l.max_readers); ++role) {
    const int32_t state = zinc_channel_role_state(f.name.c_str(), role);
    FUZZ_CHECK((state >= ZINC_CREATOR_DEAD && state <= ZINC_ROLE_FREE) || state == ZINC_EBADMSG,
               "role_state(" + std::to_string(role) + ") returned " + code_text(state));
  }
  FUZZ_CHECK(object.area() == before_judging, "zinc_channel_role_state wrote to the channel");
  // A wait set reads the same hostile words to decide whether the reader is
  // ready, and must agree with the read: ready exactly when a read returns
  // at once, with a frame or a failure (include/zinc.h, docs/spec.md §11).
  const bool ready = wait_set_reports_ready(f.reader);
  FUZZ_CHECK(ready == (want != ZINC_EAGAIN),
             std::string("a wait set called the reader ") + (ready ? "ready" : "not ready") +
                 " where the read returns " + code_text(want));
  ZincChannelFrame frame{};
  const int32_t rc = zinc_channel_read(f.reader, 0, &frame);
  FUZZ_CHECK(rc == want, "read returned " + code_text(rc) + ", the shared state says " +
                             code_text(want) + " (" + zinc_last_error_message() + ")");
  if (rc != ZINC_OK) {
    FUZZ_CHECK(zinc_last_error_message()[0] != '\0', "a failed read without a message");
    return;
  }
  FUZZ_CHECK(frame.sequence == want_frame && frame.length == want_length,
             "read returned frame " + std::to_string(frame.sequence) + " of " +
                 std::to_string(frame.length) + " bytes, the slot holds frame " +
                 std::to_string(want_frame) + " of " + std::to_string(want_length));
  const uint8_t* payload = zinc_channel_ptr(f.reader) + l.slot(slot) + 64;
  FUZZ_CHECK(frame.data == payload, "the frame is not slot " + std::to_string(slot) + "'s");
  uint64_t sum = 0;
  for (uint64_t i = 0; i < frame.length; ++i) sum += frame.data[i];  // ASan sees every byte
  (void)sum;
  if (l.mode == ZINC_CHANNEL_LATEST) {
    FUZZ_CHECK(object.get<uint32_t>(entry + 24) == slot + 1, "a held latest frame is not pinned");
  }
  FUZZ_CHECK(zinc_channel_release(f.reader) == ZINC_OK, "release of a held frame failed");
  if (l.mode == ZINC_CHANNEL_LOSSLESS) {
    FUZZ_CHECK(object.get<uint64_t>(entry + 16) == want_frame + 1, "release did not advance");
  } else {
    FUZZ_CHECK(object.get<uint32_t>(entry + 24) == 0, "release left the pin");
    FUZZ_CHECK(object.get<uint64_t>(entry + 16) == want_frame + 1, "the cursor after a read");
  }
}

bool dead_owner(uint64_t word) {
  return word != 0 && static_cast<int32_t>(static_cast<uint32_t>(word)) != getpid();
}

void check_write(Fixture& f, Object& object, uint16_t length) {
  const Layout& l = f.l;
  const uint64_t frame = f.next_frame;
  if (object.get<uint64_t>(56) != f.writer_word) {
    // The role was taken over (§10.3 victims): the writer writes nothing.
    const std::vector<uint8_t> before = object.area();
    ZincChannelFrame slot{};
    const int32_t rc = zinc_channel_acquire(f.writer, 0, &slot);
    FUZZ_CHECK(rc == ZINC_ESTALE,
               "acquire by a writer whose role was taken returned " + code_text(rc));
    FUZZ_CHECK(object.area() == before, "a writer whose role was taken wrote to the channel");
    return;
  }
  if (frame >= kMaxWriteSeq) {
    // Frame numbers end at 2^63 - 2 (docs/spec.md §10.4): refused, nothing written.
    const std::vector<uint8_t> before = object.area();
    ZincChannelFrame slot{};
    const int32_t rc = zinc_channel_acquire(f.writer, 0, &slot);
    FUZZ_CHECK(rc == ZINC_EBADMSG, "acquire of frame 2^63 - 1 returned " + code_text(rc));
    FUZZ_CHECK(object.area() == before, "an acquire refused at 2^63 - 1 wrote to the channel");
    return;
  }
  // Lossless: which active entries hold the frame back (live ones must; a
  // dead one may be reclaimed by the writer instead).
  bool live_blocks = false, dead_blocks = false;
  // Latest: a slot that is not latest_slot and that no entry pins.
  bool free_slot = false;
  if (l.mode == ZINC_CHANNEL_LOSSLESS) {
    for (uint32_t i = 0; i < l.max_readers; ++i) {
      const uint64_t word = object.get<uint64_t>(l.entry(i));
      if ((word & kActive) == 0) continue;
      const uint64_t cursor = object.get<uint64_t>(l.entry(i) + 16);
      if (cursor <= frame && frame - cursor >= l.slot_count) {
        (dead_owner(word) ? dead_blocks : live_blocks) = true;
      }
    }
  } else {
    const uint32_t latest = object.get<uint32_t>(40);
    for (uint32_t s = 0; s < l.slot_count && !free_slot; ++s) {
      bool pinned = s == latest;
      for (uint32_t i = 0; i < l.max_readers; ++i) {
        pinned = pinned || object.get<uint32_t>(l.entry(i) + 24) == s + 1;
      }
      free_slot = !pinned;
    }
  }
  // A wait set's verdict on the writer (include/zinc.h, spec §11.1): a
  // latest writer is always ready, a lossless one when nothing holds its
  // next frame back, and never while a live reader does (one held back only
  // by dead readers may be either: they are reclaimed when judged).
  const bool ready = wait_set_reports_ready(f.writer);
  if (l.mode == ZINC_CHANNEL_LATEST || (!live_blocks && !dead_blocks)) {
    FUZZ_CHECK(ready, "a wait set called the writer not ready with room for frame " +
                          std::to_string(frame));
  } else if (live_blocks) {
    FUZZ_CHECK(!ready, "a wait set called the writer ready while a live reader holds frame " +
                           std::to_string(frame) + " back");
  }
  ZincChannelFrame slot{};
  const int32_t rc = zinc_channel_acquire(f.writer, 0, &slot);
  if (l.mode == ZINC_CHANNEL_LOSSLESS) {
    const bool ok =
        rc == ZINC_OK ? !live_blocks : rc == ZINC_EAGAIN && (live_blocks || dead_blocks);
    FUZZ_CHECK(ok, "lossless acquire of frame " + std::to_string(frame) + " returned " +
                       code_text(rc) +
                       (live_blocks   ? ", a live reader holds it back"
                        : dead_blocks ? ", only dead readers hold it back"
                                      : ", nothing holds it back"));
    if (rc == ZINC_OK) {
      for (uint32_t i = 0; i < l.max_readers; ++i) {
        const uint64_t word = object.get<uint64_t>(l.entry(i));
        const uint64_t cursor = object.get<uint64_t>(l.entry(i) + 16);
        FUZZ_CHECK((word & kActive) == 0 || cursor > frame || frame - cursor < l.slot_count,
                   "acquired frame " + std::to_string(frame) + " over reader entry " +
                       std::to_string(i) + " at " + std::to_string(cursor));
      }
    }
  } else {
    FUZZ_CHECK(rc == (free_slot ? ZINC_OK : ZINC_EAGAIN),
               "latest acquire returned " + code_text(rc) +
                   (free_slot ? " with a free slot" : " with every slot pinned or newest"));
  }
  if (rc != ZINC_OK) return;
  FUZZ_CHECK(slot.sequence == frame && slot.length == l.slot_size,
             "acquired frame " + std::to_string(slot.sequence) + " of " +
                 std::to_string(slot.length) + " bytes, expected frame " + std::to_string(frame));
  const uint8_t* base = zinc_channel_ptr(f.writer);
  const uint64_t offset = static_cast<uint64_t>(slot.data - base);
  FUZZ_CHECK(offset >= l.slots_offset + 64 && (offset - l.slots_offset - 64) % l.stride == 0,
             "the acquired frame is not a slot's payload");
  const uint32_t index = static_cast<uint32_t>((offset - l.slots_offset - 64) / l.stride);
  FUZZ_CHECK(index < l.slot_count, "acquired slot " + std::to_string(index));
  if (l.mode == ZINC_CHANNEL_LOSSLESS) {
    // Mapped before the commit (§10.5), and never into a slot the writer
    // itself put a frame in that an active reader has not released yet (the
    // slowest active cursor as the acquire's last scan saw it: the state now,
    // after any reclaim it made).
    uint64_t oldest = frame;
    for (uint32_t i = 0; i < l.max_readers; ++i) {
      if ((object.get<uint64_t>(l.entry(i)) & kActive) == 0) continue;
      const uint64_t cursor = object.get<uint64_t>(l.entry(i) + 16);
      if (cursor <= frame) oldest = std::min(oldest, cursor);
    }
    f.oldest_seen = std::max(f.oldest_seen, oldest);
    FUZZ_CHECK(object.get<uint32_t>(l.map_entry(frame)) == index,
               "map entry of acquired frame " + std::to_string(frame) + " does not name slot " +
                   std::to_string(index));
    for (const auto& [written, in] : f.written) {
      if (in != index || written >= frame || written < f.oldest_seen) continue;
      zinc::fuzz::fail(__FILE__, __LINE__,
                       "frame " + std::to_string(frame) + " acquired slot " +
                           std::to_string(index) + ", where frame " + std::to_string(written) +
                           " is not released by every reader");
    }
  }
  for (uint64_t i = 0; i < slot.length; ++i) slot.data[i] = static_cast<uint8_t>(frame + i);
  if (length > l.slot_size) {
    FUZZ_CHECK(zinc_channel_commit(f.writer, length) == ZINC_EINVAL,
               "commit of more than the slot size");
  }
  const uint64_t committed = length > l.slot_size ? l.slot_size : length;
  FUZZ_CHECK(zinc_channel_commit(f.writer, committed) == ZINC_OK, "commit failed");
  f.next_frame = frame + 1;
  if (l.mode == ZINC_CHANNEL_LOSSLESS) f.written.emplace_back(frame, index);
  FUZZ_CHECK(object.get<uint64_t>(l.slot(index)) == 2 * frame + 2 &&
                 object.get<uint64_t>(l.slot(index) + 8) == committed,
             "the slot's seq and length after the commit");
  FUZZ_CHECK(object.get<uint64_t>(32) == frame + 1, "write_seq after the commit");
  if (l.mode == ZINC_CHANNEL_LATEST) {
    FUZZ_CHECK(object.get<uint32_t>(40) == index, "latest_slot after the commit");
  }
}

void run(Fixture& f, Object& object, Bytes& bytes) {
  const Layout& l = f.l;
  const uint64_t dead = static_cast<uint32_t>(zinc::fuzz::dead_pid());
  for (int step = 0; step < 64 && !bytes.empty(); ++step) {
    const uint8_t op = bytes.u8() % kCount;
    switch (op) {
      case kForgeWriteSeq: object.set<uint64_t>(32, bytes.u64()); break;
      case kForgeSlotSeq:
        object.set<uint64_t>(l.slot(bytes.u8() % l.slot_count), bytes.u64());
        break;
      case kForgeSlotLength: {
        const uint32_t s = bytes.u8() % l.slot_count;
        object.set<uint64_t>(l.slot(s) + 8, bytes.u64());
        break;
      }
      case kForgeLatestSlot: object.set<uint32_t>(40, bytes.u32()); break;
      case kForgeCursor:
        if (f.reader != nullptr) object.set<uint64_t>(l.entry(f.my_entry) + 16, bytes.u64());
        break;
      case kForgeHeld:
        if (f.reader != nullptr) object.set<uint32_t>(l.entry(f.my_entry) + 24, bytes.u32());
        break;
      case kForgeOtherEntry: {
        const uint32_t i = bytes.u8() % l.max_readers;
        const uint8_t kind = bytes.u8() % 3;
        const uint64_t cursor = bytes.u64();
        const uint32_t held = bytes.u32();
        if (f.reader != nullptr && i == f.my_entry) break;
        object.set<uint64_t>(l.entry(i), kind == 0 ? 0 : kind == 1 ? dead | kActive : dead);
        object.set<uint64_t>(l.entry(i) + 16, cursor);
        object.set<uint32_t>(l.entry(i) + 24, held);
        break;
      }
      case kRead:
        if (f.reader != nullptr) check_read(f, object);
        break;
      case kWrite: {
        const uint16_t length = bytes.u16();
        if (f.writer != nullptr) check_write(f, object, length);
        break;
      }
      case kRejoin:
        zinc_channel_close(f.reader);
        f.reader = nullptr;
        join(f, object);
        break;
      case kForgeWriterWord: object.set<uint64_t>(56, bytes.u64()); break;
      case kForgeMapEntry: {
        const uint32_t i = bytes.u8() % l.slot_count;
        object.set<uint32_t>(l.map_offset + 4 * uint64_t{i}, bytes.u32());
        break;
      }
      case kDeadWriter:
        zinc_channel_close(f.writer);
        f.writer = nullptr;
        object.set<uint64_t>(56, dead | kActive);
        open_writer(f, object);
        break;
      default: break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* input, size_t length) {
  Bytes bytes(input, length);
  const uint32_t mode = (bytes.u8() & 1) != 0 ? ZINC_CHANNEL_LATEST : ZINC_CHANNEL_LOSSLESS;
  const uint8_t slots_byte = bytes.u8();
  const uint32_t readers = 1 + bytes.u8() % 3;
  const uint32_t slots =
      mode == ZINC_CHANNEL_LOSSLESS ? 1 + slots_byte % 6 : readers + 2 + slots_byte % 4;
  const uint64_t slot_size = 1 + uint64_t{bytes.u8()};

  Fixture f;
  f.name = zinc::fuzz::unique_name("f");
  const zinc::fuzz::ObjectGuard guard(f.name);
  // Lay the channel out, keep its bytes, close (which unlinks the name), and
  // put the bytes back under the name with the writer role free: no handle
  // owns the name, and every role is open to the handles below.
  ZincChannel creator = nullptr;
  const int32_t created =
      zinc_channel_create(f.name.c_str(), mode, slots, slot_size, readers, 0, &creator);
  FUZZ_CHECK(created == ZINC_OK, "channel_create returned " + code_text(created));
  ZincChannelInfo info{};
  FUZZ_CHECK(zinc_channel_info(creator, &info) == ZINC_OK, "channel_info failed");
  const uint64_t size = kPage + (info.required_bytes + kPage - 1) / kPage * kPage;
  std::vector<uint8_t> image(size);
  FUZZ_CHECK(zinc::fuzz::read_object(f.name, 0, size, image.data()), "read the new channel");
  zinc_channel_close(creator);
  zinc::fuzz::put<uint64_t>(image, kPage + 56, 0);
  if (!zinc::fuzz::write_object(
          f.name, std::string_view(reinterpret_cast<const char*>(image.data()), size), size)) {
    return 0;  // /dev/shm full: skip
  }
  {
    Object object(f.name, size);
    FUZZ_CHECK(zinc::fuzz::spec_header(object.area(), &f.l) == ZINC_OK, "the copy is no channel");
    open_writer(f, object);
    join(f, object);
    FUZZ_CHECK(f.writer != nullptr && f.reader != nullptr, "the fresh channel did not open");
    run(f, object, bytes);
    zinc_channel_close(f.reader);
    zinc_channel_close(f.writer);
  }
  zinc::fuzz::unlink_object(f.name);
  return 0;
}
