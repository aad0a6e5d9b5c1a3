// Stateful property test of channels: random sequences of acquire, commit,
// read, release, reader joins and leaves, run against the real library and
// against a model of the ring as docs/spec.md §10 states it, which must
// agree on every result: back-pressure in lossless mode, the newest frame
// in latest mode, late joiners, lengths, sequences and payload bytes.
// RC_PARAMS sets the number of cases and the seed.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "test_support.hpp"
#include "zinc.h"

namespace {

constexpr uint32_t kMaxReaders = 3;
constexpr uint64_t kSlotSize = 96;

// The payload byte of frame `seq` committed with `length` bytes.
uint8_t pattern(uint64_t seq, uint64_t length) {
  return static_cast<uint8_t>(seq * 7 + length + 1);
}

struct ReaderModel {
  uint64_t cursor = 0;  // lossless: next frame; latest: last frame read + 1
  bool holding = false;
  uint64_t held = 0;
};

struct Model {
  uint32_t mode = ZINC_CHANNEL_LOSSLESS;
  uint32_t slot_count = 1;
  uint64_t write_seq = 0;  // frames committed
  bool acquired = false;
  std::map<uint64_t, uint64_t> lengths;  // frame -> committed length
  std::array<std::optional<ReaderModel>, kMaxReaders> readers;

  uint32_t joined() const {
    uint32_t n = 0;
    for (const auto& r : readers) n += r.has_value();
    return n;
  }
  // Lossless: frame write_seq reuses the slot of write_seq - N, which every
  // reader must have released.
  bool ring_has_room() const {
    if (mode == ZINC_CHANNEL_LATEST) return true;
    for (const auto& r : readers) {
      if (r && r->cursor + slot_count <= write_seq) return false;
    }
    return true;
  }
};

struct Sut {
  explicit Sut(const Model& m) : guard(zinc::test::unique_name("chmodel")) {
    if (zinc_channel_create(guard.c_str(), m.mode, m.slot_count, kSlotSize, kMaxReaders, 0,
                            &writer) != ZINC_OK) {
      throw std::runtime_error(std::string("create: ") + zinc_last_error_message());
    }
  }
  ~Sut() {
    for (ZincChannel r : readers) zinc_channel_close(r);
    zinc_channel_close(writer);
  }
  zinc::test::ObjectGuard guard;
  ZincChannel writer = nullptr;
  std::array<ZincChannel, kMaxReaders> readers{};
};

using Command = rc::state::Command<Model, Sut>;

int any_reader() {
  return *rc::gen::inRange<int>(0, kMaxReaders);
}

struct OpenReader : Command {
  int index = any_reader();
  void checkPreconditions(const Model& m) const override { RC_PRE(!m.readers[index]); }
  void apply(Model& m) const override {
    ReaderModel r;
    r.cursor = m.mode == ZINC_CHANNEL_LOSSLESS ? m.write_seq : 0;
    m.readers[index] = r;
  }
  void run(const Model&, Sut& sut) const override {
    RC_ASSERT(zinc_channel_open_reader(sut.guard.c_str(), &sut.readers[index]) == ZINC_OK);
  }
  void show(std::ostream& os) const override { os << "OpenReader(" << index << ")"; }
};

struct CloseReader : Command {
  int index = any_reader();
  void checkPreconditions(const Model& m) const override { RC_PRE(m.readers[index].has_value()); }
  void apply(Model& m) const override { m.readers[index].reset(); }
  void run(const Model&, Sut& sut) const override {
    zinc_channel_close(sut.readers[index]);
    sut.readers[index] = nullptr;
  }
  void show(std::ostream& os) const override { os << "CloseReader(" << index << ")"; }
};

// A fourth reader is refused while three live ones hold the table.
struct OpenReaderWhenFull : Command {
  void checkPreconditions(const Model& m) const override { RC_PRE(m.joined() == kMaxReaders); }
  void apply(Model&) const override {}
  void run(const Model&, Sut& sut) const override {
    ZincChannel extra = nullptr;
    RC_ASSERT(zinc_channel_open_reader(sut.guard.c_str(), &extra) == ZINC_EBUSY);
  }
  void show(std::ostream& os) const override { os << "OpenReaderWhenFull"; }
};

struct Acquire : Command {
  void apply(Model& m) const override {
    if (m.ring_has_room()) m.acquired = true;
  }
  void run(const Model& m, Sut& sut) const override {
    ZincChannelFrame frame{};
    const int32_t rc = zinc_channel_acquire(sut.writer, 0, &frame);
    if (!m.acquired && !m.ring_has_room()) {
      RC_ASSERT(rc == ZINC_EAGAIN);
      return;
    }
    RC_ASSERT(rc == ZINC_OK);
    RC_ASSERT(frame.sequence == m.write_seq);
    RC_ASSERT(frame.length == kSlotSize);
  }
  void show(std::ostream& os) const override { os << "Acquire"; }
};

struct Commit : Command {
  uint64_t length = *rc::gen::inRange<uint64_t>(0, kSlotSize + 2);
  void apply(Model& m) const override {
    if (!m.acquired || length > kSlotSize) return;
    m.lengths[m.write_seq] = length;
    ++m.write_seq;
    m.acquired = false;
  }
  void run(const Model& m, Sut& sut) const override {
    if (m.acquired) {
      // Fill the slot the writer holds (acquire again returns the same one).
      ZincChannelFrame frame{};
      RC_ASSERT(zinc_channel_acquire(sut.writer, 0, &frame) == ZINC_OK);
      for (uint64_t i = 0; i < frame.length; ++i) frame.data[i] = pattern(m.write_seq, length);
    }
    const int32_t rc = zinc_channel_commit(sut.writer, length);
    RC_ASSERT(rc == (m.acquired && length <= kSlotSize ? ZINC_OK : ZINC_EINVAL));
  }
  void show(std::ostream& os) const override { os << "Commit(" << length << ")"; }
};

struct Read : Command {
  int index = any_reader();
  void checkPreconditions(const Model& m) const override { RC_PRE(m.readers[index].has_value()); }
  // The frame the model says this read returns, if any.
  static std::optional<uint64_t> expected(const Model& m, const ReaderModel& r) {
    if (r.holding) return std::nullopt;
    if (m.mode == ZINC_CHANNEL_LOSSLESS) {
      if (r.cursor < m.write_seq) return r.cursor;
      return std::nullopt;
    }
    if (m.write_seq > 0 && m.write_seq - 1 >= r.cursor) return m.write_seq - 1;
    return std::nullopt;
  }
  void apply(Model& m) const override {
    ReaderModel& r = *m.readers[index];
    if (const auto frame = expected(m, r)) {
      r.holding = true;
      r.held = *frame;
      if (m.mode == ZINC_CHANNEL_LATEST) r.cursor = *frame + 1;
    }
  }
  void run(const Model& m, Sut& sut) const override {
    const ReaderModel& r = *m.readers[index];
    ZincChannelFrame frame{};
    const int32_t rc = zinc_channel_read(sut.readers[index], 0, &frame);
    const auto want = expected(m, r);
    if (r.holding) {
      RC_ASSERT(rc == ZINC_EINVAL);
    } else if (!want) {
      RC_ASSERT(rc == ZINC_EAGAIN);
    } else {
      RC_ASSERT(rc == ZINC_OK);
      RC_ASSERT(frame.sequence == *want);
      const uint64_t length = m.lengths.at(*want);
      RC_ASSERT(frame.length == length);
      for (uint64_t i = 0; i < length; ++i) RC_ASSERT(frame.data[i] == pattern(*want, length));
    }
  }
  void show(std::ostream& os) const override { os << "Read(" << index << ")"; }
};

struct Release : Command {
  int index = any_reader();
  void checkPreconditions(const Model& m) const override { RC_PRE(m.readers[index].has_value()); }
  void apply(Model& m) const override {
    ReaderModel& r = *m.readers[index];
    if (!r.holding) return;
    r.holding = false;
    if (m.mode == ZINC_CHANNEL_LOSSLESS) r.cursor = r.held + 1;
  }
  void run(const Model& m, Sut& sut) const override {
    const int32_t rc = zinc_channel_release(sut.readers[index]);
    RC_ASSERT(rc == (m.readers[index]->holding ? ZINC_OK : ZINC_EINVAL));
  }
  void show(std::ostream& os) const override { os << "Release(" << index << ")"; }
};

void check_channel_against_model(uint32_t mode, uint32_t slot_count) {
  Model model;
  model.mode = mode;
  model.slot_count = slot_count;
  Sut sut(model);
  rc::state::check(model, sut,
                   rc::state::gen::execOneOfWithArgs<OpenReader, OpenReader, CloseReader,
                                                     OpenReaderWhenFull, Acquire, Commit, Commit,
                                                     Read, Read, Read, Release, Release>());
}

RC_GTEST_PROP(ChannelModel, LosslessRingMatchesTheModel, ()) {
  check_channel_against_model(ZINC_CHANNEL_LOSSLESS, *rc::gen::inRange<uint32_t>(1, 5));
}

RC_GTEST_PROP(ChannelModel, LatestValueMatchesTheModel, ()) {
  check_channel_against_model(ZINC_CHANNEL_LATEST,
                              *rc::gen::inRange<uint32_t>(kMaxReaders + 2, kMaxReaders + 4));
}

}  // namespace
