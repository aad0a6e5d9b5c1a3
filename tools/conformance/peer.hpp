// A zinc user in another process: this executable started with the hidden
// "--peer --lib PATH" role, driven by one-line commands on its stdin, each
// answered by one line on its stdout:
//
//   create NAME CAPACITY | open NAME    -> "rc N"
//   capacity                            -> "capacity N"
//   fill SEED                           -> "ok"      (pattern over the data area)
//   verify SEED                         -> "ok" | "mismatch at OFFSET: X, expected Y"
//   write OFFSET HEX                    -> "ok"
//   read OFFSET LENGTH                  -> "bytes HEX"
//   notify                              -> "ok"
//   try_wait                            -> "rc N"
//   wait MS                             -> "waiting", then "rc N ms ELAPSED"
//   inspect NAME                        -> "rc N" | "rc none" (no zinc_inspect)
//   close                               -> "ok"
//   channel_*                           -> see peer_channel.hpp
//
// At start the peer prints "ready PID", or "error MESSAGE" and exits 1. At
// end of input it closes its handle (an owner's close unlinks) and exits 0.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace zinc::conformance {

// A peer crashed, exited or did not answer in time.
class PeerFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Peer {
 public:
  // Starts `self --peer --lib library` and waits for its "ready" line.
  Peer(const std::string& self, const std::string& library);
  // Starts `/bin/sh -c command`: a port's own peer program speaking this
  // protocol (--peer-command). `label` names it in messages.
  static std::unique_ptr<Peer> from_command(const std::string& command);
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;
  // Ends its input, gives it a moment to close and exit, then kills it.
  ~Peer();

  // Sends one command and returns the answer; throws PeerFailed.
  std::string call(const std::string& command, int timeout_ms = 10000);
  void send(const std::string& command);
  // One line of output, or throws PeerFailed after timeout_ms.
  std::string read_line(int timeout_ms);
  // True and the line if one arrives within timeout_ms; false otherwise.
  bool try_read_line(std::string* line, int timeout_ms);

  void kill_hard();  // SIGKILL, as a crash would
  // SIGKILL without reaping: the process stays a zombie (exited, not yet
  // waited for) until this Peer is destroyed. False if the process using zinc
  // is not our child (a --peer-command that does not exec), whose shell would
  // reap it; then nothing is killed.
  bool kill_unreaped();
  // The pid the peer reported in its "ready" line (the process using zinc).
  pid_t pid() const { return reported_pid_; }
  // What runs in it: a library path or a command.
  const std::string& label() const { return label_; }

 private:
  Peer(const std::vector<std::string>& argv, std::string label);
  std::string describe_exit();
  void shut_down();

  std::string label_;
  pid_t pid_ = -1;  // the child we forked
  pid_t reported_pid_ = -1;
  int to_peer_ = -1;
  int from_peer_ = -1;
  std::string buffered_;
  bool reaped_ = false;
  int status_ = 0;
};

// The byte the fill/verify pattern puts at `offset` for `seed`.
uint8_t pattern_byte(uint32_t seed, uint64_t offset);
// Writes the pattern for `seed` over data[0, length): what "fill SEED" does.
void fill_pattern(uint8_t* data, uint64_t length, uint32_t seed);
// How many of data[0, length) differ from the pattern for `seed`.
uint64_t pattern_mismatches(const uint8_t* data, uint64_t length, uint32_t seed);

// The "--peer" role: serves commands on stdin with the given library.
int run_peer(const std::string& library);

}  // namespace zinc::conformance
