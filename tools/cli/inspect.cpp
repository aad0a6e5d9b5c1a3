// zinc inspect NAME: decode a region's header field by field and say, in the
// library's own words, every problem that would make zinc_open refuse it.
#include <cinttypes>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "channel_report.hpp"
#include "command.hpp"
#include "regions.hpp"

namespace zinc::cli {
namespace {

struct Problem {
  std::string field;
  std::string message;
};

// What zinc_check_header says about these header fields in an object of
// `size` bytes: "" if nothing.
std::string check(const ZincHeaderInfo& header, uint64_t size) {
  uint8_t bytes[ZINC_HEADER_SIZE];
  std::memcpy(bytes, &header, sizeof bytes);
  return zinc_check_header(bytes, sizeof bytes, size, 0, nullptr) == ZINC_OK
             ? ""
             : zinc_last_error_message();
}

// Every problem, each found by the library's own check: the object size
// around an otherwise valid header, then each header field alone in an
// otherwise valid header. Only name_hash is compared here (zinc_open checks
// it against the name, which zinc_check_header does not know).
std::vector<Problem> find_problems(const RegionReport& r) {
  const uint64_t page = zinc_page_size();
  std::vector<Problem> problems;
  ZincHeaderInfo valid = r.header;
  valid.magic = ZINC_MAGIC;
  valid.version = ZINC_FORMAT_VERSION;
  valid.flags = 0;
  valid.ref_count = 1;
  valid.capacity = r.object_size >= page ? r.object_size - page : 0;
  if (!r.not_regular.empty()) {
    problems.push_back({"object", "a " + r.not_regular + " is not a regular file: not a zinc region"});
    return problems;
  }
  const std::string size_problem = check(valid, r.object_size);
  if (!size_problem.empty()) problems.push_back({"object", size_problem});
  if (!r.has_header) return problems;

  valid.capacity = page;
  auto alone = [&](const char* field, const std::function<void(ZincHeaderInfo&)>& take) {
    ZincHeaderInfo h = valid;
    take(h);
    if (std::string m = check(h, 2 * page); !m.empty()) problems.push_back({field, m});
  };
  alone("magic", [&](ZincHeaderInfo& h) { h.magic = r.header.magic; });
  alone("version", [&](ZincHeaderInfo& h) { h.version = r.header.version; });
  alone("flags", [&](ZincHeaderInfo& h) { h.flags = r.header.flags; });
  alone("ref_count", [&](ZincHeaderInfo& h) { h.ref_count = r.header.ref_count; });
  if (size_problem.empty()) {
    ZincHeaderInfo h = valid;
    h.capacity = r.header.capacity;
    if (std::string m = check(h, r.object_size); !m.empty()) problems.push_back({"capacity", m});
  }
  const uint64_t expected = zinc_name_hash(r.name.c_str());
  if (r.header.name_hash != expected) {
    problems.push_back({"name_hash", "name_hash " + hex(r.header.name_hash, 16) +
                                         " is not the hash of the name '" + r.name + "' (" +
                                         hex(expected, 16) + ")"});
  }
  return problems;
}

const char* code_name(int32_t code) {
  switch (code) {
    case ZINC_OK:
      return "ZINC_OK";
    case ZINC_EPERM:
      return "ZINC_EPERM";
    case ZINC_ENOENT:
      return "ZINC_ENOENT";
    case ZINC_EAGAIN:
      return "ZINC_EAGAIN";
    case ZINC_EBUSY:
      return "ZINC_EBUSY";
    case ZINC_EEXIST:
      return "ZINC_EEXIST";
    case ZINC_EINVAL:
      return "ZINC_EINVAL";
    case ZINC_ENOSPC:
      return "ZINC_ENOSPC";
    case ZINC_EBADMSG:
      return "ZINC_EBADMSG";
    default:
      return "error";
  }
}

std::string pids_text(const RegionReport& r) {
  if (r.mapped_code < 0) return "? (" + std::string(zinc_strerror(r.mapped_code)) + ")";
  if (r.mapped_by.empty()) return "no process";
  std::string text;
  for (const int32_t pid : r.mapped_by) text += (text.empty() ? "" : ", ") + std::to_string(pid);
  return text;
}

void print_text(const RegionReport& r, const std::vector<Problem>& problems, uint64_t now) {
  auto problem_of = [&](const char* field) {
    std::string text;
    for (const Problem& p : problems) {
      if (p.field == field) text += "   BAD: " + p.message;
    }
    return text;
  };
  auto line = [&](const char* field, const std::string& value) {
    std::printf("  %-11s %s%s\n", field, value.c_str(), problem_of(field).c_str());
  };
  std::printf("region '%s' (%s)\n", r.name.c_str(), r.path.c_str());
  char object[96];
  std::snprintf(object, sizeof object, "%" PRIu64 " bytes, mode %04o, uid %u", r.object_size,
                r.mode, r.uid);
  line("object", r.not_regular.empty() ? object : "a " + r.not_regular);
  if (r.has_header) {
    const ZincHeaderInfo& h = r.header;
    line("magic", hex(h.magic, 16));
    line("version", std::to_string(h.version));
    line("flags", hex(h.flags, 4));
    line("notify_seq", std::to_string(h.notify_seq));
    line("capacity", std::to_string(h.capacity));
    line("ref_count", std::to_string(h.ref_count));
    line("owner_pid",
         std::to_string(h.owner_pid) +
             (r.creator >= 0 ? std::string(" (creator ") + creator_word(r.creator) + ")" : ""));
    line("created_at", std::to_string(h.created_at) + " = " + format_utc(h.created_at) + ", " +
                           (h.created_at > now ? "in the future"
                                               : format_age(h.created_at, now) + " ago"));
    line("name_hash", hex(h.name_hash, 16));
    line("ring_head", std::to_string(h.ring_head));
    line("ring_tail", std::to_string(h.ring_tail));
  } else {
    if (r.not_regular.empty()) {
      std::printf("  (no header: the object is shorter than %d bytes)\n", ZINC_HEADER_SIZE);
    }
  }
  line("mapped by", pids_text(r));
  if (r.code == ZINC_OK) {
    std::printf("valid: zinc_open would succeed; status %s\n", status_of(r));
  } else {
    std::printf("%s: zinc_open would fail with %d (%s): %s\n", status_of(r), r.code,
                code_name(r.code), r.error.c_str());
  }
}

int run(const Invocation& call) {
  const std::string& name = call.args[0];
  const uint64_t now = now_ns();
  const RegionReport report = examine_region(name);
  const bool decodable =
      report.code == ZINC_OK || report.code == ZINC_EBADMSG || report.code == ZINC_EAGAIN;
  if (!decodable) {
    std::fprintf(stderr, "zinc inspect: %s\n", report.error.c_str());
    return exit_for(report.code);
  }
  const std::vector<Problem> problems = find_problems(report);
  const ChannelReport channel = examine_channel(report);
  if (call.json()) {
    Json json;
    json.begin_object();
    report_members(json, report, now);
    json.key("kind").value(channel.present ? "channel" : "region");
    json.key("problems").begin_array();
    for (const Problem& p : problems) {
      json.begin_object().key("field").value(p.field).key("message").value(p.message).end_object();
    }
    json.end_array();
    channel_member(json, channel);
    json.end_object().print();
  } else {
    print_text(report, problems, now);
    print_channel(channel);
  }
  // A valid region whose channel is damaged is still damaged: the same
  // exit status as an invalid region (kExitInvalid), so scripts notice.
  if (report.code == ZINC_OK && channel.present && channel.code != ZINC_OK) {
    return exit_for(ZINC_EBADMSG);
  }
  return exit_for(report.code);
}

}  // namespace

const Command kInspect = {
    "inspect",
    "zinc inspect NAME [--json]",
    "Decode and validate a region's header, reporting every problem.",
    R"(
Reads /dev/shm/zinc_NAME without opening the region (no ref_count change),
prints each header field, and marks every field that would make zinc_open
refuse the region with the library's own message ("BAD: ..."). The last line
says what zinc_open would return. Also shows whether the creator (owner_pid)
still runs and which processes map the object now. The exit status is that
of an invalid region when the header is invalid, or when the region is valid
but holds a damaged channel.

If the data area of a valid region holds a channel (it starts with the
channel magic, docs/spec.md section 10), the channel header follows: mode,
slots, max_readers, frame type, write_seq (frames committed), latest_slot,
the writer and every occupied reader entry with its pid, whether it still
runs (alive: the process maps the region; dead: it does not), its cursor and
how many frames it is behind; then "channel valid", or "channel invalid: "
and zinc_check_channel_header's reason. The channel is read, never joined.

Options:
  --json  one JSON object: the fields of a 'zinc ls --json' entry plus
          "problems": [{"field": ..., "message": ...}] and "channel": null,
          or the channel's fields, "writer" and "readers"

Exit status: 0 valid region; 3 no such region; 4 not a valid region
(corrupted, foreign or unfinished; details printed); 2 invalid name;
6 permission denied; 7 other errors.
)",
    {{"--json", nullptr}},
    1,
    1,
    run,
};

}  // namespace zinc::cli
