#include "stop_signals.hpp"

#include <pthread.h>

namespace zinc::cli {

// SIGUSR1 only ever comes from the destructor, to end the watcher.
StopSignals::StopSignals() {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTERM);
  sigaddset(&signals_, SIGHUP);
  sigaddset(&signals_, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
}

StopSignals::~StopSignals() {
  if (watcher_.joinable()) {
    ending_.store(true);
    pthread_kill(watcher_.native_handle(), SIGUSR1);
    watcher_.join();
  }
}

void StopSignals::watch(std::function<void()> on_stop) {
  watcher_ = std::thread([this, on_stop = std::move(on_stop)] {
    for (;;) {
      int signal_number = 0;
      if (sigwait(&signals_, &signal_number) != 0) continue;
      if (ending_.load()) return;
      if (signal_number == SIGUSR1) continue;
      received_.store(signal_number);
      on_stop();
      return;
    }
  });
}

int StopSignals::wait() {
  for (;;) {
    int signal_number = 0;
    if (sigwait(&signals_, &signal_number) != 0 || signal_number == SIGUSR1) continue;
    received_.store(signal_number);
    return signal_number;
  }
}

}  // namespace zinc::cli
