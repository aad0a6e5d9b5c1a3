// An open region for the commands that block in zinc_wait (wait, watch):
// Ctrl-C, SIGTERM or SIGHUP close the handle from a watcher thread, which
// cancels the blocked wait at once (zinc_wait returns ZINC_ECANCELED).
// Reads of the header through the mapping take a lock that the close also
// takes, so they never touch a mapping that is going away.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "stop_signals.hpp"
#include "zinc.h"

namespace zinc::cli {

class WatchedRegion {
 public:
  WatchedRegion() = default;  // blocks the stop signals: construct before any thread starts
  WatchedRegion(const WatchedRegion&) = delete;
  WatchedRegion& operator=(const WatchedRegion&) = delete;
  ~WatchedRegion();

  // zinc_open, then arms the signal watcher.
  int32_t open(const std::string& name);
  // zinc_wait; ZINC_ECANCELED once a stop signal closed the handle.
  int32_t wait(uint32_t timeout_ms);
  // Consumes whatever is pending for the handle, so that the next wait is
  // for a notification published from now on.
  void drain();
  // The header's notify_seq and created_at, read through the mapping;
  // false once a stop signal closed the handle.
  bool sequence(uint32_t* out);
  bool created_at(uint64_t* out);
  // The stop signal that arrived, or 0.
  int stop_signal() const { return stop_.received(); }

 private:
  const uint8_t* header_locked() const;  // caller holds mutex_; NULL if closed

  std::mutex mutex_;
  ZincHandle handle_ = nullptr;
  bool closed_ = false;
  // Last: destroyed first, so the watcher thread is joined while the
  // members it touches still exist.
  StopSignals stop_;
};

}  // namespace zinc::cli
