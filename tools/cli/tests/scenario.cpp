#include "scenario.hpp"

#include <unistd.h>

#include <cstring>
#include <sstream>
#include <stdexcept>

#include "test_support.hpp"
#include "zinc.h"

namespace zinc::cli::test {

const uint64_t kPage = zinc_page_size();
const std::string kPageText = std::to_string(zinc_page_size());

void write_corrupted(const std::string& name) {
  auto page = zinc::test::valid_header_page(name, kPage);
  const int32_t owner = dead_pid();
  std::memcpy(page.data() + 28, &owner, sizeof owner);
  std::memcpy(page.data(), "NOTZINC!", 8);
  zinc::test::write_raw_object(name, page, 2 * kPage);
}

void write_foreign(const std::string& name) {
  const std::string text = "hello world\n";
  zinc::test::write_raw_object(name, std::vector<uint8_t>(text.begin(), text.end()), text.size());
}

void write_unfinished(const std::string& name) { zinc::test::write_raw_object(name, {}, 0); }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> ls_row(const std::string& table, const std::string& name) {
  for (const std::string& line : lines_of(table)) {
    std::istringstream in(line);
    std::vector<std::string> columns;
    for (std::string column; in >> column;) columns.push_back(column);
    if (!columns.empty() && columns[0] == name) return columns;
  }
  throw std::runtime_error("no row for " + name + " in:\n" + table);
}

JsonValue ls_entry(const std::string& json, const std::string& name) {
  const JsonValue doc = JsonValue::parse(json);
  for (const JsonValue& entry : doc["regions"].array()) {
    if (entry["name"].str() == name) return entry;
  }
  throw std::runtime_error("no entry for " + name + " in " + json);
}

}  // namespace zinc::cli::test
