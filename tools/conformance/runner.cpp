#include "runner.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "library.hpp"
#include "peer.hpp"
#include "raw_object.hpp"

namespace zinc::conformance {
namespace {

// Findings travel from the check process as tab-separated lines:
//   F what expected actual | N note | S skip-reason | O optional feature
//   | E (finished)
std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> fields(1);
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '\t') {
      fields.emplace_back();
    } else if (c == '\\' && i + 1 < line.size()) {
      const char next = line[++i];
      fields.back() += next == 't' ? '\t' : next == 'n' ? '\n' : next;
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

void write_line(int fd, const std::string& line) {
  const std::string text = line + "\n";
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

class PipeSink : public FindingSink {
 public:
  explicit PipeSink(int fd) : fd_(fd) {}
  void failure(const std::string& what, const std::string& expected,
               const std::string& actual) override {
    write_line(fd_, "F\t" + escape(what) + "\t" + escape(expected) + "\t" + escape(actual));
  }
  void note(const std::string& text) override { write_line(fd_, "N\t" + escape(text)); }
  void skip(const std::string& reason) { write_line(fd_, "S\t" + escape(reason)); }
  void optional(const std::string& feature) { write_line(fd_, "O\t" + escape(feature)); }
  void finished() { write_line(fd_, "E"); }

 private:
  int fd_;
};

// The body of the check process.
[[noreturn]] void check_process(const Check& check, int index, const RunOptions& options, int fd) {
  PipeSink sink(fd);
  LoadedLibrary loaded;
  std::string error;
  if (!load_library(options.library, &loaded, &error)) {
    sink.failure("load the candidate", "dlopen succeeds", error);
    sink.finished();
    _exit(0);
  }
  const bool is_export_check = check.name == "abi.exports_the_nine_functions";
  if (!loaded.missing_required.empty() && !is_export_check) {
    sink.skip("candidate lacks " + loaded.missing_required.front() + " (one of the nine)");
    sink.finished();
    _exit(0);
  }
  if (check.needs_reference && options.reference.empty()) {
    sink.skip("no reference library (pass --reference PATH)");
    sink.finished();
    _exit(0);
  }
  for (const std::string& function : check.needs) {
    if (!loaded.api.has(function)) {
      sink.skip("port lacks " + function);
      sink.optional(optional_feature_of(function));
      sink.finished();
      _exit(0);
    }
  }
  CheckContext context(loaded.api, options, index, sink);
  try {
    check.run(context);
  } catch (const CheckStopped&) {
  } catch (const CheckSkipped& skipped) {
    sink.skip(skipped.reason);
  } catch (const PeerFailed& e) {
    sink.failure("a peer process", "answers each command", e.what());
  } catch (const KitError& e) {
    sink.failure("the kit's own environment", "works", e.what());
  } catch (const std::exception& e) {
    sink.failure("the check", "finishes", std::string("exception: ") + e.what());
  }
  sink.finished();
  _exit(0);
}

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) {
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  }
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

volatile sig_atomic_t stop_signal = 0;

extern "C" void on_stop_signal(int signal_number) {
  stop_signal = signal_number;
}

enum class ReadEnd { kEof, kTimeout, kStopped };

// Reads lines until EOF, the deadline, or a stop signal.
ReadEnd read_lines(int fd, int64_t deadline_ms, std::vector<std::string>* lines) {
  std::string buffer;
  for (;;) {
    if (stop_signal != 0) return ReadEnd::kStopped;
    const int64_t left = deadline_ms - monotonic_ms();
    if (left <= 0) return ReadEnd::kTimeout;
    pollfd p{fd, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char chunk[4096];
    const ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buffer.append(chunk, static_cast<size_t>(n));
    size_t newline;
    while ((newline = buffer.find('\n')) != std::string::npos) {
      lines->push_back(buffer.substr(0, newline));
      buffer.erase(0, newline + 1);
    }
  }
  return ReadEnd::kEof;
}

}  // namespace

CheckResult run_check(const Check& check, int index, const RunOptions& options) {
  CheckResult result;
  result.check = &check;
  const int64_t start = monotonic_ms();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw KitError("pipe: " + std::string(std::strerror(errno)));
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t child = fork();
  if (child < 0) throw KitError("fork: " + std::string(std::strerror(errno)));
  if (child == 0) {
    close(fds[0]);
    setpgid(0, 0);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    dup2(STDERR_FILENO, STDOUT_FILENO);  // the candidate's chatter stays off the report
    check_process(check, index, options, fds[1]);
  }
  setpgid(child, child);
  close(fds[1]);
  std::vector<std::string> lines;
  const ReadEnd end = read_lines(fds[0], start + options.check_timeout_s * 1000LL, &lines);
  close(fds[0]);
  if (end != ReadEnd::kEof) kill(-child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  // Peers the check started and could not stop (it crashed) go too.
  kill(-child, SIGKILL);

  bool finished = false;
  for (const std::string& line : lines) {
    const std::vector<std::string> f = split_fields(line);
    if (f[0] == "F" && f.size() == 4) {
      result.failures.push_back({f[1], f[2], f[3]});
    } else if (f[0] == "N" && f.size() == 2) {
      result.notes.push_back(f[1]);
    } else if (f[0] == "S" && f.size() == 2) {
      result.skip_reason = f[1];
    } else if (f[0] == "O" && f.size() == 2) {
      result.optional_feature = f[1];
    } else if (f[0] == "E") {
      finished = true;
    }
  }
  result.finished = end == ReadEnd::kEof && finished;
  if (end == ReadEnd::kStopped) {
    result.failures.push_back({"the check", "finishes", "the run was interrupted"});
  } else if (end == ReadEnd::kTimeout) {
    result.failures.push_back({"the check",
                               "finishes within " + std::to_string(options.check_timeout_s) + " s",
                               "still running (a hang); killed"});
  } else if (!finished) {
    result.failures.push_back({"the check process", "finishes normally", describe_status(status)});
  }
  if (!result.failures.empty()) {
    result.outcome = Outcome::kFail;
  } else if (!result.skip_reason.empty()) {
    result.outcome = Outcome::kSkip;
  } else {
    result.outcome = Outcome::kPass;
  }
  result.seconds = static_cast<double>(monotonic_ms() - start) / 1000.0;
  return result;
}

Probe probe_library(const std::string& path) {
  Probe probe;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw KitError("pipe: " + std::string(std::strerror(errno)));
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t child = fork();
  if (child < 0) throw KitError("fork: " + std::string(std::strerror(errno)));
  if (child == 0) {
    close(fds[0]);
    dup2(STDERR_FILENO, STDOUT_FILENO);
    LoadedLibrary loaded;
    std::string error;
    if (!load_library(path, &loaded, &error)) {
      write_line(fds[1], "error\t" + escape(error));
      _exit(0);
    }
    for (const auto& name : loaded.missing_required) write_line(fds[1], "required\t" + name);
    for (const auto& name : loaded.missing_optional) write_line(fds[1], "optional\t" + name);
    if (loaded.api.version != nullptr) {
      write_line(fds[1], "version\t" + std::to_string(loaded.api.version()));
    }
    write_line(fds[1], "loaded");
    _exit(0);
  }
  close(fds[1]);
  std::vector<std::string> lines;
  const bool in_time = read_lines(fds[0], monotonic_ms() + 30000, &lines) == ReadEnd::kEof;
  close(fds[0]);
  if (!in_time) kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  for (const std::string& line : lines) {
    const std::vector<std::string> f = split_fields(line);
    if (f[0] == "error" && f.size() == 2) probe.error = f[1];
    if (f[0] == "required" && f.size() == 2) probe.missing_required.push_back(f[1]);
    if (f[0] == "optional" && f.size() == 2) probe.missing_optional.push_back(f[1]);
    if (f[0] == "version" && f.size() == 2) probe.version = static_cast<uint32_t>(std::stoul(f[1]));
    if (f[0] == "loaded") probe.loaded = true;
  }
  if (!probe.loaded && probe.error.empty()) {
    probe.error = "loading it " + (in_time ? describe_status(status) : "hung");
  }
  return probe;
}

void stop_on_signals() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;  // no SA_RESTART: poll returns EINTR
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGHUP, &action, nullptr);
}

int stop_requested() {
  return stop_signal;
}

std::vector<std::string> sweep_regions(const RunOptions& options) {
  std::vector<std::string> removed;
  const std::string prefix = "zinc_" + run_prefix(options);
  DIR* dir = opendir("/dev/shm");
  if (dir == nullptr) return removed;
  while (const dirent* entry = readdir(dir)) {
    const std::string file = entry->d_name;
    if (file.rfind(prefix, 0) == 0) removed.push_back(file.substr(5));
  }
  closedir(dir);
  for (const std::string& name : removed) unlink_object(name);
  return removed;
}

}  // namespace zinc::conformance
