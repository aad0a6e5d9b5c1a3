// Running the `zinc` binary from the tests: to completion, or in the
// background (create, wait, watch) reading its output line by line.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace zinc::cli::test {

struct Result {
  int exit_code = -1;  // the exit status, or 128 + signal
  std::string out;
  std::string err;
};

// Runs `zinc ARGS...` and waits for it (killed after 60 s, which fails).
Result run_zinc(const std::vector<std::string>& args);

class Background {
 public:
  explicit Background(const std::vector<std::string>& args);
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  ~Background();  // SIGKILL and reap if still running

  pid_t pid() const { return pid_; }
  // The next stdout line without its newline; "<timeout>" or "<eof>".
  std::string read_line(int timeout_ms = 20000);
  void signal(int signal_number);
  // True once the process has exited (reaps it; never blocks).
  bool exited();
  // True once the process blocks `signal_number` (so a signal sent now
  // reaches its sigwait instead of the default action).
  bool blocks(int signal_number);
  // Waits for the exit and collects the rest of stdout and all of stderr;
  // exit_code -1 if it did not exit within timeout_ms.
  Result finish(int timeout_ms = 20000);

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  int err_ = -1;
  std::string out_buffer_;
  std::string err_buffer_;
  bool reaped_ = false;
  int status_ = 0;
};

}  // namespace zinc::cli::test
