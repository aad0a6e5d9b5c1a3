// zinc inspect: every header field decoded, every problem reported in the
// library's words, and the verdict zinc_open would give.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <set>
#include <string>

#include "cli_runner.hpp"
#include "scenario.hpp"
#include "test_support.hpp"
#include "zinc.h"

namespace zinc::cli::test {
namespace {

using zinc::test::ObjectGuard;
using zinc::test::unique_name;

TEST(CliInspect, DecodesAValidRegion) {
  ObjectGuard g(unique_name("cli-inspect"));
  ZincHandle owner = nullptr;
  ASSERT_EQ(zinc_create(g.c_str(), 2 * kPage, &owner), ZINC_OK);
  zinc_notify(owner);
  const Result r = run_zinc({"inspect", g.name(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const JsonValue doc = JsonValue::parse(r.out);
  EXPECT_TRUE(doc["valid"].boolean());
  EXPECT_EQ(doc["status"].str(), "live");
  EXPECT_EQ(doc["creator"].str(), "alive");
  EXPECT_TRUE(doc["problems"].array().empty());
  EXPECT_TRUE(doc["error"].is_null());
  EXPECT_EQ(doc["object_size"].num(), double(3 * kPage));
  EXPECT_EQ(doc["mode"].str(), "0600");
  const JsonValue& h = doc["header"];
  EXPECT_EQ(h["magic"].str(), "0x5a494e435f524547");
  EXPECT_EQ(h["version"].num(), 2);
  EXPECT_EQ(h["capacity"].num(), double(2 * kPage));
  EXPECT_EQ(h["notify_seq"].num(), 1);
  EXPECT_EQ(h["ref_count"].num(), 1) << "inspect does not open the region";
  EXPECT_EQ(h["owner_pid"].num(), getpid());
  ASSERT_EQ(doc["mapped_by"].array().size(), 1u);
  EXPECT_EQ(doc["mapped_by"][0].num(), getpid());

  const Result text = run_zinc({"inspect", g.name()});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_TRUE(contains(text.out, "  owner_pid   " + std::to_string(getpid()) + " (creator alive)"))
      << text.out;
  EXPECT_TRUE(contains(text.out, "\nvalid: zinc_open would succeed; status live\n")) << text.out;
  EXPECT_FALSE(contains(text.out, "BAD"));
  zinc_close(owner);
}

TEST(CliInspect, ReportsEveryBadFieldAsZincOpenWould) {
  ObjectGuard g(unique_name("cli-inspect-bad"));
  auto page = zinc::test::valid_header_page(g.name(), kPage);
  const uint16_t version = 9, flags = 4;
  const uint32_t ref_count = 0;
  const uint64_t name_hash = 12345;
  std::memcpy(page.data() + 8, &version, 2);
  std::memcpy(page.data() + 10, &flags, 2);
  std::memcpy(page.data() + 24, &ref_count, 4);
  std::memcpy(page.data() + 40, &name_hash, 8);
  zinc::test::write_raw_object(g.name(), page, 2 * kPage);
  ZincHandle h = nullptr;
  ASSERT_EQ(zinc_open(g.c_str(), &h), ZINC_EBADMSG);
  const std::string open_says = zinc_last_error_message();

  const Result r = run_zinc({"inspect", g.name(), "--json"});
  EXPECT_EQ(r.exit_code, 4);
  const JsonValue doc = JsonValue::parse(r.out);
  EXPECT_FALSE(doc["valid"].boolean());
  EXPECT_EQ(doc["code"].num(), ZINC_EBADMSG);
  EXPECT_EQ(doc["error"].str(), open_says) << "the verdict is zinc_open's own";
  std::set<std::string> fields;
  for (const JsonValue& p : doc["problems"].array()) fields.insert(p["field"].str());
  EXPECT_EQ(fields, (std::set<std::string>{"version", "flags", "ref_count", "name_hash"}));

  const Result text = run_zinc({"inspect", g.name()});
  EXPECT_EQ(text.exit_code, 4);
  EXPECT_TRUE(contains(text.out,
                       "  version     9   BAD: format version 9, but this library "
                       "reads version 2\n"))
      << text.out;
  EXPECT_TRUE(contains(text.out, "  ref_count   0   BAD: ref_count 0 is impossible")) << text.out;
  EXPECT_TRUE(contains(
      text.out, "invalid: zinc_open would fail with -74 (ZINC_EBADMSG): " + open_says + "\n"))
      << text.out;
}

TEST(CliInspect, ReportsAnObjectSizeThatIsNotWholePages) {
  ObjectGuard g(unique_name("cli-inspect-size"));
  zinc::test::write_raw_object(g.name(), zinc::test::valid_header_page(g.name(), kPage),
                               2 * kPage + 100);
  const Result r = run_zinc({"inspect", g.name(), "--json"});
  EXPECT_EQ(r.exit_code, 4);
  const JsonValue problems = JsonValue::parse(r.out)["problems"];
  ASSERT_EQ(problems.array().size(), 1u) << r.out;
  EXPECT_EQ(problems[0]["field"].str(), "object");
  EXPECT_TRUE(contains(problems[0]["message"].str(), "is not a multiple of the page size"));
}

}  // namespace
}  // namespace zinc::cli::test
