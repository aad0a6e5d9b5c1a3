// Stateful property tests: random command sequences over several handles and
// two names, run against the real library and against the protocol model
// (region_model.hpp), which must agree on every result: cursor semantics,
// coalescing, own notifications, wrap-around of the 32-bit counter near
// UINT32_MAX, ref counts, and unlink on owner close. RC_PARAMS sets the
// number of cases and the seed (rapidcheck prints the seed of a failure).
// Inspect also checks the waiter-count block (docs/spec.md §9), the
// reference's extension: every handle here is a libzinc (counted) handle.
#include "region_model.hpp"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "test_support.hpp"
#include "zinc.h"

namespace {

constexpr int kSlots = 4;
constexpr int kNames = 2;
const uint64_t kPage = zinc_page_size();

// The model's view: the protocol plus which model handle sits in each slot.
struct Model {
  zinc::model::Protocol protocol{kPage, kNames};
  std::array<int, kSlots> slot{-1, -1, -1, -1};
  std::vector<int> closed;  // model handles already closed

  bool occupied(int s) const { return slot[s] >= 0; }
};

// The real handles, indexed like the model's handles, and the two names.
struct Sut {
  Sut() {
    for (int i = 0; i < kNames; ++i) {
      guards.push_back(std::make_unique<zinc::test::ObjectGuard>(zinc::test::unique_name("model")));
    }
  }
  ~Sut() {
    for (ZincHandle h : handles) zinc_close(h);  // closed ones are no-ops
  }
  const char* name(int n) const { return guards[n]->c_str(); }
  std::atomic<uint32_t>& seq_word(ZincHandle h) const {
    // The header is one page before the data; notify_seq is at offset 12.
    return *reinterpret_cast<std::atomic<uint32_t>*>(zinc_ptr(h) - kPage + 12);
  }

  std::vector<std::unique_ptr<zinc::test::ObjectGuard>> guards;
  std::vector<ZincHandle> handles;  // by model handle id
};

using Command = rc::state::Command<Model, Sut>;

// A slot that is occupied (or empty), chosen when the command is generated;
// discards the command if there is none.
int pick_slot(const Model& m, bool occupied) {
  std::vector<int> fitting;
  for (int s = 0; s < kSlots; ++s) {
    if (m.occupied(s) == occupied) fitting.push_back(s);
  }
  RC_PRE(!fitting.empty());
  return *rc::gen::elementOf(fitting);
}
int any_name() {
  return *rc::gen::inRange(0, kNames);
}
// The waiter-count block at bytes 64..84 of the object (spec §9.1).
constexpr uint64_t kWaiterCountMagic = 0x5A494E435F574354ULL;  // "ZINC_WCT"
struct WaiterCountBlock {
  uint64_t tag;
  uint32_t counted_handles;
  uint32_t counted_changes;
  uint32_t sleepers;
};
WaiterCountBlock read_block(const uint8_t* object) {
  const auto load64 = [&](size_t at) {
    return reinterpret_cast<const std::atomic<uint64_t>*>(object + at)->load();
  };
  const uint64_t word = load64(72);
  return {load64(64), static_cast<uint32_t>(word), static_cast<uint32_t>(word >> 32),
          reinterpret_cast<const std::atomic<uint32_t>*>(object + 80)->load()};
}

// RC_ASSERT would try to print a pointer's target; compare outside it.
bool is_null(const void* p) {
  return p == nullptr;
}
char name_letter(int n) {
  return static_cast<char>('a' + n);
}

struct Create : Command {
  explicit Create(const Model& m) : slot(pick_slot(m, false)) {}
  int slot;
  int name = any_name();
  uint64_t capacity = *rc::gen::element(kPage, 2 * kPage, uint64_t{0}, kPage + 1, 3 * kPage - 1);
  uint32_t flags = *rc::gen::element<uint32_t>(0, 0, ZINC_CREATE_PREFAULT, 0x80);

  void checkPreconditions(const Model& m) const override { RC_PRE(!m.occupied(slot)); }
  void apply(Model& m) const override {
    int id = -1;
    if (m.protocol.create(name, capacity, &id, flags) == ZINC_OK) m.slot[slot] = id;
  }
  void run(const Model& m, Sut& sut) const override {
    Model next = m;
    int id = -1;
    const int32_t want = next.protocol.create(name, capacity, &id, flags);
    ZincHandle h = reinterpret_cast<ZincHandle>(0x1);
    const int32_t rc = zinc_create_ex(sut.name(name), capacity, flags, &h);
    RC_ASSERT(rc == want);
    if (rc != ZINC_OK) {
      RC_ASSERT(is_null(h));
      return;
    }
    RC_ASSERT(id == static_cast<int>(sut.handles.size()));
    sut.handles.push_back(h);
    RC_ASSERT(zinc::test::object_exists(sut.name(name)));
  }
  void show(std::ostream& os) const override {
    os << "create(slot " << slot << ", name " << name_letter(name) << ", capacity " << capacity
       << ", flags " << flags << ")";
  }
};

struct Open : Command {
  explicit Open(const Model& m) : slot(pick_slot(m, false)) {}
  int slot;
  int name = any_name();

  void checkPreconditions(const Model& m) const override { RC_PRE(!m.occupied(slot)); }
  void apply(Model& m) const override {
    int id = -1;
    if (m.protocol.open(name, &id) == ZINC_OK) m.slot[slot] = id;
  }
  void run(const Model& m, Sut& sut) const override {
    Model next = m;
    int id = -1;
    const int32_t want = next.protocol.open(name, &id);
    ZincHandle h = reinterpret_cast<ZincHandle>(0x1);
    const int32_t rc = zinc_open(sut.name(name), &h);
    RC_ASSERT(rc == want);
    if (rc != ZINC_OK) {
      RC_ASSERT(is_null(h));
      return;
    }
    RC_ASSERT(id == static_cast<int>(sut.handles.size()));
    sut.handles.push_back(h);
  }
  void show(std::ostream& os) const override {
    os << "open(slot " << slot << ", name " << name_letter(name) << ")";
  }
};

// Commands on the handle in an occupied slot.
struct OnSlot : Command {
  explicit OnSlot(const Model& m) : slot(pick_slot(m, true)) {}
  int slot;
  void checkPreconditions(const Model& m) const override { RC_PRE(m.occupied(slot)); }
  ZincHandle real(const Model& m, const Sut& sut) const { return sut.handles[m.slot[slot]]; }
};

struct Close : OnSlot {
  using OnSlot::OnSlot;
  void apply(Model& m) const override {
    m.protocol.close(m.slot[slot]);
    m.closed.push_back(m.slot[slot]);
    m.slot[slot] = -1;
  }
  void run(const Model& m, Sut& sut) const override {
    Model next = m;
    apply(next);
    const int n = m.protocol.region_of(m.slot[slot]).name;
    zinc_close(real(m, sut));
    // The owner's close unlinks its name; any other close leaves it.
    RC_ASSERT(zinc::test::object_exists(sut.name(n)) == next.protocol.name_exists(n));
  }
  void show(std::ostream& os) const override { os << "close(slot " << slot << ")"; }
};

struct Notify : OnSlot {
  using OnSlot::OnSlot;
  int times = *rc::gen::inRange(1, 6);
  void apply(Model& m) const override {
    for (int i = 0; i < times; ++i) m.protocol.notify(m.slot[slot]);
  }
  void run(const Model& m, Sut& sut) const override {
    for (int i = 0; i < times; ++i) zinc_notify(real(m, sut));
  }
  void show(std::ostream& os) const override {
    os << "notify x" << times << "(slot " << slot << ")";
  }
};

struct TryWait : OnSlot {
  using OnSlot::OnSlot;
  bool as_wait_zero = *rc::gen::arbitrary<bool>();
  void apply(Model& m) const override { m.protocol.try_wait(m.slot[slot]); }
  void run(const Model& m, Sut& sut) const override {
    Model next = m;
    const int32_t want =
        as_wait_zero ? next.protocol.wait_zero(m.slot[slot]) : next.protocol.try_wait(m.slot[slot]);
    const int32_t rc = as_wait_zero ? zinc_wait(real(m, sut), 0) : zinc_try_wait(real(m, sut));
    RC_ASSERT(rc == want);
  }
  void show(std::ostream& os) const override {
    os << (as_wait_zero ? "wait(0)" : "try_wait") << "(slot " << slot << ")";
  }
};

struct WriteByte : OnSlot {
  using OnSlot::OnSlot;
  uint32_t offset = *rc::gen::inRange<uint32_t>(0, 3 * 4096);
  uint8_t value = *rc::gen::arbitrary<uint8_t>();
  uint64_t at(const Model& m) const { return offset % m.protocol.capacity(m.slot[slot]); }
  void apply(Model& m) const override { m.protocol.write(m.slot[slot], at(m), value); }
  void run(const Model& m, Sut& sut) const override { zinc_ptr(real(m, sut))[at(m)] = value; }
  void show(std::ostream& os) const override {
    os << "write(slot " << slot << ", offset " << offset << ", " << int{value} << ")";
  }
};

struct ReadByte : OnSlot {
  using OnSlot::OnSlot;
  uint32_t offset = *rc::gen::inRange<uint32_t>(0, 3 * 4096);
  void run(const Model& m, Sut& sut) const override {
    const uint64_t at = offset % m.protocol.capacity(m.slot[slot]);
    RC_ASSERT(zinc_ptr(real(m, sut))[at] == m.protocol.read(m.slot[slot], at));
    RC_ASSERT(zinc_capacity(real(m, sut)) == m.protocol.capacity(m.slot[slot]));
  }
  void show(std::ostream& os) const override {
    os << "read(slot " << slot << ", offset " << offset << ")";
  }
};

// Moves notify_seq next to the 32-bit wrap through the header pointer.
struct JumpNearWrap : OnSlot {
  using OnSlot::OnSlot;
  uint32_t below_max = *rc::gen::inRange<uint32_t>(0, 8);
  void apply(Model& m) const override { m.protocol.set_seq(m.slot[slot], UINT32_MAX - below_max); }
  void run(const Model& m, Sut& sut) const override {
    sut.seq_word(real(m, sut)).store(UINT32_MAX - below_max);
  }
  void show(std::ostream& os) const override {
    os << "notify_seq = UINT32_MAX - " << below_max << " (via slot " << slot << ")";
  }
};

struct Inspect : Command {
  int name = any_name();
  void run(const Model& m, Sut& sut) const override {
    ZincHeaderInfo want{}, got{};
    const int32_t want_rc = m.protocol.inspect(name, &want);
    RC_ASSERT(zinc_inspect(sut.name(name), &got) == want_rc);
    RC_ASSERT(zinc::test::object_exists(sut.name(name)) == m.protocol.name_exists(name));
    if (want_rc != ZINC_OK) return;
    RC_ASSERT(got.notify_seq == want.notify_seq);
    RC_ASSERT(got.ref_count == want.ref_count);
    RC_ASSERT(got.capacity == want.capacity);
    // The waiter-count block (spec §9), read through the owner's mapping.
    const zinc::model::Region& region = m.protocol.named_region(name);
    const uint8_t* object = zinc_ptr(sut.handles[region.owner]) - kPage;
    const WaiterCountBlock block = read_block(object);
    RC_ASSERT(block.tag == (kWaiterCountMagic ^ got.created_at));
    RC_ASSERT(block.counted_handles == want.ref_count);
    RC_ASSERT(block.counted_changes == region.counted_changes);
    RC_ASSERT(block.sleepers == 0u);
  }
  void show(std::ostream& os) const override { os << "inspect(name " << name_letter(name) << ")"; }
};

// Every call on a closed handle is detected and harmless.
struct UseClosedHandle : Command {
  explicit UseClosedHandle(const Model& m) {
    RC_PRE(!m.closed.empty());
    pick = *rc::gen::inRange<size_t>(0, m.closed.size());
  }
  size_t pick = 0;
  void checkPreconditions(const Model& m) const override { RC_PRE(!m.closed.empty()); }
  void run(const Model& m, Sut& sut) const override {
    ZincHandle h = sut.handles[m.closed[pick % m.closed.size()]];
    RC_ASSERT(zinc_try_wait(h) == ZINC_EINVAL);
    RC_ASSERT(zinc_wait(h, 0) == ZINC_EINVAL);
    RC_ASSERT(is_null(zinc_ptr(h)));
    RC_ASSERT(zinc_capacity(h) == 0u);
    RC_ASSERT(is_null(zinc_name(h)));
    RC_ASSERT(zinc_get_spin(h) == 0u);
    RC_ASSERT(zinc_set_spin(h, 10) == ZINC_EINVAL);
    zinc_notify(h);  // no-op: a later try_wait or inspect would notice a change
    zinc_close(h);   // no-op: ref counts are checked by inspect
  }
  void show(std::ostream& os) const override { os << "calls on a closed handle"; }
};

RC_GTEST_PROP(RegionModel, RandomCommandSequencesOnSeveralHandlesMatchTheModel, ()) {
  Sut sut;
  rc::state::check(Model{}, sut,
                   rc::state::gen::execOneOfWithArgs<Create, Create, Open, Open, Close, Notify,
                                                     TryWait, TryWait, WriteByte, ReadByte,
                                                     JumpNearWrap, Inspect, UseClosedHandle>());
}

// Wrap-around in isolation: notify_seq starts a few steps below UINT32_MAX,
// k notifies move it across 0, and each handle's cursor decides what it sees.
// Reaching exactly the cursor again (0 for a fresh handle) is the documented
// miss (docs/spec.md §5.2).
RC_GTEST_PROP(RegionModel, CounterWrapAroundNearUint32Max, ()) {
  const uint32_t below_max = *rc::gen::inRange<uint32_t>(0, 16);
  const int before_open = *rc::gen::inRange(0, 20);
  const int after_open = *rc::gen::inRange(0, 20);
  const bool owner_consumes_first = *rc::gen::arbitrary<bool>();

  zinc::test::ObjectGuard guard(zinc::test::unique_name("wrap"));
  zinc::model::Protocol model(kPage, 1);
  int model_owner = -1, model_reader = -1;
  ZincHandle owner = nullptr, reader = nullptr;
  RC_ASSERT(model.create(0, kPage, &model_owner) == ZINC_OK);
  RC_ASSERT(zinc_create(guard.c_str(), kPage, &owner) == ZINC_OK);
  auto& word = *reinterpret_cast<std::atomic<uint32_t>*>(zinc_ptr(owner) - kPage + 12);
  word.store(UINT32_MAX - below_max);
  model.set_seq(model_owner, UINT32_MAX - below_max);
  if (owner_consumes_first) RC_ASSERT(zinc_try_wait(owner) == model.try_wait(model_owner));
  for (int i = 0; i < before_open; ++i) {
    zinc_notify(owner);
    model.notify(model_owner);
  }
  RC_ASSERT(model.open(0, &model_reader) == ZINC_OK);
  RC_ASSERT(zinc_open(guard.c_str(), &reader) == ZINC_OK);
  for (int i = 0; i < after_open; ++i) {
    zinc_notify(reader);
    model.notify(model_reader);
  }
  RC_ASSERT(word.load() == model.region_of(model_owner).seq);
  const int32_t reader_rc = zinc_try_wait(reader);
  const int32_t owner_rc = zinc_wait(owner, 0);
  zinc_close(reader);
  zinc_close(owner);
  RC_ASSERT(reader_rc == model.try_wait(model_reader));
  RC_ASSERT(owner_rc == model.wait_zero(model_owner));
}

}  // namespace
