// Cross-process ping-pong: the parent sends a ping, a forked child answers
// with a pong, and the parent records each round trip. One transport per
// run, so every transport is measured by the same loop:
//
//   zinc         notify/wait on two regions (default adaptive spin)
//   zinc-sleep   the same with the spin limit 0: every wait sleeps
//   spin         raw polling of a shared cache line (PAUSE between polls)
//   spin-tight   the same without PAUSE
//   futex        raw shared futex, wake on every send, sleep at once (the
//                original zinc behaviour)
//   eventfd, pipe, unix (socketpair, SOCK_STREAM)
//
// --payload=N writes N bytes before each ping (into the region for zinc,
// into the message for pipe/unix, which then carry it); the round trip is
// timed from just after that write, and the write itself is reported apart.
// --spin-us sets both zinc handles' spin limit (default: ZINC_SPIN_US or
// the library default); zinc-sleep forces 0.
//
// --busy-us=N makes the sender compute (a busy loop that touches no memory)
// for N us before each round, outside the timed part: a control for large
// payloads, whose receivers wait as long while the sender writes.
// --scribble=N makes the sender write N bytes to a private buffer (not the
// region, not the message) before each round, outside the timed part: the
// same memory traffic as an N-byte payload with none of it sent.
// --placement: two-cpus (default) pins parent and child to different CPUs;
// one-cpu pins both to the same CPU; scheduler pins neither.
//
// Usage: zinc_bench_pingpong --transport=zinc [--seconds=2] [--payload=0]
//        [--spin-us=N] [--warmup=0.2] [--placement=two-cpus] [--json=FILE]
//        [--samples=20000] [--busy-us=0] [--scribble=0]
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <memory>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "zinc.h"

namespace {

using zinc::bench::die;
using zinc::bench::read_all;
using zinc::bench::write_all;

using zinc::bench::now_ns;

// State both processes see: an anonymous shared mapping made before fork.
struct alignas(64) Line {
  std::atomic<uint64_t> value{0};
};
struct Shared {
  Line ping;
  Line pong;
  Line stop;
  Line payload_errors;
};

Shared* make_shared_page() {
  void* p =
      mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) die("mmap of the shared page failed");
  return new (p) Shared;
}

long futex(std::atomic<uint64_t>* word, int op, uint32_t value) {
  // The futex word is the low half of the (little-endian) 64-bit counter.
  return syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), op, value, nullptr, nullptr, 0);
}

class Transport {
 public:
  virtual ~Transport() = default;
  // Runs in each process right after the fork.
  virtual void start_parent() {}
  virtual void start_child() {}
  // Parent: writes round i's payload where the transport sends it from.
  virtual void write_payload(uint64_t /*i*/) {}
  // Parent: sends ping i and blocks until pong i.
  virtual void round_trip(uint64_t i) = 0;
  // Child: waits for ping i and answers; false once the parent said stop.
  virtual bool echo(uint64_t i) = 0;
  // Parent: makes the child's pending echo return false.
  virtual void stop() = 0;
  // The zinc handles' spin limit; -1 for the other transports.
  virtual int64_t spin_us() const { return -1; }
};

class SpinTransport : public Transport {
 public:
  SpinTransport(Shared* shared, bool pause) : s_(shared), pause_(pause) {}
  void round_trip(uint64_t i) override {
    s_->ping.value.store(i, std::memory_order_release);
    while (s_->pong.value.load(std::memory_order_acquire) != i) relax();
  }
  bool echo(uint64_t i) override {
    uint64_t v;
    while ((v = s_->ping.value.load(std::memory_order_acquire)) < i) relax();
    if (v == UINT64_MAX) return false;
    s_->pong.value.store(i, std::memory_order_release);
    return true;
  }
  void stop() override { s_->ping.value.store(UINT64_MAX, std::memory_order_release); }

 private:
  void relax() const {
    if (pause_) zinc::bench::cpu_pause();
  }
  Shared* s_;
  bool pause_;
};

// What zinc did before: FUTEX_WAKE on every send, FUTEX_WAIT at once.
class FutexTransport : public Transport {
 public:
  explicit FutexTransport(Shared* shared) : s_(shared) {}
  void round_trip(uint64_t i) override {
    send(&s_->ping.value, i);
    receive(&s_->pong.value, i);
  }
  bool echo(uint64_t i) override {
    receive(&s_->ping.value, i);
    if (s_->stop.value.load(std::memory_order_acquire) != 0) return false;
    send(&s_->pong.value, i);
    return true;
  }
  void stop() override {
    s_->stop.value.store(1, std::memory_order_release);
    send(&s_->ping.value, UINT64_MAX);
  }

 private:
  static void send(std::atomic<uint64_t>* word, uint64_t value) {
    word->store(value, std::memory_order_release);
    futex(word, FUTEX_WAKE, INT_MAX);
  }
  static void receive(std::atomic<uint64_t>* word, uint64_t want) {
    for (;;) {
      const uint64_t v = word->load(std::memory_order_acquire);
      if (v >= want) return;
      futex(word, FUTEX_WAIT, static_cast<uint32_t>(v));
    }
  }
  Shared* s_;
};

class EventfdTransport : public Transport {
 public:
  explicit EventfdTransport(Shared* shared) : s_(shared) {
    ping_ = eventfd(0, EFD_CLOEXEC);
    pong_ = eventfd(0, EFD_CLOEXEC);
    if (ping_ < 0 || pong_ < 0) die("eventfd failed");
  }
  void round_trip(uint64_t) override {
    post(ping_);
    take(pong_);
  }
  bool echo(uint64_t) override {
    take(ping_);
    if (s_->stop.value.load(std::memory_order_acquire) != 0) return false;
    post(pong_);
    return true;
  }
  void stop() override {
    s_->stop.value.store(1, std::memory_order_release);
    post(ping_);
  }

 private:
  static void post(int fd) {
    const uint64_t one = 1;
    write_all(fd, &one, sizeof one);
  }
  static void take(int fd) {
    uint64_t count;
    if (!read_all(fd, &count, sizeof count)) die("eventfd closed");
  }
  Shared* s_;
  int ping_, pong_;
};

// Pipes and stream sockets: the payload travels in the message.
class StreamTransport : public Transport {
 public:
  StreamTransport(Shared* shared, bool socket, size_t payload)
      : s_(shared), message_(std::max<size_t>(payload, 1)) {
    if (socket) {
      int a[2], b[2];
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a) != 0 ||
          socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, b) != 0) {
        die("socketpair failed");
      }
      ping_[0] = a[0], ping_[1] = a[1], pong_[0] = b[0], pong_[1] = b[1];
    } else {
      if (pipe2(ping_, O_CLOEXEC) != 0 || pipe2(pong_, O_CLOEXEC) != 0) die("pipe failed");
      if (message_.size() > 65536) {
        // Give the pipe its largest buffer, as a tuned user would.
        fcntl(ping_[1], F_SETPIPE_SZ, 1 << 20);
      }
    }
  }
  void start_parent() override {
    close(ping_[0]);
    close(pong_[1]);
  }
  void start_child() override {
    close(ping_[1]);
    close(pong_[0]);
  }
  void write_payload(uint64_t i) override {
    std::memset(message_.data(), static_cast<int>((i + 1) & 0xff), message_.size());
    message_[0] = static_cast<uint8_t>(i & 0xff);
  }
  void round_trip(uint64_t) override {
    write_all(ping_[1], message_.data(), message_.size());
    char reply;
    if (!read_all(pong_[0], &reply, 1)) die("child closed the pong channel");
  }
  bool echo(uint64_t i) override {
    if (!read_all(ping_[0], message_.data(), message_.size())) return false;
    // Every byte arrived: the stamp first, the body's last byte last.
    if (message_.size() > 1 && (message_.front() != static_cast<uint8_t>(i & 0xff) ||
                                message_.back() != static_cast<uint8_t>((i + 1) & 0xff))) {
      s_->payload_errors.value.fetch_add(1, std::memory_order_relaxed);
    }
    const char reply = 1;
    write_all(pong_[1], &reply, 1);
    return true;
  }
  void stop() override { close(ping_[1]); }

 private:
  Shared* s_;
  std::vector<uint8_t> message_;
  int ping_[2], pong_[2];
};

class ZincTransport : public Transport {
 public:
  ZincTransport(Shared* shared, size_t payload, int64_t spin_us) : s_(shared), payload_(payload) {
    const size_t page = zinc_page_size();
    const size_t capacity = std::max(page, (payload + page - 1) / page * page);
    const std::string base = "bench-pp-" + std::to_string(getpid());
    ping_name_ = base + "-ping";
    pong_name_ = base + "-pong";
    if (zinc_create(ping_name_.c_str(), capacity, &ping_) != 0 ||
        zinc_create(pong_name_.c_str(), page, &pong_) != 0) {
      die(std::string("zinc_create: ") + zinc_last_error_message());
    }
    spin_us_ = spin_us >= 0 ? static_cast<uint32_t>(spin_us) : zinc_get_spin(ping_);
  }
  ~ZincTransport() override {
    // Only the parent gets here (the child leaves with _exit).
    zinc_close(ping_);
    zinc_close(pong_);
  }
  void start_parent() override { zinc_set_spin(pong_, spin_us_); }
  void start_child() override {
    // The child's own handles; the parent's copies in this process are
    // never used or closed here.
    if (zinc_open(ping_name_.c_str(), &ping_) != 0 || zinc_open(pong_name_.c_str(), &pong_) != 0) {
      die(std::string("zinc_open: ") + zinc_last_error_message());
    }
    zinc_set_spin(ping_, spin_us_);
  }
  void write_payload(uint64_t i) override {
    if (payload_ == 0) return;
    // The frame's body, then its first byte (the "header") last, as a
    // producer that stamps a finished frame would.
    uint8_t* data = zinc_ptr(ping_);
    std::memset(data, static_cast<int>((i + 1) & 0xff), payload_);
    data[0] = static_cast<uint8_t>(i & 0xff);
  }
  void round_trip(uint64_t) override {
    zinc_notify(ping_);
    while (zinc_wait(pong_, 1000) != 0) check_child();
  }
  bool echo(uint64_t i) override {
    while (zinc_wait(ping_, 1000) != 0) {
      if (getppid() == 1) return false;
    }
    if (s_->stop.value.load(std::memory_order_acquire) != 0) return false;
    if (payload_ > 0) {
      // Zero copy: the reader gets the frame in place and looks at its first
      // byte, the same work whatever the payload size (the stream benchmark
      // is the one that reads every byte).
      if (zinc_ptr(ping_)[0] != static_cast<uint8_t>(i & 0xff)) {
        s_->payload_errors.value.fetch_add(1, std::memory_order_relaxed);
      }
    }
    zinc_notify(pong_);
    return true;
  }
  void stop() override {
    s_->stop.value.store(1, std::memory_order_release);
    zinc_notify(ping_);
  }
  int64_t spin_us() const override { return spin_us_; }
  void check_child() const {
    if (waitpid(-1, nullptr, WNOHANG) > 0) die("the echo process died");
  }

 private:
  Shared* s_;
  size_t payload_;
  uint32_t spin_us_;
  std::string ping_name_, pong_name_;
  ZincHandle ping_ = nullptr, pong_ = nullptr;
};

std::unique_ptr<Transport> make_transport(const std::string& name, Shared* shared, size_t payload,
                                          int64_t spin_us) {
  if (name == "zinc") return std::make_unique<ZincTransport>(shared, payload, spin_us);
  if (name == "zinc-sleep") return std::make_unique<ZincTransport>(shared, payload, 0);
  if (name == "spin") return std::make_unique<SpinTransport>(shared, true);
  if (name == "spin-tight") return std::make_unique<SpinTransport>(shared, false);
  if (name == "futex") return std::make_unique<FutexTransport>(shared);
  if (name == "eventfd") return std::make_unique<EventfdTransport>(shared);
  if (name == "pipe") return std::make_unique<StreamTransport>(shared, false, payload);
  if (name == "unix") return std::make_unique<StreamTransport>(shared, true, payload);
  die("unknown --transport=" + name +
      " (zinc, zinc-sleep, spin, spin-tight, futex, eventfd, pipe, unix)");
}

}  // namespace

int main(int argc, char** argv) {
  zinc::bench::Flags flags(argc, argv);
  const std::string transport_name = flags.str("transport", "zinc");
  const double seconds = flags.num("seconds", 2.0);
  const double warmup = flags.num("warmup", 0.2);
  const size_t payload = flags.bytes("payload", 0);
  const int64_t spin_us = static_cast<int64_t>(flags.num("spin-us", -1));
  const int64_t busy_ns = static_cast<int64_t>(flags.num("busy-us", 0) * 1000);
  const size_t scribble = flags.bytes("scribble", 0);
  const std::string placement = flags.str("placement", "two-cpus");
  const std::string json = flags.str("json", "");
  const size_t keep_samples = flags.bytes("samples", 20000);
  const size_t max_rounds = flags.bytes("max-rounds", 5000000);
  flags.check_all_used();
  const bool carries_payload = transport_name.rfind("spin", 0) != 0 && transport_name != "futex" &&
                               transport_name != "eventfd";
  if (payload > 0 && !carries_payload) die("--payload needs zinc, zinc-sleep, pipe or unix");
  if (placement != "two-cpus" && placement != "one-cpu" && placement != "scheduler") {
    die("unknown --placement=" + placement + " (two-cpus, one-cpu, scheduler)");
  }
  const int parent_core = placement == "scheduler" ? -1 : 0;
  const int child_core = placement == "scheduler" ? -1 : placement == "one-cpu" ? 0 : 1;

  Shared* shared = make_shared_page();
  std::unique_ptr<Transport> transport = make_transport(transport_name, shared, payload, spin_us);

  const pid_t child = fork();
  if (child < 0) die("fork failed");
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (child_core >= 0) zinc::bench::pin_to_cpu(child_core);
    transport->start_child();
    for (uint64_t i = 1; transport->echo(i); ++i) {
    }
    _exit(0);
  }
  if (parent_core >= 0) zinc::bench::pin_to_cpu(parent_core);
  transport->start_parent();

  uint64_t round = 0;
  const int64_t warm_until = now_ns() + static_cast<int64_t>(warmup * 1e9);
  while (now_ns() < warm_until) {
    transport->write_payload(++round);
    transport->round_trip(round);
  }

  std::vector<unsigned char> scratch(scribble);
  std::vector<int64_t> overhead, writes;
  overhead.reserve(std::min<size_t>(max_rounds, 1 << 22));
  if (payload > 0) writes.reserve(overhead.capacity());
  const int64_t cpu_before = zinc::bench::cpu_time_ns();
  const int64_t start = now_ns();
  const int64_t until = start + static_cast<int64_t>(seconds * 1e9);
  int64_t t_end = start;
  while (t_end < until && overhead.size() < max_rounds) {
    ++round;
    if (busy_ns > 0) {
      const int64_t busy_until = now_ns() + busy_ns;
      while (now_ns() < busy_until) {
      }
    }
    if (scribble > 0) std::memset(scratch.data(), static_cast<int>(round & 0xff), scribble);
    const int64_t t0 = now_ns();
    transport->write_payload(round);
    // Let the payload's stores drain before the clock starts: the round
    // trip should not be charged for finishing the write.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const int64_t t1 = payload > 0 ? now_ns() : t0;
    transport->round_trip(round);
    t_end = now_ns();
    overhead.push_back(t_end - t1);
    if (payload > 0) writes.push_back(t1 - t0);
  }
  const int64_t elapsed = t_end - start;
  const int64_t parent_cpu = zinc::bench::cpu_time_ns() - cpu_before;
  transport->stop();
  int status = 0;
  waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("the echo process failed");
  // The child's CPU includes its warm-up; close enough for a "% of a CPU".
  const int64_t child_cpu = zinc::bench::cpu_time_ns(RUSAGE_CHILDREN);
  const uint64_t errors = shared->payload_errors.value.load();
  const int64_t effective_spin_us = transport->spin_us();
  transport.reset();
  if (errors != 0) die(std::to_string(errors) + " frames had the wrong payload");

  const size_t rounds = overhead.size();
  zinc::bench::Summary rtt = zinc::bench::summarize(overhead);
  zinc::bench::JsonLine line;
  line.add("bench", "pingpong")
      .add("transport", transport_name)
      .add("payload_bytes", static_cast<int64_t>(payload))
      .add("spin_us", effective_spin_us)
      .add("placement", placement)
      .add("busy_us", static_cast<double>(busy_ns) / 1000)
      .add("scribble_bytes", static_cast<int64_t>(scribble))
      .add("seconds", static_cast<double>(elapsed) / 1e9)
      .add("rtt", rtt)
      .add("round_trips_per_s", static_cast<double>(rounds) * 1e9 / static_cast<double>(elapsed))
      .add("parent_cpu_pct", 100.0 * static_cast<double>(parent_cpu) / static_cast<double>(elapsed))
      .add("child_cpu_pct", 100.0 * static_cast<double>(child_cpu) / static_cast<double>(elapsed));
  if (payload > 0) line.add("payload_write", zinc::bench::summarize(writes));
  line.add_samples("rtt_samples_ns", overhead, keep_samples);
  line.write(json);
  std::printf("pingpong %-10s payload %8zu B: p50 %9s  p99 %9s  p99.9 %9s  (%zu round trips)\n",
              transport_name.c_str(), payload, zinc::bench::format_ns(double(rtt.p50)).c_str(),
              zinc::bench::format_ns(double(rtt.p99)).c_str(),
              zinc::bench::format_ns(double(rtt.p999)).c_str(), rounds);
  return 0;
}
