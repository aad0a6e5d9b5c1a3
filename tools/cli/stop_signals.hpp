// Ending long-running commands cleanly on Ctrl-C, SIGTERM or SIGHUP: the
// signals are blocked and taken by sigwait, on a watcher thread (which then
// cancels the blocked zinc_wait by closing its handle) or in the caller.
#pragma once

#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>

namespace zinc::cli {

class StopSignals {
 public:
  // Blocks SIGINT, SIGTERM and SIGHUP in this thread and in every thread
  // started after; construct it before anything starts threads.
  StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  ~StopSignals();  // ends the watcher thread

  // Calls `on_stop` on a watcher thread when one of the signals arrives.
  void watch(std::function<void()> on_stop);
  // Blocks the calling thread until one of the signals arrives.
  int wait();
  // The signal that arrived, or 0.
  int received() const { return received_.load(); }

 private:
  sigset_t signals_;
  std::atomic<int> received_{0};
  std::atomic<bool> ending_{false};
  std::thread watcher_;
};

}  // namespace zinc::cli
