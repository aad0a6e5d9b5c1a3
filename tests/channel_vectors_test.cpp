// The reference against the channel vectors of spec/vectors (written by
// spec/vectors/generate_channel.py from the spec's rules): every image
// validates to its code, and every geometry creates the layout it lists.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.hpp"
#include "zinc.h"
#include "program_paths.hpp"

namespace {

using Row = std::map<std::string, std::string>;

// A .tsv file as rows of column -> cell.
std::vector<Row> read_tsv(const std::string& path) {
  std::ifstream in(path);
  std::vector<Row> rows;
  std::vector<std::string> columns;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::stringstream split(line);
    for (std::string cell; std::getline(split, cell, '\t');) cells.push_back(cell);
    if (columns.empty()) {
      columns = cells;
      continue;
    }
    Row row;
    for (size_t i = 0; i < columns.size() && i < cells.size(); ++i) row[columns[i]] = cells[i];
    rows.push_back(row);
  }
  return rows;
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const std::string kVectors = zinc::test::paths::kVectorsDir;

TEST(ChannelVectors, every_image_validates_to_its_code) {
  const std::vector<Row> rows = read_tsv(kVectors + "/channel.tsv");
  ASSERT_GE(rows.size(), 30u);
  for (const Row& row : rows) {
    const std::vector<uint8_t> area = read_file(kVectors + "/" + row.at("image"));
    ASSERT_EQ(area.size(), std::stoull(row.at("capacity"))) << row.at("id");
    EXPECT_EQ(zinc_check_channel_header(area.data(), area.size(), area.size(), nullptr),
              std::stoi(row.at("code")))
        << row.at("id") << ": " << row.at("reason") << " / " << zinc_last_error_message();
    EXPECT_EQ(zinc_check_channel_header(area.data(), 128, area.size(), nullptr),
              std::stoi(row.at("header_code")))
        << row.at("id") << " (header only)";
  }
}

TEST(ChannelVectors, every_geometry_creates_its_layout) {
  const std::vector<Row> rows = read_tsv(kVectors + "/channel_geometry.tsv");
  ASSERT_GE(rows.size(), 10u);
  for (const Row& row : rows) {
    zinc::test::ObjectGuard name(zinc::test::unique_name("chvec"));
    ZincChannel channel = nullptr;
    // NORESERVE: the large layouts need no pages to be checked.
    const int32_t rc =
        zinc_channel_create(name.c_str(), std::stoul(row.at("mode")),
                            std::stoul(row.at("slot_count")), std::stoull(row.at("slot_size")),
                            std::stoul(row.at("max_readers")), ZINC_CREATE_NORESERVE, &channel);
    ASSERT_EQ(rc, std::stoi(row.at("code"))) << row.at("id") << ": " << zinc_last_error_message();
    if (rc != ZINC_OK) continue;
    ZincChannelInfo info{};
    ASSERT_EQ(zinc_channel_info(channel, &info), ZINC_OK);
    EXPECT_EQ(info.slots_offset, std::stoull(row.at("slots_offset"))) << row.at("id");
    EXPECT_EQ(info.slot_stride, std::stoull(row.at("slot_stride"))) << row.at("id");
    EXPECT_EQ(info.required_bytes, std::stoull(row.at("required_bytes"))) << row.at("id");
    ZincHeaderInfo header{};
    ASSERT_EQ(zinc_inspect(name.c_str(), &header), ZINC_OK);
    if (zinc_page_size() == 4096) {
      EXPECT_EQ(header.capacity, std::stoull(row.at("capacity_4k"))) << row.at("id");
    }
    zinc_channel_close(channel);
  }
}

}  // namespace
