#include "check.hpp"

#include "format.hpp"
#include "peer.hpp"

namespace zinc::conformance {

const char* requirement_name(Requirement requirement) {
  return requirement == Requirement::kRequired ? "required" : "extension";
}

std::string run_prefix(pid_t run_id) {
  return "t" + std::to_string(run_id) + "-";
}

std::vector<Check>& all_checks() {
  static std::vector<Check> checks;
  return checks;
}

RegisterChecks::RegisterChecks(std::initializer_list<Check> checks) {
  for (const Check& check : checks) all_checks().push_back(check);
}

CheckContext::CheckContext(const Api& api, const RunOptions& run_options, int check_index,
                           FindingSink& sink)
    : zinc(api), options(run_options), sink_(sink), check_index_(check_index) {}

std::string CheckContext::unique_name() {
  return run_prefix(options.run_id) + std::to_string(check_index_) + "-" +
         std::to_string(names_made_++);
}

size_t CheckContext::page() const {
  return system_page_size();
}

bool CheckContext::expect(bool held, const std::string& what, const std::string& expected,
                          const std::string& actual) {
  if (!held) {
    failed_ = true;
    sink_.failure(what, expected, actual);
  }
  return held;
}

bool CheckContext::expect_code(const std::string& what, int32_t expected, int32_t actual) {
  return expect(actual == expected, what, describe_code(expected), describe_code(actual));
}

bool CheckContext::expect_code_in(const std::string& what, std::initializer_list<int32_t> accepted,
                                  int32_t actual) {
  std::string expected;
  bool held = false;
  for (int32_t code : accepted) {
    if (!expected.empty()) expected += " or ";
    expected += describe_code(code);
    held = held || code == actual;
  }
  return expect(held, what, expected, describe_code(actual));
}

bool CheckContext::expect_eq(const std::string& what, uint64_t expected, uint64_t actual) {
  return expect(expected == actual, what, std::to_string(expected), std::to_string(actual));
}

bool CheckContext::expect_null(const std::string& what, const void* pointer) {
  return expect(pointer == nullptr, what, "NULL",
                pointer == nullptr ? "NULL" : hex(reinterpret_cast<uintptr_t>(pointer)));
}

void CheckContext::require(bool held, const std::string& what, const std::string& expected,
                           const std::string& actual) {
  if (!expect(held, what, expected, actual)) throw CheckStopped{};
}

void CheckContext::require_code(const std::string& what, int32_t expected, int32_t actual) {
  if (!expect_code(what, expected, actual)) throw CheckStopped{};
}

void CheckContext::skip(const std::string& reason) {
  throw CheckSkipped{reason};
}

void CheckContext::note(const std::string& text) {
  sink_.note(text);
}

std::unique_ptr<Peer> CheckContext::candidate_peer() {
  if (!options.peer_command.empty()) return Peer::from_command(options.peer_command);
  return std::make_unique<Peer>(options.self, options.library);
}

std::unique_ptr<Peer> CheckContext::reference_peer() {
  if (options.reference.empty()) skip("no reference library (pass --reference PATH)");
  return std::make_unique<Peer>(options.self, options.reference);
}

ZincHandle junk_handle() {
  return reinterpret_cast<ZincHandle>(uintptr_t{0xdead0001});
}

}  // namespace zinc::conformance
