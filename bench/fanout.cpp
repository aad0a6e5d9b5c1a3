// Fan-out latency: one writer process sends fixed-size frames to N reader
// processes (forked children). Each frame carries the CLOCK_MONOTONIC time
// the writer took just before publishing it; each reader records the time
// from that stamp to its read returning. The writer sends the next frame
// only after every reader has acknowledged the last one (a counter in a
// shared page, not timed) and --gap-us more have passed, so every sample is
// one hand-over to a reader that was waiting for it, not time in a queue.
//
//   channel          a zinc channel, lossless (acquire, fill, commit; read,
//                    release): every reader is woken by the commit's notify
//   channel-latest   the same in latest mode
//   pipe             a pipe per reader: the writer writes the frame into
//                    each pipe in turn, each reader reads all of it
//
// Reports p50/p99 over all readers' samples, and per frame the latency of
// the first and of the last reader to get it.
//
// The writer fills every frame (memset) before stamping it, in place for
// the channel, in a private buffer for the pipes. A channel reader looks at
// the frame in place: the stamp and the last byte, which must match the
// frame's number. A pipe reader has the whole frame copied to it by read().
//
// --spin-us sets ZINC_SPIN_US for every process: 0 (the default) makes each
// reader sleep in the kernel at once, so the commit's notify is what wakes
// it; -1 leaves the library's adaptive spin (ZINC_DEFAULT_SPIN_US) as it is.
// Nothing is pinned: with more readers than CPUs the readers queue for them,
// and the figures say so.
//
// Usage: zinc_bench_fanout --transport=channel [--readers=1] [--frame=64]
//        [--seconds=2] [--warmup=0.2] [--gap-us=100] [--spin-us=0]
//        [--max-frames=200000] [--samples=20000] [--json=FILE]
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <climits>
#include <memory>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "zinc.h"

namespace {

using zinc::bench::die;
using zinc::bench::now_ns;

constexpr uint64_t kStopSequence = UINT64_MAX;
constexpr int kMaxReaders = ZINC_CHANNEL_MAX_READERS;
// A reader's blocking calls wake this often to check that its writer lives.
constexpr uint32_t kReaderPollMs = 1000;
// The writer gives up on a frame no reader acknowledged for this long.
constexpr int64_t kAckTimeoutNs = 10'000'000'000;

// The start of every frame; the rest is filled with the frame number's low
// byte.
struct Stamp {
  uint64_t sequence;
  int64_t sent_ns;
};

struct alignas(64) Line {
  std::atomic<uint64_t> value{0};
};

// Shared by the writer and the readers: an anonymous mapping made before
// the fork.
struct Control {
  Line ready;                                 // readers that have joined
  alignas(64) std::atomic<uint32_t> acks{0};  // futex word: frames x readers acknowledged
  Line bad_frames;  // frames whose stamp or body did not match their number
};

long futex(std::atomic<uint32_t>* word, int op, uint32_t value, const timespec* timeout) {
  return syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), op, value, timeout, nullptr, 0);
}

// A reader's failure: its own message, then _exit (a forked reader must not
// run the writer's clean-up).
[[noreturn]] void reader_fail(int index, const std::string& what) {
  std::fprintf(stderr, "%s: reader %d: %s\n", program_invocation_short_name, index, what.c_str());
  _exit(3);
}

void fill_frame(uint8_t* data, size_t size, uint64_t sequence) {
  std::memset(data + sizeof(Stamp), static_cast<int>(sequence & 0xff), size - sizeof(Stamp));
}

// Stamps a filled frame: the clock is read last, just before publishing.
void stamp_frame(uint8_t* data, uint64_t sequence) {
  const Stamp stamp{sequence, now_ns()};
  std::memcpy(data, &stamp, sizeof stamp);
}

bool body_matches(const uint8_t* data, size_t size, uint64_t sequence) {
  return size == sizeof(Stamp) || data[size - 1] == static_cast<uint8_t>(sequence & 0xff);
}

class Transport {
 public:
  virtual ~Transport() = default;
  // In reader `index` right after the fork.
  virtual void start_reader(int index) = 0;
  // In the writer once every reader is forked.
  virtual void start_writer() {}
  // Writer: fills, stamps and publishes frame `sequence`.
  virtual void send(uint64_t sequence) = 0;
  // Writer: tells every reader to finish.
  virtual void send_stop() = 0;
  // Reader: the next frame's stamp, taken when the read returned
  // (*received_ns); false once the writer said stop.
  virtual bool receive(uint64_t expected, Control* control, int64_t* received_ns, Stamp* stamp) = 0;
  // Writer: closes what the writer holds (the channel's close unlinks it).
  virtual void close_writer() = 0;
};

class ChannelTransport : public Transport {
 public:
  ChannelTransport(uint32_t mode, int readers, size_t frame) : frame_(frame) {
    name_ = "bench-fanout-" + std::to_string(getpid());
    // Lossless: one frame is in flight at a time, so a short ring does.
    // Latest needs a slot per reader's pin plus two.
    const uint32_t slots = mode == ZINC_CHANNEL_LATEST ? static_cast<uint32_t>(readers) + 2 : 4;
    if (zinc_channel_create(name_.c_str(), mode, slots, frame, static_cast<uint32_t>(readers),
                            ZINC_CREATE_PREFAULT, &writer_) != 0) {
      die(std::string("zinc_channel_create: ") + zinc_last_error_message());
    }
  }
  void start_reader(int index) override {
    // The writer's handle, inherited through fork, is left alone here.
    if (zinc_channel_open_reader(name_.c_str(), &reader_) != 0) {
      reader_fail(index, std::string("zinc_channel_open_reader: ") + zinc_last_error_message());
    }
    index_ = index;
  }
  void send(uint64_t sequence) override {
    ZincChannelFrame frame{};
    if (const int32_t rc = zinc_channel_acquire(writer_, 1000, &frame); rc != 0) {
      die(std::string("zinc_channel_acquire: ") + zinc_last_error_message());
    }
    fill_frame(frame.data, frame_, sequence);
    stamp_frame(frame.data, sequence);
    if (zinc_channel_commit(writer_, frame_) != 0) {
      die(std::string("zinc_channel_commit: ") + zinc_last_error_message());
    }
  }
  void send_stop() override {
    ZincChannelFrame frame{};
    if (zinc_channel_acquire(writer_, 1000, &frame) == 0) {
      const Stamp stop{kStopSequence, 0};
      std::memcpy(frame.data, &stop, sizeof stop);
      zinc_channel_commit(writer_, frame_);
    }
  }
  bool receive(uint64_t expected, Control* control, int64_t* received_ns, Stamp* stamp) override {
    ZincChannelFrame frame{};
    for (;;) {
      const int32_t rc = zinc_channel_read(reader_, kReaderPollMs, &frame);
      if (rc == 0) break;
      if (rc != ZINC_ETIMEDOUT) {
        reader_fail(index_, std::string("zinc_channel_read: ") + zinc_last_error_message());
      }
      if (getppid() == 1) reader_fail(index_, "the writer is gone");
    }
    *received_ns = now_ns();
    std::memcpy(stamp, frame.data, sizeof *stamp);
    if (stamp->sequence != kStopSequence &&
        (frame.length != frame_ || !body_matches(frame.data, frame_, expected))) {
      control->bad_frames.value.fetch_add(1, std::memory_order_relaxed);
    }
    zinc_channel_release(reader_);
    return stamp->sequence != kStopSequence;
  }
  void close_writer() override {
    zinc_channel_close(writer_);
    writer_ = nullptr;
  }

 private:
  size_t frame_;
  std::string name_;
  ZincChannel writer_ = nullptr;
  ZincChannel reader_ = nullptr;
  int index_ = -1;
};

class PipeTransport : public Transport {
 public:
  PipeTransport(int readers, size_t frame) : buffer_(frame), fds_(static_cast<size_t>(readers)) {
    for (auto& fd : fds_) {
      if (pipe2(fd.data(), O_CLOEXEC) != 0) die(std::string("pipe: ") + std::strerror(errno));
      // As a tuned user would: room for a whole frame where the system
      // allows it (pipe-max-size, 1 MiB by default).
      if (frame > 65536)
        fcntl(fd[1], F_SETPIPE_SZ, static_cast<int>(std::min<size_t>(frame, 1 << 20)));
    }
  }
  void start_reader(int index) override {
    index_ = index;
    for (size_t k = 0; k < fds_.size(); ++k) {
      close(fds_[k][1]);
      if (static_cast<int>(k) != index) close(fds_[k][0]);
    }
  }
  void start_writer() override {
    for (auto& fd : fds_) close(fd[0]);
  }
  void send(uint64_t sequence) override {
    fill_frame(buffer_.data(), buffer_.size(), sequence);
    stamp_frame(buffer_.data(), sequence);
    for (auto& fd : fds_) zinc::bench::write_all(fd[1], buffer_.data(), buffer_.size());
  }
  void send_stop() override {
    for (auto& fd : fds_) {
      close(fd[1]);  // end of stream
      fd[1] = -1;
    }
  }
  bool receive(uint64_t expected, Control* control, int64_t* received_ns, Stamp* stamp) override {
    const int fd = fds_[static_cast<size_t>(index_)][0];
    // Wait for the frame's first bytes a second at a time, checking that
    // the writer lives; then read all of it.
    pollfd readable{fd, POLLIN, 0};
    while (poll(&readable, 1, static_cast<int>(kReaderPollMs)) == 0) {
      if (getppid() == 1) reader_fail(index_, "the writer is gone");
    }
    if (!zinc::bench::read_all(fd, buffer_.data(), buffer_.size())) return false;
    *received_ns = now_ns();
    std::memcpy(stamp, buffer_.data(), sizeof *stamp);
    if (!body_matches(buffer_.data(), buffer_.size(), expected)) {
      control->bad_frames.value.fetch_add(1, std::memory_order_relaxed);
    }
    return true;
  }
  void close_writer() override {
    for (auto& fd : fds_) {
      if (fd[1] >= 0) close(fd[1]);
      fd[1] = -1;
    }
  }

 private:
  std::vector<uint8_t> buffer_;
  std::vector<std::array<int, 2>> fds_;
  int index_ = -1;
};

std::unique_ptr<Transport> make_transport(const std::string& name, int readers, size_t frame) {
  if (name == "channel")
    return std::make_unique<ChannelTransport>(ZINC_CHANNEL_LOSSLESS, readers, frame);
  if (name == "channel-latest") {
    return std::make_unique<ChannelTransport>(ZINC_CHANNEL_LATEST, readers, frame);
  }
  if (name == "pipe") return std::make_unique<PipeTransport>(readers, frame);
  die("unknown --transport=" + name + " (channel, channel-latest, pipe)");
}

template <typename T>
T* map_shared(size_t count) {
  void* p =
      mmap(nullptr, sizeof(T) * count, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) die(std::string("mmap of the shared page failed: ") + std::strerror(errno));
  return static_cast<T*>(p);
}

// The reader process: receives every frame, records its latency in its row
// of `latencies` (by sequence), acknowledges it.
[[noreturn]] void run_reader(int index, int readers, Transport* transport, Control* control,
                             int64_t* latencies, size_t max_frames) {
  transport->start_reader(index);
  control->ready.value.fetch_add(1, std::memory_order_seq_cst);
  int64_t* row = latencies + static_cast<size_t>(index) * max_frames;
  for (uint64_t expected = 0;; ++expected) {
    int64_t received = 0;
    Stamp stamp{};
    if (!transport->receive(expected, control, &received, &stamp)) break;
    if (stamp.sequence != expected) {
      reader_fail(index, "got frame " + std::to_string(stamp.sequence) + " where " +
                             std::to_string(expected) + " was due");
    }
    if (expected < max_frames) row[expected] = received - stamp.sent_ns;
    // The last reader to acknowledge a frame wakes the writer.
    const uint32_t acked = control->acks.fetch_add(1, std::memory_order_seq_cst) + 1;
    if (acked == static_cast<uint32_t>(readers) * static_cast<uint32_t>(expected + 1)) {
      futex(&control->acks, FUTEX_WAKE, INT_MAX, nullptr);
    }
  }
  _exit(0);
}

// The writer's side of the run: the children it forked, which a failure
// kills and reaps.
class Readers {
 public:
  void add(pid_t pid) { pids_.push_back(pid); }
  // Dies if a reader exited before the writer told it to.
  void check() const {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) die("a reader (pid " + std::to_string(pid) + ") exited early" + describe(status));
    zinc::bench::check_stop_signal();
  }
  // Waits up to `timeout_ns` for every reader to exit cleanly.
  bool reap(int64_t timeout_ns, std::string* why) {
    const int64_t deadline = now_ns() + timeout_ns;
    while (!pids_.empty()) {
      int status = 0;
      const pid_t pid = waitpid(-1, &status, WNOHANG);
      if (pid > 0) {
        std::erase(pids_, pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
          *why = "reader pid " + std::to_string(pid) + describe(status);
          return false;
        }
        continue;
      }
      if (now_ns() > deadline) {
        *why = std::to_string(pids_.size()) + " readers did not finish in time";
        return false;
      }
      usleep(1000);
    }
    return true;
  }
  void kill_all() {
    for (pid_t pid : pids_) kill(pid, SIGKILL);
    for (pid_t pid : pids_) waitpid(pid, nullptr, 0);
    pids_.clear();
  }

 private:
  static std::string describe(int status) {
    if (WIFEXITED(status)) return " with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return " killed by signal " + std::to_string(WTERMSIG(status));
    return "";
  }
  std::vector<pid_t> pids_;
};

// Waits until the readers' acknowledgements reach `target`.
void await_acks(Control* control, uint32_t target, const Readers& readers, uint64_t sequence) {
  const int64_t deadline = now_ns() + kAckTimeoutNs;
  const timespec slice{0, 100'000'000};
  for (;;) {
    const uint32_t seen = control->acks.load(std::memory_order_seq_cst);
    if (seen == target) return;
    futex(&control->acks, FUTEX_WAIT, seen, &slice);
    readers.check();
    if (now_ns() > deadline) {
      die("frame " + std::to_string(sequence) + " was not acknowledged by every reader in " +
          std::to_string(kAckTimeoutNs / 1'000'000'000) + " s");
    }
  }
}

// The first and the last reader's latency of each measured frame.
void per_frame_extremes(const int64_t* latencies, int readers, size_t max_frames, uint64_t first,
                        uint64_t end, std::vector<int64_t>* fastest,
                        std::vector<int64_t>* slowest) {
  for (uint64_t f = first; f < end; ++f) {
    int64_t best = INT64_MAX, worst = 0;
    for (int r = 0; r < readers; ++r) {
      const int64_t latency = latencies[static_cast<size_t>(r) * max_frames + f];
      best = std::min(best, latency);
      worst = std::max(worst, latency);
    }
    fastest->push_back(best);
    slowest->push_back(worst);
  }
}

}  // namespace

int main(int argc, char** argv) {
  zinc::bench::Flags flags(argc, argv);
  const std::string transport_name = flags.str("transport", "channel");
  const int readers = static_cast<int>(flags.num("readers", 1));
  const size_t frame = flags.bytes("frame", 64);
  const double seconds = flags.num("seconds", 2.0);
  const double warmup = flags.num("warmup", 0.2);
  const double gap_us = flags.num("gap-us", 100);
  const int64_t spin_us = static_cast<int64_t>(flags.num("spin-us", 0));
  const size_t max_frames = flags.bytes("max-frames", 200000);
  const size_t keep_samples = flags.bytes("samples", 20000);
  const std::string json = flags.str("json", "");
  flags.check_all_used();
  if (readers < 1 || readers > kMaxReaders) {
    die("--readers must be 1.." + std::to_string(kMaxReaders));
  }
  if (frame < 64) die("--frame must be at least 64 bytes");
  if (max_frames < 2) die("--max-frames must be at least 2");
  // Before any zinc call: the library reads ZINC_SPIN_US once per process,
  // and the readers inherit what the writer read.
  if (spin_us >= 0) setenv("ZINC_SPIN_US", std::to_string(spin_us).c_str(), 1);
  const char* spin_env = std::getenv("ZINC_SPIN_US");
  const int64_t effective_spin_us =
      spin_env != nullptr ? std::atoll(spin_env) : ZINC_DEFAULT_SPIN_US;

  signal(SIGPIPE, SIG_IGN);  // a dead pipe reader is an EPIPE, and a clean failure
  zinc::bench::watch_stop_signals();

  auto* control = new (map_shared<Control>(1)) Control;
  auto* latencies = map_shared<int64_t>(static_cast<size_t>(readers) * max_frames);
  std::unique_ptr<Transport> transport = make_transport(transport_name, readers, frame);
  Readers children;
  zinc::bench::at_failure([&] {
    children.kill_all();
    transport->close_writer();
  });

  const pid_t writer_pid = getpid();
  for (int index = 0; index < readers; ++index) {
    const pid_t child = fork();
    if (child < 0) die(std::string("fork failed: ") + std::strerror(errno));
    if (child == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != writer_pid) _exit(4);  // the writer died before the prctl
      signal(SIGINT, SIG_IGN);                // the writer stops the readers itself
      run_reader(index, readers, transport.get(), control, latencies, max_frames);
    }
    children.add(child);
  }
  transport->start_writer();
  const int64_t ready_deadline = now_ns() + kAckTimeoutNs;
  while (control->ready.value.load(std::memory_order_seq_cst) < static_cast<uint64_t>(readers)) {
    children.check();
    if (now_ns() > ready_deadline) die("the readers did not start in time");
    usleep(1000);
  }

  const timespec gap{0, static_cast<long>(gap_us * 1000)};
  uint64_t sequence = 0;
  uint64_t first_measured = UINT64_MAX;
  const int64_t cpu_before = zinc::bench::cpu_time_ns();
  int64_t start = now_ns();
  const int64_t warm_until = start + static_cast<int64_t>(warmup * 1e9);
  int64_t until = INT64_MAX;
  for (;; ++sequence) {
    const int64_t now = now_ns();
    if (first_measured == UINT64_MAX && now >= warm_until) {
      first_measured = sequence;
      start = now;
      until = start + static_cast<int64_t>(seconds * 1e9);
    }
    if (now >= until || sequence >= max_frames) break;
    transport->send(sequence);
    await_acks(control, static_cast<uint32_t>(readers) * static_cast<uint32_t>(sequence + 1),
               children, sequence);
    if (gap_us > 0) nanosleep(&gap, nullptr);
  }
  const int64_t elapsed = now_ns() - start;
  const int64_t writer_cpu = zinc::bench::cpu_time_ns() - cpu_before;
  transport->send_stop();
  std::string why;
  if (!children.reap(kAckTimeoutNs, &why)) die(why);
  const int64_t readers_cpu = zinc::bench::cpu_time_ns(RUSAGE_CHILDREN);
  transport->close_writer();
  const uint64_t bad = control->bad_frames.value.load();
  if (bad != 0) die(std::to_string(bad) + " frames arrived with the wrong contents");
  if (first_measured == UINT64_MAX || first_measured >= sequence) {
    die("no frame was measured (--seconds too short, or --max-frames reached in the warm-up)");
  }

  std::vector<int64_t> all, reader_p50;
  for (int r = 0; r < readers; ++r) {
    const int64_t* row = latencies + static_cast<size_t>(r) * max_frames;
    std::vector<int64_t> mine(row + first_measured, row + sequence);
    all.insert(all.end(), mine.begin(), mine.end());
    reader_p50.push_back(zinc::bench::summarize(mine).p50);
  }
  std::vector<int64_t> fastest, slowest;
  per_frame_extremes(latencies, readers, max_frames, first_measured, sequence, &fastest, &slowest);
  const uint64_t frames = sequence - first_measured;
  const zinc::bench::Summary latency = zinc::bench::summarize(all);
  const zinc::bench::Summary fast = zinc::bench::summarize(fastest);
  const zinc::bench::Summary slow = zinc::bench::summarize(slowest);

  zinc::bench::JsonLine line;
  line.add("bench", "fanout")
      .add("transport", transport_name)
      .add("readers", static_cast<int64_t>(readers))
      .add("frame_bytes", static_cast<int64_t>(frame))
      .add("spin_us", effective_spin_us)
      .add("gap_us", gap_us)
      .add("frames", static_cast<int64_t>(frames))
      .add("seconds", static_cast<double>(elapsed) / 1e9)
      .add("latency", latency)
      .add("fastest", fast)
      .add("slowest", slow)
      .add("writer_cpu_pct", 100.0 * static_cast<double>(writer_cpu) / static_cast<double>(elapsed))
      .add("readers_cpu_pct",
           100.0 * static_cast<double>(readers_cpu) / static_cast<double>(elapsed))
      .add_samples("reader_p50_ns", reader_p50, reader_p50.size())
      .add_samples("latency_samples_ns", all, keep_samples);
  line.write(json);
  std::printf(
      "fanout %-14s readers %2d frame %8zu B: p50 %9s  p99 %9s  slowest p50 %9s  (%llu frames)\n",
      transport_name.c_str(), readers, frame, zinc::bench::format_ns(double(latency.p50)).c_str(),
      zinc::bench::format_ns(double(latency.p99)).c_str(),
      zinc::bench::format_ns(double(slow.p50)).c_str(), static_cast<unsigned long long>(frames));
  return 0;
}
