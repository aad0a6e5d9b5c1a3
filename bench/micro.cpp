// In-process costs, with Google Benchmark: notify with nobody asleep (and
// the syscalls it avoids; also called from another library that loaded
// libzinc_core.so with dlopen), try_wait, the channel frame calls, and region
// set-up against the bare shm_open/ftruncate/mmap/munmap sequence it wraps.
//
// Usage: zinc_bench_micro [Google Benchmark flags, e.g. --benchmark_filter=Notify]
#include <benchmark/benchmark.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "dlopen_client.hpp"
#include "zinc.h"

namespace {

std::string unique_name(const char* what) {
  static int counter = 0;
  return std::string("bench-micro-") + what + "-" + std::to_string(getpid()) + "-" +
         std::to_string(counter++);
}

// A region with an owner and a reader handle, for the notify costs.
struct Pair {
  std::string name = unique_name("pair");
  ZincHandle owner = nullptr;
  ZincHandle reader = nullptr;
  Pair() {
    if (zinc_create(name.c_str(), zinc_page_size(), &owner) != 0 ||
        zinc_open(name.c_str(), &reader) != 0) {
      throw std::runtime_error(zinc_last_error_message());
    }
  }
  ~Pair() {
    zinc_close(reader);
    zinc_close(owner);
  }
  // The header's fields, as another implementation would reach them.
  std::atomic<uint32_t>& header_u32(size_t offset) const {
    return *reinterpret_cast<std::atomic<uint32_t>*>(zinc_ptr(owner) - zinc_page_size() + offset);
  }
};

// ---- notify ---------------------------------------------------------------

void BM_AtomicIncrement(benchmark::State& state) {
  Pair pair;
  std::atomic<uint32_t>& seq = pair.header_u32(12);
  for (auto _ : state) seq.fetch_add(1, std::memory_order_seq_cst);
}
BENCHMARK(BM_AtomicIncrement);

void BM_FutexWakeNobody(benchmark::State& state) {
  Pair pair;
  auto* seq = reinterpret_cast<uint32_t*>(&pair.header_u32(12));
  for (auto _ : state) {
    benchmark::DoNotOptimize(syscall(SYS_futex, seq, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0));
  }
}
BENCHMARK(BM_FutexWakeNobody);

void BM_ZincNotifyNobodyAsleep(benchmark::State& state) {
  Pair pair;
  for (auto _ : state) zinc_notify(pair.owner);
}
BENCHMARK(BM_ZincNotifyNobodyAsleep);

// The same notify from another shared library that loaded libzinc_core.so
// with dlopen and calls it through a dlsym pointer, as a language binding
// does (bench/dlopen_client.cpp); the loop runs in that library.
void BM_ZincNotifyNobodyAsleepViaDlopen(benchmark::State& state) {
  if (zinc_dl_client_load(ZINC_CORE_LIBRARY) != 0) {
    return state.SkipWithError((std::string("dlopen: ") + dlerror()).c_str());
  }
  const std::string name = unique_name("dlopen");
  ZincHandle owner = nullptr;
  if (zinc_dl_client_create(name.c_str(), &owner) != 0) {
    return state.SkipWithError(zinc_last_error_message());
  }
  constexpr uint64_t kBatch = 1000;
  while (state.KeepRunningBatch(kBatch)) zinc_dl_client_notify(owner, kBatch);
  zinc_dl_client_close(owner);
}
BENCHMARK(BM_ZincNotifyNobodyAsleepViaDlopen);

// A plain v2 peer (which never registers as a sleeper) is attached: its
// open raised ref_count, so every notify must call FUTEX_WAKE.
void BM_ZincNotifyPlainPeerAttached(benchmark::State& state) {
  Pair pair;
  pair.header_u32(24).fetch_add(1);  // ref_count, as a plain v2 open does
  for (auto _ : state) zinc_notify(pair.owner);
  pair.header_u32(24).fetch_sub(1);
}
BENCHMARK(BM_ZincNotifyPlainPeerAttached);

void BM_ZincTryWaitNothingPending(benchmark::State& state) {
  Pair pair;
  zinc_try_wait(pair.reader);
  for (auto _ : state) benchmark::DoNotOptimize(zinc_try_wait(pair.reader));
}
BENCHMARK(BM_ZincTryWaitNothingPending);

void BM_ZincNotifyThenTryWait(benchmark::State& state) {
  Pair pair;
  for (auto _ : state) {
    zinc_notify(pair.owner);
    benchmark::DoNotOptimize(zinc_try_wait(pair.reader));
  }
}
BENCHMARK(BM_ZincNotifyThenTryWait);

void BM_ZincNotifyThenWait(benchmark::State& state) {
  Pair pair;
  for (auto _ : state) {
    zinc_notify(pair.owner);
    benchmark::DoNotOptimize(zinc_wait(pair.reader, 1000));
  }
}
BENCHMARK(BM_ZincNotifyThenWait);

// ---- channel frames ---------------------------------------------------------
// The per-frame cost of the channel C calls in one thread, ring never full:
// each call goes through the channel handle table once.

// A lossless channel of 64-byte slots with its writer and (optionally) one reader.
struct ChannelPair {
  std::string name = unique_name("channel");
  ZincChannel writer = nullptr;
  ZincChannel reader = nullptr;
  explicit ChannelPair(bool with_reader) {
    if (zinc_channel_create(name.c_str(), ZINC_CHANNEL_LOSSLESS, 4, 64, 1, 0, &writer) != 0 ||
        (with_reader && zinc_channel_open_reader(name.c_str(), &reader) != 0)) {
      throw std::runtime_error(zinc_last_error_message());
    }
  }
  ~ChannelPair() {
    zinc_channel_close(reader);
    zinc_channel_close(writer);
  }
};

// acquire + commit with no reader joined, so the ring never fills.
void BM_ChannelAcquireCommit(benchmark::State& state) {
  ChannelPair pair(false);
  ZincChannelFrame frame{};
  for (auto _ : state) {
    if (zinc_channel_acquire(pair.writer, 0, &frame) != 0 ||
        zinc_channel_commit(pair.writer, 8) != 0) {
      return state.SkipWithError(zinc_last_error_message());
    }
  }
}
BENCHMARK(BM_ChannelAcquireCommit);

// acquire + commit + read + release: one frame through a reader. The
// reader's share (read + release) is this minus BM_ChannelAcquireCommit.
void BM_ChannelAcquireCommitReadRelease(benchmark::State& state) {
  ChannelPair pair(true);
  ZincChannelFrame frame{};
  ZincChannelFrame got{};
  for (auto _ : state) {
    if (zinc_channel_acquire(pair.writer, 0, &frame) != 0 ||
        zinc_channel_commit(pair.writer, 8) != 0 || zinc_channel_read(pair.reader, 0, &got) != 0 ||
        zinc_channel_release(pair.reader) != 0) {
      return state.SkipWithError(zinc_last_error_message());
    }
  }
}
BENCHMARK(BM_ChannelAcquireCommitReadRelease);

// ---- set-up -----------------------------------------------------------------
// Each takes the capacity as its argument; the object is one page larger.

void fail(benchmark::State& state, const std::string& what) {
  state.SkipWithError((what + ": " + std::strerror(errno)).c_str());
}

enum class Sizing { kTruncate, kFallocate };

// The bare sequence create+close wraps: shm_open(O_CREAT|O_EXCL),
// size, mmap, munmap, close, shm_unlink. `touch` writes one header's worth
// of bytes, which any real use of the region does.
void bare_create_close(benchmark::State& state, Sizing sizing, bool touch) {
  const size_t total = zinc_page_size() + static_cast<size_t>(state.range(0));
  const std::string object = "/zinc_" + unique_name("bare");
  for (auto _ : state) {
    const int fd = shm_open(object.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) return fail(state, "shm_open");
    const int sized = sizing == Sizing::kTruncate
                          ? ftruncate(fd, static_cast<off_t>(total))
                          : posix_fallocate(fd, 0, static_cast<off_t>(total));
    if (sized != 0) return fail(state, "sizing");
    void* base = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) return fail(state, "mmap");
    if (touch) std::memset(base, 1, 64);
    munmap(base, total);
    close(fd);
    shm_unlink(object.c_str());
  }
}

void BM_BareCreateClose(benchmark::State& state) {
  bare_create_close(state, Sizing::kTruncate, false);
}
void BM_BareCreateTouchClose(benchmark::State& state) {
  bare_create_close(state, Sizing::kTruncate, true);
}
void BM_BareCreateFallocateTouchClose(benchmark::State& state) {
  bare_create_close(state, Sizing::kFallocate, true);
}

void zinc_create_close(benchmark::State& state, uint32_t flags) {
  const size_t capacity = static_cast<size_t>(state.range(0));
  const std::string name = unique_name("create");
  for (auto _ : state) {
    ZincHandle h = nullptr;
    if (zinc_create_ex(name.c_str(), capacity, flags, &h) != 0) {
      return state.SkipWithError(zinc_last_error_message());
    }
    zinc_close(h);
  }
}

void BM_ZincCreateClose(benchmark::State& state) {
  zinc_create_close(state, ZINC_CREATE_DEFAULT);
}
void BM_ZincCreatePrefaultClose(benchmark::State& state) {
  zinc_create_close(state, ZINC_CREATE_PREFAULT);
}
void BM_ZincCreateNoReserveClose(benchmark::State& state) {
  zinc_create_close(state, ZINC_CREATE_NORESERVE);
}

void BM_BareOpenClose(benchmark::State& state) {
  Pair region_to_open;
  const std::string object = "/zinc_" + region_to_open.name;
  for (auto _ : state) {
    const int fd = shm_open(object.c_str(), O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) return fail(state, "shm_open");
    struct stat st{};
    if (fstat(fd, &st) != 0) return fail(state, "fstat");
    void* base =
        mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) return fail(state, "mmap");
    benchmark::DoNotOptimize(*static_cast<volatile uint64_t*>(base));  // read the header
    munmap(base, static_cast<size_t>(st.st_size));
    close(fd);
  }
}

void BM_ZincOpenClose(benchmark::State& state) {
  Pair region_to_open;
  for (auto _ : state) {
    ZincHandle h = nullptr;
    if (zinc_open(region_to_open.name.c_str(), &h) != 0) {
      return state.SkipWithError(zinc_last_error_message());
    }
    zinc_close(h);
  }
}

constexpr int64_t kKiB = 1024;
BENCHMARK(BM_BareCreateClose)->Arg(4 * kKiB)->Arg(1024 * kKiB)->Arg(64 * 1024 * kKiB);
BENCHMARK(BM_BareCreateTouchClose)->Arg(4 * kKiB)->Arg(1024 * kKiB)->Arg(64 * 1024 * kKiB);
BENCHMARK(BM_BareCreateFallocateTouchClose)->Arg(4 * kKiB)->Arg(1024 * kKiB)->Arg(64 * 1024 * kKiB);
BENCHMARK(BM_ZincCreateClose)->Arg(4 * kKiB)->Arg(1024 * kKiB)->Arg(64 * 1024 * kKiB);
BENCHMARK(BM_ZincCreatePrefaultClose)->Arg(4 * kKiB)->Arg(1024 * kKiB)->Arg(64 * 1024 * kKiB);
BENCHMARK(BM_ZincCreateNoReserveClose)->Arg(4 * kKiB)->Arg(1024 * kKiB)->Arg(64 * 1024 * kKiB);
BENCHMARK(BM_BareOpenClose);
BENCHMARK(BM_ZincOpenClose);

// The whole life of a region that is used: create, write every byte once,
// close. Without posix_fallocate the pages are allocated and zeroed by the
// first-touch faults instead, so the reservation moves that cost to create
// rather than adding to it.
void BM_BareCreateFillClose(benchmark::State& state) {
  const size_t total = zinc_page_size() + static_cast<size_t>(state.range(0));
  const std::string object = "/zinc_" + unique_name("bare-fill");
  for (auto _ : state) {
    const int fd = shm_open(object.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) return fail(state, "shm_open");
    if (ftruncate(fd, static_cast<off_t>(total)) != 0) return fail(state, "ftruncate");
    void* base = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) return fail(state, "mmap");
    std::memset(base, 1, total);
    munmap(base, total);
    close(fd);
    shm_unlink(object.c_str());
  }
}

void zinc_create_fill_close(benchmark::State& state, uint32_t flags) {
  const size_t capacity = static_cast<size_t>(state.range(0));
  const std::string name = unique_name("fill");
  for (auto _ : state) {
    ZincHandle h = nullptr;
    if (zinc_create_ex(name.c_str(), capacity, flags, &h) != 0) {
      return state.SkipWithError(zinc_last_error_message());
    }
    std::memset(zinc_ptr(h), 1, capacity);
    zinc_close(h);
  }
}
void BM_ZincCreateFillClose(benchmark::State& state) {
  zinc_create_fill_close(state, ZINC_CREATE_DEFAULT);
}
void BM_ZincCreatePrefaultFillClose(benchmark::State& state) {
  zinc_create_fill_close(state, ZINC_CREATE_PREFAULT);
}
void BM_ZincCreateNoReserveFillClose(benchmark::State& state) {
  zinc_create_fill_close(state, ZINC_CREATE_NORESERVE);
}
BENCHMARK(BM_BareCreateFillClose)->Arg(1024 * kKiB)->Arg(64 * 1024 * kKiB);
BENCHMARK(BM_ZincCreateFillClose)->Arg(1024 * kKiB)->Arg(64 * 1024 * kKiB);
BENCHMARK(BM_ZincCreatePrefaultFillClose)->Arg(1024 * kKiB)->Arg(64 * 1024 * kKiB);
BENCHMARK(BM_ZincCreateNoReserveFillClose)->Arg(1024 * kKiB)->Arg(64 * 1024 * kKiB);

// ---- the first frame ----------------------------------------------------------
// Writing 4 MiB into a region just created, with and without
// ZINC_CREATE_PREFAULT: the page faults of a fresh mapping make the first
// frame slow unless the pages were populated at create.

void first_frame(benchmark::State& state, uint32_t flags) {
  const size_t frame = 4 << 20;
  const std::string name = unique_name("frame");
  for (auto _ : state) {
    ZincHandle h = nullptr;
    if (zinc_create_ex(name.c_str(), frame, flags, &h) != 0) {
      return state.SkipWithError(zinc_last_error_message());
    }
    const auto start = std::chrono::steady_clock::now();
    std::memset(zinc_ptr(h), 7, frame);
    const auto end = std::chrono::steady_clock::now();
    state.SetIterationTime(std::chrono::duration<double>(end - start).count());
    zinc_close(h);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(frame));
}

void BM_FirstFrameWrite(benchmark::State& state) {
  first_frame(state, ZINC_CREATE_DEFAULT);
}
void BM_FirstFrameWritePrefaulted(benchmark::State& state) {
  first_frame(state, ZINC_CREATE_PREFAULT);
}
BENCHMARK(BM_FirstFrameWrite)->UseManualTime();
BENCHMARK(BM_FirstFrameWritePrefaulted)->UseManualTime();

// The same 4 MiB write once the pages are mapped: what every later frame costs.
void BM_LaterFrameWrite(benchmark::State& state) {
  const size_t frame = 4 << 20;
  const std::string name = unique_name("frame");
  ZincHandle h = nullptr;
  if (zinc_create(name.c_str(), frame, &h) != 0) {
    return state.SkipWithError(zinc_last_error_message());
  }
  std::memset(zinc_ptr(h), 1, frame);
  for (auto _ : state) {
    std::memset(zinc_ptr(h), 7, frame);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(frame));
  zinc_close(h);
}
BENCHMARK(BM_LaterFrameWrite);

}  // namespace

BENCHMARK_MAIN();
