#include "check.hpp"

#include "format.hpp"
#include "peer.hpp"

namespace zinc::conformance {

const char* requirement_name(Requirement requirement) {
  return requirement == Requirement::kRequired ? "required" : "extension";
}

std::string run_prefix(const RunOptions& options) {
  return options.name_prefix + std::to_string(options.run_id) + "-";
}

int check_index_of_region(const RunOptions& options, const std::string& name) {
  const std::string prefix = run_prefix(options);
  if (name.rfind(prefix, 0) != 0) return -1;
  const size_t dash = name.find('-', prefix.size());
  if (dash == std::string::npos || dash == prefix.size()) return -1;
  int index = 0;
  for (size_t i = prefix.size(); i < dash; ++i) {
    if (name[i] < '0' || name[i] > '9' || index > 100000) return -1;
    index = index * 10 + (name[i] - '0');
  }
  return index;
}

namespace {

// Each group's section of docs/spec.md; the longest matching prefix wins.
struct GroupSection {
  const char* prefix;
  const char* section;
};
constexpr GroupSection kGroupSections[] = {
    {"abi.", "§6"},
    {"abi.closed_handle", "§6.1"},
    {"abi.stale_handle", "§6.1"},
    {"abi.foreign_handle", "§6.1"},
    {"abi.create_ex", "§4.1"},
    {"abi.inspect", "§4.4"},
    {"abi.strerror", "§7"},
    {"create.", "§4.1"},
    {"create.rejects_invalid_names", "§2"},
    {"create.accepts_every_name_byte", "§2"},
    {"header.", "§3.1"},
    {"header.new_region_carries_the_waiter_count_block", "§9.2"},
    {"header.data_lives_at_offset", "§3"},
    {"header.padding", "§3"},
    {"open.", "§4.2"},
    {"cursor.", "§5.2"},
    {"cursor.try_wait", "§5.3"},
    {"cursor.one_change_is_reported_to_one_caller", "§5.3"},
    {"wait.", "§5.4"},
    {"wait.timed_out_wait_leaves_the_sleeper_count", "§9.4"},
    {"wait.close_from_another_thread", "§6.1"},
    {"protocol.", "§5.1"},
    {"protocol.notify_wakes_a_plain_peer", "§9.5"},
    {"lifecycle.", "§4.3"},
    {"xproc.", "§5"},
    {"xproc.owner_close", "§4.3"},
    {"xproc.killed_creator", "§4.3"},
    {"xproc.unreaped_creator", "§4.3"},
    {"xproc.owner_pid", "§3.1"},
    {"stale.", "§4.4"},
    {"liveness_locks.", "§4.5"},
    {"interop.", "§5"},
    {"interop.candidate_creates", "§4"},
    {"interop.reference_creates", "§4"},
    {"interop.candidate_owner_close", "§4.3"},
    {"interop.reference_owner_close", "§4.3"},
    {"interop.channel_", "§10"},
    {"channel.", "§10"},
    {"channel.lossless", "§10.5"},
    {"channel.latest", "§10.6"},
    {"channel.frame_is_visible_only_after_commit", "§10.4"},
    {"channel.second_writer", "§10.3"},
    {"channel.full_reader_table", "§10.3"},
    {"channel.reader_refuses", "§10.5"},
    {"channel.calls_in_the_wrong_role", "§10.9"},
    {"channel.close_cancels", "§10.7"},
    {"channel.dead_", "§10.8"},
    {"channel.writer_killed", "§10.8"},
    {"channel.create_typed", "§10.2.1"},
    {"vectors.open.", "§4.2"},
    {"vectors.check_header.", "§4.2"},
    {"vectors.create.", "§4.1"},
    {"vectors.channel.", "§10.2"},
    {"vectors.channel_geometry.", "§10.1"},
};

}  // namespace

std::string spec_section(const Check& check) {
  if (!check.section.empty()) return check.section;
  size_t best = 0;
  std::string section = "§1";
  for (const GroupSection& g : kGroupSections) {
    const std::string prefix = g.prefix;
    if (prefix.size() > best && check.name.rfind(prefix, 0) == 0) {
      best = prefix.size();
      section = g.section;
    }
  }
  return section;
}

std::string rule_key(const Check& check) {
  return check.rule.empty() ? check.name : check.rule;
}

std::string optional_feature_of(const std::string& function) {
  if (function.rfind("zinc_channel_", 0) == 0 || function == "zinc_check_channel_header") {
    return "channels (§10)";
  }
  if (function == "zinc_creator_state" || function == "zinc_mapped_by" ||
      function == "zinc_remove_stale") {
    return "stale-region recovery (§4.4)";
  }
  if (function == "zinc_set_spin" || function == "zinc_get_spin") return "the spin policy (§9.6)";
  return "the reference's additions (§6)";
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

std::string region_name(const RunOptions& options, int check_index, int n) {
  return run_prefix(options) + std::to_string(check_index) + "-" + std::to_string(n);
}

std::string CheckContext::unique_name() {
  return region_name(options, check_index_, names_made_++);
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
