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

void print_result(std::FILE* out, const CheckResult& result, bool strict, bool verbose) {
  const Check& check = *result.check;
  const char* status = result.outcome == Outcome::kPass   ? "PASS"
                       : result.outcome == Outcome::kSkip ? "SKIP"
                                                          : "FAIL";
  std::fprintf(out, "%s  %-9s  %s", status, requirement_name(check.requirement),
               check.name.c_str());
  if (result.outcome == Outcome::kSkip) {
    std::fprintf(out, ": skipped (%s)", result.skip_reason.c_str());
  }
  if (result.outcome == Outcome::kFail && !counts(result, strict)) {
    std::fprintf(out, "  [extension; not counted without --strict]");
  }
  std::fprintf(out, "\n");
  if (result.outcome == Outcome::kFail) {
    std::fprintf(out, "        checks: %s\n", check.summary.c_str());
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
    if (r.outcome == Outcome::kFail) {
      if (r.check->requirement == Requirement::kRequired) {
        ++t.failed_required;
      } else {
        ++t.failed_extension;
      }
      if (counts(r, strict)) ++t.counted_failures;
    }
  }
  return t;
}

void print_summary(std::FILE* out, const Totals& t, bool strict, double seconds) {
  const int run = t.passed + t.failed_required + t.failed_extension + t.skipped;
  std::fprintf(out,
               "\n%d checks in %.2f s: %d passed, %d failed (%d required, %d extension), "
               "%d skipped\n",
               run, seconds, t.passed, t.failed_required + t.failed_extension, t.failed_required,
               t.failed_extension, t.skipped);
  if (t.counted_failures == 0) {
    std::fprintf(out, "result: PASS (%s)\n",
                 strict ? "strict: required and reference-extension checks"
                        : "required checks; reference-extension checks reported, not counted");
  } else {
    std::fprintf(out, "result: FAIL (%d counted failure%s%s)\n", t.counted_failures,
                 t.counted_failures == 1 ? "" : "s", strict ? ", strict" : "");
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
    std::string details;
    for (const Finding& f : r.failures) details += describe_finding(f) + "\n";
    for (const std::string& note : r.notes) details += "note: " + note + "\n";
    if (r.outcome == Outcome::kSkip) {
      out << "      <skipped message=\"" << xml_escape(r.skip_reason) << "\"/>\n";
    } else if (r.outcome == Outcome::kFail && counts(r, options.strict)) {
      out << "      <failure type=\"" << requirement_name(c.requirement) << "\" message=\""
          << xml_escape(r.failures.empty() ? c.summary : describe_finding(r.failures.front()))
          << "\">" << xml_escape(c.summary + "\n" + details) << "</failure>\n";
    } else if (r.outcome == Outcome::kFail) {
      out << "      <skipped message=\""
          << xml_escape("reference-extension check failed, not counted without --strict: " +
                        (r.failures.empty() ? c.summary : describe_finding(r.failures.front())))
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

}  // namespace zinc::conformance
