#include "report.hpp"

#include <fstream>

namespace zinc::conformance {
namespace {

std::string xml_escape(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\n': out += "&#10;"; break;
      case '\t': out += "&#9;"; break;
      default:
        // Other control characters are not allowed in XML 1.0.
        if (c < 0x20) {
          out += '?';
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

std::string describe_finding(const Finding& f) {
  return f.what + ": expected " + f.expected + ", got " + f.actual;
}

std::string group_of(const std::string& name) {
  const size_t dot = name.find('.');
  return dot == std::string::npos ? name : name.substr(0, dot);
}

}  // namespace

bool counts(const CheckResult& result, bool strict) {
  return result.outcome == Outcome::kFail &&
         (strict || result.check->requirement == Requirement::kRequired);
}

void mark_repeated_rule(std::vector<CheckResult>& results, bool strict) {
  CheckResult& last = results.back();
  if (!counts(last, strict)) return;
  const std::string key = rule_key(*last.check);
  for (size_t i = 0; i + 1 < results.size(); ++i) {
    const CheckResult& earlier = results[i];
    if (counts(earlier, strict) && earlier.same_rule_as.empty() &&
        rule_key(*earlier.check) == key) {
      last.same_rule_as = earlier.check->name;
      return;
    }
  }
}

void print_result(std::FILE* out, const CheckResult& result, bool strict, bool verbose) {
  const Check& check = *result.check;
  const char* status = result.outcome == Outcome::kPass   ? "PASS"
                       : result.outcome == Outcome::kSkip ? "SKIP"
                                                          : "FAIL";
  const bool optional_skip = result.outcome == Outcome::kSkip && !result.optional_feature.empty();
  std::fprintf(out, "%s  %-9s  %s", status,
               optional_skip ? "optional" : requirement_name(check.requirement),
               check.name.c_str());
  if (optional_skip) {
    std::fprintf(out, ": skipped-optional (%s, an optional part of the protocol: %s)",
                 result.optional_feature.c_str(), result.skip_reason.c_str());
  } else if (result.outcome == Outcome::kSkip) {
    std::fprintf(out, ": skipped (%s)", result.skip_reason.c_str());
  }
  if (result.outcome == Outcome::kFail && !counts(result, strict)) {
    std::fprintf(out, "  [extension; not counted without --strict]");
  }
  if (!result.same_rule_as.empty()) {
    std::fprintf(out, "  [same rule as %s; counted once]", result.same_rule_as.c_str());
  }
  std::fprintf(out, "\n");
  if (result.outcome == Outcome::kFail) {
    std::fprintf(out, "        checks: %s\n        rule: docs/spec.md %s\n", check.summary.c_str(),
                 spec_section(check).c_str());
    for (const Finding& f : result.failures) {
      std::fprintf(out, "        - %s\n            expected: %s\n            actual:   %s\n",
                   f.what.c_str(), f.expected.c_str(), f.actual.c_str());
    }
  }
  if (result.outcome == Outcome::kFail || verbose) {
    for (const std::string& note : result.notes) {
      std::fprintf(out, "        note: %s\n", note.c_str());
    }
  }
  std::fflush(out);
}

Totals tally(const std::vector<CheckResult>& results, bool strict) {
  Totals t;
  for (const CheckResult& r : results) {
    if (r.outcome == Outcome::kPass) ++t.passed;
    if (r.outcome == Outcome::kSkip) ++t.skipped;
    if (r.outcome == Outcome::kSkip && !r.optional_feature.empty()) ++t.skipped_optional;
    if (r.outcome == Outcome::kFail) {
      if (r.check->requirement == Requirement::kRequired) {
        ++t.failed_required;
      } else {
        ++t.failed_extension;
      }
      if (counts(r, strict)) {
        if (r.same_rule_as.empty()) {
          ++t.counted_failures;
        } else {
          ++t.repeated;
        }
      }
    }
  }
  return t;
}

void print_summary(std::FILE* out, const Totals& t, bool strict, double seconds) {
  const int run = t.passed + t.failed_required + t.failed_extension + t.skipped;
  std::fprintf(out,
               "\n%d checks in %.2f s: %d passed, %d failed (%d required, %d extension), "
               "%d skipped",
               run, seconds, t.passed, t.failed_required + t.failed_extension, t.failed_required,
               t.failed_extension, t.skipped);
  if (t.skipped_optional > 0) {
    std::fprintf(out, " (%d of them optional parts the port leaves out)", t.skipped_optional);
  }
  std::fprintf(out, "\n");
  if (t.counted_failures == 0) {
    std::fprintf(out, "result: PASS (%s)\n",
                 strict ? "strict: required and reference-extension checks"
                        : "required checks; reference-extension checks reported, not counted");
  } else {
    std::fprintf(out, "result: FAIL (%d counted failure%s%s", t.counted_failures,
                 t.counted_failures == 1 ? "" : "s", strict ? ", strict" : "");
    if (t.repeated > 0) {
      std::fprintf(out, "; %d more check%s of a rule already counted", t.repeated,
                   t.repeated == 1 ? "" : "s");
    }
    std::fprintf(out, ")\n");
  }
}

void print_swept(std::FILE* out, const std::vector<SweptRegion>& swept) {
  std::vector<std::string> blamed;
  std::vector<std::string> kept;
  std::vector<std::string> unfinished;
  for (const SweptRegion& r : swept) {
    const std::string entry = r.name + (r.check.empty() ? "" : " (" + r.check + ")");
    (r.on_purpose ? kept : r.check_killed ? unfinished : blamed).push_back(entry);
  }
  if (!blamed.empty()) {
    std::fprintf(out, "\nswept %zu region%s the candidate left behind:", blamed.size(),
                 blamed.size() == 1 ? "" : "s");
    for (const std::string& entry : blamed) std::fprintf(out, " %s", entry.c_str());
    std::fprintf(out, "\n");
  }
  if (!unfinished.empty()) {
    std::fprintf(out,
                 "\nswept %zu region%s of checks killed before their clean-up:", unfinished.size(),
                 unfinished.size() == 1 ? "" : "s");
    for (const std::string& entry : unfinished) std::fprintf(out, " %s", entry.c_str());
    std::fprintf(out, "\n");
  }
  if (!kept.empty()) {
    std::fprintf(out, "\nswept %zu region%s the kit's own checks leave on purpose:", kept.size(),
                 kept.size() == 1 ? "" : "s");
    for (const std::string& entry : kept) std::fprintf(out, " %s", entry.c_str());
    std::fprintf(out, "\n");
  }
}

bool write_junit(const std::string& path, const std::vector<CheckResult>& results,
                 const RunOptions& options, double seconds) {
  std::ofstream out(path);
  if (!out) return false;
  const Totals t = tally(results, options.strict);
  int skipped_in_xml = 0;
  for (const CheckResult& r : results) {
    if (r.outcome == Outcome::kSkip ||
        (r.outcome == Outcome::kFail && !counts(r, options.strict))) {
      ++skipped_in_xml;
    }
  }
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << "<testsuites name=\"zinc-conformance\" tests=\"" << results.size() << "\" failures=\""
      << t.counted_failures << "\" skipped=\"" << skipped_in_xml << "\" time=\"" << seconds
      << "\">\n";
  out << "  <testsuite name=\"zinc-conformance\" tests=\"" << results.size() << "\" failures=\""
      << t.counted_failures << "\" errors=\"0\" skipped=\"" << skipped_in_xml << "\" time=\""
      << seconds << "\">\n";
  out << "    <properties>\n";
  out << "      <property name=\"candidate\" value=\"" << xml_escape(options.library) << "\"/>\n";
  out << "      <property name=\"reference\" value=\"" << xml_escape(options.reference) << "\"/>\n";
  out << "      <property name=\"strict\" value=\"" << (options.strict ? "true" : "false")
      << "\"/>\n";
  out << "    </properties>\n";
  for (const CheckResult& r : results) {
    const Check& c = *r.check;
    out << "    <testcase classname=\"zinc.conformance." << xml_escape(group_of(c.name))
        << "\" name=\"" << xml_escape(c.name) << "\" time=\"" << r.seconds << "\">\n";
    out << "      <properties>\n";
    out << "        <property name=\"class\" value=\"" << requirement_name(c.requirement)
        << "\"/>\n";
    out << "        <property name=\"section\" value=\"" << xml_escape(spec_section(c)) << "\"/>\n";
    if (!r.same_rule_as.empty()) {
      out << "        <property name=\"same_rule_as\" value=\"" << xml_escape(r.same_rule_as)
          << "\"/>\n";
    }
    out << "      </properties>\n";
    std::string details;
    for (const Finding& f : r.failures) details += describe_finding(f) + "\n";
    for (const std::string& note : r.notes) details += "note: " + note + "\n";
    const std::string first =
        spec_section(c) + ": " +
        (r.failures.empty() ? c.summary : describe_finding(r.failures.front()));
    if (r.outcome == Outcome::kSkip) {
      out << "      <skipped message=\""
          << xml_escape(r.optional_feature.empty()
                            ? r.skip_reason
                            : "skipped-optional: " + r.optional_feature + ": " + r.skip_reason)
          << "\"/>\n";
    } else if (r.outcome == Outcome::kFail && counts(r, options.strict)) {
      out << "      <failure type=\"" << requirement_name(c.requirement) << "\" message=\""
          << xml_escape(first) << "\">" << xml_escape(c.summary + "\n" + details) << "</failure>\n";
    } else if (r.outcome == Outcome::kFail) {
      out << "      <skipped message=\""
          << xml_escape("reference-extension check failed, not counted without --strict: " + first)
          << "\"/>\n";
    }
    if (!details.empty() || r.outcome != Outcome::kFail) {
      out << "      <system-out>" << xml_escape(c.summary + "\n" + details) << "</system-out>\n";
    }
    out << "    </testcase>\n";
  }
  out << "  </testsuite>\n</testsuites>\n";
  return static_cast<bool>(out);
}

namespace {

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
          out += escaped;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

const char* outcome_name(const CheckResult& r) {
  switch (r.outcome) {
    case Outcome::kPass: return "pass";
    case Outcome::kFail: return "fail";
    case Outcome::kSkip: return r.optional_feature.empty() ? "skip" : "skipped-optional";
  }
  return "?";
}

}  // namespace

bool write_json(const std::string& path, const std::vector<CheckResult>& results,
                const std::vector<SweptRegion>& swept, const RunOptions& options, double seconds) {
  std::ofstream out(path);
  if (!out) return false;
  const Totals t = tally(results, options.strict);
  out << "{\n  \"tool\": \"zinc-conformance\",\n  \"format\": 1,\n";
  out << "  \"candidate\": " << json_string(options.library) << ",\n";
  out << "  \"reference\": " << json_string(options.reference) << ",\n";
  out << "  \"strict\": " << (options.strict ? "true" : "false") << ",\n";
  out << "  \"seconds\": " << seconds << ",\n";
  out << "  \"result\": " << (t.counted_failures == 0 ? "\"pass\"" : "\"fail\"") << ",\n";
  out << "  \"totals\": {\"checks\": " << results.size() << ", \"passed\": " << t.passed
      << ", \"failed_required\": " << t.failed_required
      << ", \"failed_extension\": " << t.failed_extension << ", \"skipped\": " << t.skipped
      << ", \"skipped_optional\": " << t.skipped_optional
      << ", \"counted_failures\": " << t.counted_failures << ", \"repeated_rule\": " << t.repeated
      << "},\n";
  out << "  \"checks\": [";
  for (size_t i = 0; i < results.size(); ++i) {
    const CheckResult& r = results[i];
    const Check& c = *r.check;
    out << (i == 0 ? "\n" : ",\n") << "    {\"name\": " << json_string(c.name) << ", \"class\": \""
        << requirement_name(c.requirement) << "\", \"section\": " << json_string(spec_section(c))
        << ", \"rule\": " << json_string(rule_key(c)) << ", \"outcome\": \"" << outcome_name(r)
        << "\", \"counted\": "
        << (counts(r, options.strict) && r.same_rule_as.empty() ? "true" : "false")
        << ", \"seconds\": " << r.seconds << ",\n     \"summary\": " << json_string(c.summary);
    if (!r.same_rule_as.empty()) out << ", \"same_rule_as\": " << json_string(r.same_rule_as);
    if (r.outcome == Outcome::kSkip) out << ", \"skip_reason\": " << json_string(r.skip_reason);
    if (!r.optional_feature.empty()) {
      out << ", \"optional_feature\": " << json_string(r.optional_feature);
    }
    out << ",\n     \"failures\": [";
    for (size_t k = 0; k < r.failures.size(); ++k) {
      const Finding& f = r.failures[k];
      out << (k == 0 ? "" : ", ") << "{\"what\": " << json_string(f.what)
          << ", \"expected\": " << json_string(f.expected)
          << ", \"actual\": " << json_string(f.actual) << "}";
    }
    out << "], \"notes\": [";
    for (size_t k = 0; k < r.notes.size(); ++k) {
      out << (k == 0 ? "" : ", ") << json_string(r.notes[k]);
    }
    out << "]}";
  }
  out << "\n  ],\n  \"swept\": [";
  for (size_t i = 0; i < swept.size(); ++i) {
    out << (i == 0 ? "" : ", ") << "{\"region\": " << json_string(swept[i].name)
        << ", \"check\": " << json_string(swept[i].check)
        << ", \"on_purpose\": " << (swept[i].on_purpose ? "true" : "false")
        << ", \"check_killed\": " << (swept[i].check_killed ? "true" : "false") << "}";
  }
  out << "]\n}\n";
  return static_cast<bool>(out);
}

}  // namespace zinc::conformance
