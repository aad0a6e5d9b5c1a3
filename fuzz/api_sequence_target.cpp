// Fuzz target "api_sequence": a sequence of operations on several handles,
// every result compared with the protocol model (tests/region_model.hpp).
//
// Two fresh names per input, four handle slots. Each operation is one opcode
// byte followed by its argument bytes (missing bytes read as 0):
//   0 create  slot name cap   zinc_create_ex; cap%4: 1 page, 2 pages, 0 (invalid),
//                             1 page+1 (invalid); bit 2: ZINC_CREATE_PREFAULT;
//                             bit 3: an unknown flag (invalid)
//   1 open    slot name
//   2 close   slot            an empty slot closes a stale (closed) handle instead
//   3 notify  slot            empty: notify on a stale handle, which must do nothing
//   4 try_wait slot           empty: on a stale handle, must be ZINC_EINVAL
//   5 wait(0) slot            empty: as above
//   6 write   slot off16 byte
//   7 read    slot off16
//   8 inspect name            header fields and the waiter-count block against the model
//   9 seq_jump slot delta     sets notify_seq to UINT32_MAX - delta (wrap-around)
//  10 notify_many slot n      n%8 notifies: they coalesce
//  11 check   slot spin16     capacity and name; zinc_set_spin(spin16 * 20 us), which
//                             must fail above ZINC_MAX_SPIN_US, and zinc_get_spin
// create/open into an occupied slot closes its handle first. At the end
// every handle is closed and no object may be left behind.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "region_model.hpp"
#include "zinc.h"

namespace {

using zinc::fuzz::Bytes;

constexpr int kSlots = 4;
constexpr int kNames = 2;
const uint64_t kPage = zinc_page_size();

std::string code_text(int32_t code) {
  return std::to_string(code) + " (" + zinc_strerror(code) + ")";
}

struct Slot {
  int model = -1;  // handle id in the model, -1 if empty
  ZincHandle real = nullptr;
};

class Run {
 public:
  Run() : model_(kPage, kNames) {
    const std::string base = zinc::fuzz::unique_name("q");
    for (int i = 0; i < kNames; ++i) {
      names_.push_back(base + (i == 0 ? "a" : "b"));
      guards_.push_back(std::make_unique<zinc::fuzz::ObjectGuard>(names_.back()));
    }
  }

  void step(Bytes& in) {
    ++step_;
    // Arguments are read in separate statements, front to back: the
    // arguments of a call are evaluated in no fixed order.
    const uint8_t op = in.u8() % 12;
    const uint8_t first = in.u8();
    const int s = first % kSlots;
    switch (op) {
      case 0: {
        const int n = in.u8() % kNames;
        const uint8_t capacity = in.u8();
        create(s, n, capacity);
        break;
      }
      case 1: open(s, in.u8() % kNames); break;
      case 2: close_slot(s); break;
      case 3: notify(s); break;
      case 4: try_wait(s, false); break;
      case 5: try_wait(s, true); break;
      case 6: {
        const uint16_t offset = in.u16();
        const uint8_t value = in.u8();
        write(s, offset, value);
        break;
      }
      case 7: read(s, in.u16()); break;
      case 8: inspect(first % kNames); break;
      case 9: seq_jump(s, in.u8()); break;
      case 10: notify_many(s, in.u8() % 8); break;
      default: check(s, in.u16()); break;
    }
  }

  // Closes everything; then no object may remain.
  void finish() {
    for (int s = 0; s < kSlots; ++s) close_slot(s);
    for (const std::string& name : names_) {
      expect(!zinc::fuzz::object_exists(name), "object " + name + " left behind");
    }
  }

  ~Run() {
    for (Slot& slot : slots_) zinc_close(slot.real);
  }

 private:
  void expect(bool ok, const std::string& what) {
    FUZZ_CHECK(ok, "step " + std::to_string(step_) + ": " + what);
  }
  void expect_code(int32_t got, int32_t want, const char* call) {
    expect(got == want, std::string(call) + " returned " + code_text(got) + ", the model says " +
                            code_text(want) + " (" + zinc_last_error_message() + ")");
  }
  ZincHandle stale() const { return stale_.empty() ? nullptr : stale_[step_ % stale_.size()]; }

  void create(int s, int n, uint8_t cap_choice) {
    close_slot(s);
    const uint64_t capacities[] = {kPage, 2 * kPage, 0, kPage + 1};
    const uint64_t capacity = capacities[cap_choice % 4];
    const uint32_t flags =
        ((cap_choice & 4) ? ZINC_CREATE_PREFAULT : 0) | ((cap_choice & 8) ? 0x80 : 0);
    int id = -1;
    const int32_t want = model_.create(n, capacity, &id, flags);
    ZincHandle h = reinterpret_cast<ZincHandle>(0x1);
    const int32_t rc = zinc_create_ex(names_[n].c_str(), capacity, flags, &h);
    expect_code(rc, want, "create");
    if (rc != ZINC_OK) {
      expect(h == nullptr, "failed create left *out set");
      return;
    }
    slots_[s] = {id, h};
  }

  void open(int s, int n) {
    close_slot(s);
    int id = -1;
    const int32_t want = model_.open(n, &id);
    ZincHandle h = reinterpret_cast<ZincHandle>(0x1);
    const int32_t rc = zinc_open(names_[n].c_str(), &h);
    expect_code(rc, want, "open");
    if (rc != ZINC_OK) {
      expect(h == nullptr, "failed open left *out set");
      return;
    }
    slots_[s] = {id, h};
  }

  void close_slot(int s) {
    Slot& slot = slots_[s];
    if (slot.model < 0) {
      zinc_close(stale());  // must be a no-op: checked by later inspects
      return;
    }
    model_.close(slot.model);
    zinc_close(slot.real);
    stale_.push_back(slot.real);
    if (stale_.size() > 8) stale_.erase(stale_.begin());
    slot = Slot{};
  }

  void notify(int s) {
    if (slots_[s].model < 0) {
      zinc_notify(stale());
      return;
    }
    model_.notify(slots_[s].model);
    zinc_notify(slots_[s].real);
  }

  void notify_many(int s, int count) {
    for (int i = 0; i < count; ++i) notify(s);
  }

  void try_wait(int s, bool as_wait) {
    const Slot& slot = slots_[s];
    ZincHandle h = slot.model < 0 ? stale() : slot.real;
    const int32_t want = as_wait ? model_.wait_zero(slot.model) : model_.try_wait(slot.model);
    const int32_t rc = as_wait ? zinc_wait(h, 0) : zinc_try_wait(h);
    expect_code(rc, want, as_wait ? "wait(0)" : "try_wait");
  }

  void write(int s, uint16_t offset, uint8_t value) {
    const Slot& slot = slots_[s];
    if (slot.model < 0) return;
    const uint64_t at = offset % model_.capacity(slot.model);
    model_.write(slot.model, at, value);
    zinc_ptr(slot.real)[at] = value;
  }

  void read(int s, uint16_t offset) {
    const Slot& slot = slots_[s];
    if (slot.model < 0) {
      expect(zinc_ptr(stale()) == nullptr, "zinc_ptr of a closed handle is not NULL");
      return;
    }
    const uint64_t at = offset % model_.capacity(slot.model);
    const uint8_t got = zinc_ptr(slot.real)[at];
    const uint8_t want = model_.read(slot.model, at);
    expect(got == want, "data byte " + std::to_string(at) + " is " + std::to_string(got) +
                            ", the model says " + std::to_string(want));
  }

  void inspect(int n) {
    ZincHeaderInfo want{}, got{};
    const int32_t want_rc = model_.inspect(n, &want);
    const int32_t rc = zinc_inspect(names_[n].c_str(), &got);
    expect_code(rc, want_rc, "inspect");
    expect(zinc::fuzz::object_exists(names_[n]) == model_.name_exists(n),
           "object existence differs from the model");
    if (rc != ZINC_OK) return;
    expect(got.notify_seq == want.notify_seq, "notify_seq " + std::to_string(got.notify_seq) +
                                                  ", the model says " +
                                                  std::to_string(want.notify_seq));
    expect(got.ref_count == want.ref_count, "ref_count " + std::to_string(got.ref_count) +
                                                ", the model says " +
                                                std::to_string(want.ref_count));
    expect(got.capacity == want.capacity, "capacity field differs from the model");
    check_waiter_count_block(n, got.created_at);
  }

  // The waiter-count block (docs/spec.md §9, the reference's extension) at
  // bytes 64..84, read through the owner's mapping: every handle here is a
  // libzinc handle, so all are counted.
  void check_waiter_count_block(int n, uint64_t created_at) {
    const zinc::model::Region& region = model_.named_region(n);
    ZincHandle owner = nullptr;
    for (const Slot& slot : slots_) {
      if (slot.model == region.owner) owner = slot.real;
    }
    expect(owner != nullptr, "a linked region without a live owner");
    const uint8_t* object = zinc_ptr(owner) - kPage;
    const uint64_t tag =
        __atomic_load_n(reinterpret_cast<const uint64_t*>(object + 64), __ATOMIC_SEQ_CST);
    const uint64_t word =
        __atomic_load_n(reinterpret_cast<const uint64_t*>(object + 72), __ATOMIC_SEQ_CST);
    const uint32_t sleepers =
        __atomic_load_n(reinterpret_cast<const uint32_t*>(object + 80), __ATOMIC_SEQ_CST);
    expect(tag == (0x5A494E435F574354ULL ^ created_at), "waiter-count tag is off");
    expect(static_cast<uint32_t>(word) == region.ref_count,
           "counted_handles " + std::to_string(static_cast<uint32_t>(word)) + ", ref_count " +
               std::to_string(region.ref_count));
    expect(static_cast<uint32_t>(word >> 32) == region.counted_changes,
           "counted_changes " + std::to_string(static_cast<uint32_t>(word >> 32)) +
               ", the model says " + std::to_string(region.counted_changes));
    expect(sleepers == 0, "sleepers " + std::to_string(sleepers) + " with nobody waiting");
  }

  void seq_jump(int s, uint8_t delta) {
    const Slot& slot = slots_[s];
    if (slot.model < 0) return;
    const uint32_t seq = UINT32_MAX - delta;
    model_.set_seq(slot.model, seq);
    // The header is one page before the data; notify_seq is at offset 12.
    auto* word = reinterpret_cast<uint32_t*>(zinc_ptr(slot.real) - kPage + 12);
    __atomic_store_n(word, seq, __ATOMIC_SEQ_CST);
  }

  void check(int s, uint16_t spin_step) {
    const Slot& slot = slots_[s];
    const uint32_t spin_us = uint32_t{spin_step} * 20;
    if (slot.model < 0) {
      ZincHandle h = stale();
      expect(zinc_capacity(h) == 0 && zinc_name(h) == nullptr && zinc_get_spin(h) == 0,
             "closed handle still answers");
      expect(zinc_set_spin(h, spin_us) == ZINC_EINVAL, "set_spin on a closed handle");
      return;
    }
    expect(zinc_capacity(slot.real) == model_.capacity(slot.model), "capacity differs");
    const int n = model_.region_of(slot.model).name;
    expect(zinc_name(slot.real) != nullptr && names_[n] == zinc_name(slot.real), "name differs");
    const uint32_t spin_before = zinc_get_spin(slot.real);
    const int32_t rc = zinc_set_spin(slot.real, spin_us);
    const bool valid = spin_us <= ZINC_MAX_SPIN_US;
    expect_code(rc, valid ? ZINC_OK : ZINC_EINVAL, "set_spin");
    expect(zinc_get_spin(slot.real) == (valid ? spin_us : spin_before),
           "get_spin " + std::to_string(zinc_get_spin(slot.real)) + " after set_spin(" +
               std::to_string(spin_us) + ")");
  }

  zinc::model::Protocol model_;
  std::vector<std::string> names_;
  std::vector<std::unique_ptr<zinc::fuzz::ObjectGuard>> guards_;  // unlink the names
  Slot slots_[kSlots];
  std::vector<ZincHandle> stale_;
  size_t step_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* input, size_t length) {
  Bytes bytes(input, length);
  Run run;
  for (int steps = 0; !bytes.empty() && steps < 256; ++steps) run.step(bytes);
  run.finish();
  return 0;
}
