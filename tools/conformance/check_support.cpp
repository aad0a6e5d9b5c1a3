#include "check_support.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdio>

#include "peer.hpp"
#include "raw_object.hpp"

namespace zinc::conformance {

void Handle::close() {
  if (handle_ != nullptr) api_->close(handle_);
  handle_ = nullptr;
}

Handle create_region(CheckContext& ctx, const std::string& name, uint64_t capacity) {
  Handle handle(ctx.zinc);
  const int32_t rc = ctx.zinc.create(name.c_str(), capacity, handle.out());
  if (rc != 0) handle.leak();
  ctx.require_code("zinc_create(\"" + name + "\", " + std::to_string(capacity) + ")", 0, rc);
  return handle;
}

Handle open_region(CheckContext& ctx, const std::string& name) {
  Handle handle(ctx.zinc);
  const int32_t rc = ctx.zinc.open(name.c_str(), handle.out());
  if (rc != 0) handle.leak();
  ctx.require_code("zinc_open(\"" + name + "\")", 0, rc);
  return handle;
}

BackgroundWait::BackgroundWait(const Api& api, Handle& handle, uint32_t timeout_ms)
    : handle_(handle), state_(std::make_shared<State>()) {
  // The thread owns a share of the state: it may outlive this object.
  thread_ = std::thread([state = state_, &api, h = handle.get(), timeout_ms] {
    state->tid.store(current_tid());
    const int64_t start = monotonic_ms();
    state->rc.store(api.wait(h, timeout_ms));
    state->elapsed_ms.store(monotonic_ms() - start);
    state->done.store(true);
  });
}

BackgroundWait::~BackgroundWait() {
  if (state_->done.load()) {
    thread_.join();
  } else {
    // Still inside zinc_wait: closing its handle under it would be
    // undefined for a port of the original ABI. Leave both; the check
    // process exits right after the check.
    handle_.leak();
    thread_.detach();
  }
}

bool BackgroundWait::asleep_within(int timeout_ms) {
  const int64_t deadline = monotonic_ms() + timeout_ms;
  while (state_->tid.load() == 0) {
    if (monotonic_ms() >= deadline) return false;
    usleep(200);
  }
  const int64_t left = deadline - monotonic_ms();
  return wait_until_asleep(getpid(), state_->tid.load(), static_cast<int>(left > 0 ? left : 0)) &&
         !state_->done.load();
}

bool BackgroundWait::returned_within(int limit_ms) {
  const int64_t deadline = monotonic_ms() + limit_ms;
  while (!state_->done.load()) {
    if (monotonic_ms() >= deadline) return false;
    usleep(500);
  }
  return true;
}

HeaderFields read_header(const std::string& name) {
  const std::vector<uint8_t> bytes = read_object(name);
  if (bytes.size() < kHeaderSize) {
    throw KitError("object " + object_path(name) + " is only " + std::to_string(bytes.size()) +
                   " bytes");
  }
  return decode_header(bytes.data());
}

std::vector<uint8_t> valid_header_page(const std::string& name, uint64_t capacity) {
  std::vector<uint8_t> page = encode_header(fresh_header(name, capacity, 4242, 1));
  page.resize(system_page_size(), 0);
  return page;
}

void start_peer_wait(CheckContext& ctx, Peer& peer, uint32_t timeout_ms) {
  const std::string ack = peer.call("wait " + std::to_string(timeout_ms));
  ctx.require(ack == "waiting", "peer's answer to 'wait'", "waiting", ack);
  if (!wait_until_asleep(peer.pid(), peer.pid(), 2000)) {
    ctx.note("peer " + std::to_string(peer.pid()) +
             " was not seen asleep within 2 s (a spinning wait?); notified anyway");
  }
}

bool peer_wait_result(CheckContext& ctx, Peer& peer, const std::string& what,
                      const std::string& expected, int limit_ms, int32_t* rc, int64_t* elapsed_ms) {
  std::string line;
  if (!peer.try_read_line(&line, limit_ms)) {
    ctx.expect(false, what, expected, "still waiting");
    return false;
  }
  int code = 0;
  long long ms = 0;
  if (std::sscanf(line.c_str(), "rc %d ms %lld", &code, &ms) != 2) {
    ctx.expect(false, what, "an answer 'rc N ms T'", "'" + line + "'");
    return false;
  }
  *rc = code;
  if (elapsed_ms != nullptr) *elapsed_ms = ms;
  return true;
}

namespace {

std::string peer_label(const Peer& peer, const std::string& command) {
  const std::string& label = peer.label();
  const size_t slash = label.find(' ') == std::string::npos ? label.rfind('/') : std::string::npos;
  return "peer " + std::to_string(peer.pid()) + " (" +
         (slash == std::string::npos ? label : label.substr(slash + 1)) + "): '" + command + "'";
}

}  // namespace

bool expect_answer(CheckContext& ctx, Peer& peer, const std::string& command,
                   const std::string& expected) {
  const std::string answer = peer.call(command);
  return ctx.expect(answer == expected, peer_label(peer, command), "'" + expected + "'",
                    "'" + answer + "'");
}

void require_answer(CheckContext& ctx, Peer& peer, const std::string& command,
                    const std::string& expected) {
  if (!expect_answer(ctx, peer, command, expected)) throw CheckStopped{};
}

std::string rc_line(int32_t code) { return "rc " + std::to_string(code); }

int32_t peer_rc(CheckContext& ctx, const std::string& what, const std::string& answer) {
  int code = 0;
  if (std::sscanf(answer.c_str(), "rc %d", &code) != 1) {
    ctx.expect(false, what, "an answer 'rc N'", "'" + answer + "'");
    return INT32_MIN;
  }
  return code;
}

int run_as_nobody(const std::function<int()>& body) {
  const pid_t child = fork();
  if (child < 0) throw KitError("fork failed");
  if (child == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(255);
    _exit(body());
  }
  int status = 0;
  waitpid(child, &status, 0);
  if (!WIFEXITED(status)) return -2;
  return WEXITSTATUS(status) == 255 ? -1 : WEXITSTATUS(status);
}

}  // namespace zinc::conformance
