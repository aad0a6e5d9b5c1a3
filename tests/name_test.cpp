// The name rule: exactly [A-Za-z0-9_-]{1,250}, checked before any syscall.
#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "name.hpp"
#include "test_support.hpp"
#include "zinc.h"

namespace {

int32_t create_code(const std::string& name) {
  ZincHandle h = reinterpret_cast<ZincHandle>(0x1);
  const int32_t rc = zinc_create(name.c_str(), zinc_page_size(), &h);
  EXPECT_EQ(h, rc == 0 ? h : nullptr);
  if (rc == 0) zinc_close(h);
  return rc;
}

TEST(Name, EmptyIsRejected) {
  EXPECT_EQ(zinc::core::validate_name("").code, ZINC_EINVAL);
  EXPECT_EQ(create_code(""), ZINC_EINVAL);
  EXPECT_STREQ(zinc_last_error_message(), "name is empty");
}

TEST(Name, TwoHundredFiftyBytesIsAccepted) {
  std::string name = zinc::test::unique_name("n250");
  name.resize(250, 'x');
  zinc::test::ObjectGuard guard(name);
  EXPECT_EQ(create_code(name), ZINC_OK);
  EXPECT_FALSE(zinc::test::object_exists(name));
}

TEST(Name, TwoHundredFiftyOneBytesIsRejected) {
  const std::string name(251, 'x');
  EXPECT_EQ(create_code(name), ZINC_EINVAL);
  EXPECT_STREQ(zinc_last_error_message(), "name is 251 bytes; the limit is 250");
}

TEST(Name, EveryAllowedByteIsAccepted) {
  EXPECT_TRUE(zinc::core::validate_name("AZaz09_-").is_ok());
}

TEST(Name, EveryOtherByteIsRejected) {
  for (int c = 1; c < 256; ++c) {
    const bool allowed = std::isalnum(c) && c < 128 ? true : (c == '_' || c == '-');
    const std::string name = std::string("ok") + static_cast<char>(c);
    EXPECT_EQ(zinc::core::validate_name(name).is_ok(), allowed) << "byte " << c;
  }
}

TEST(Name, SlashDotSpaceAreRejectedWithTheirPosition) {
  EXPECT_EQ(create_code("/leading"), ZINC_EINVAL);
  EXPECT_STREQ(zinc_last_error_message(),
               "name has byte '/' (0x2f) at offset 0; names use only A-Z a-z 0-9 _ -");
  EXPECT_EQ(create_code("a.b"), ZINC_EINVAL);
  EXPECT_EQ(create_code("a b"), ZINC_EINVAL);
  EXPECT_STREQ(zinc_last_error_message(),
               "name has byte 0x20 at offset 1; names use only A-Z a-z 0-9 _ -");
  EXPECT_EQ(create_code("../escape"), ZINC_EINVAL);
}

TEST(Name, NonUtf8IsRejected) {
  EXPECT_EQ(create_code("caf\xc3\xa9"), ZINC_EINVAL);  // valid UTF-8, outside the charset
  EXPECT_EQ(create_code("bad\xff\xfe"), ZINC_EINVAL);  // not UTF-8 at all
}

TEST(Name, ObjectNameHasTheZincPrefix) {
  EXPECT_EQ(zinc::core::object_name("my-data"), "/zinc_my-data");
}

TEST(Name, HashMatchesTheSpecVectors) {
  EXPECT_EQ(zinc_name_hash("my-data"), 0xa2c98045cdc80beaULL);
  EXPECT_EQ(zinc_name_hash("test"), 0xf9e6e6ef197c2b25ULL);
  EXPECT_EQ(zinc_name_hash("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(zinc_name_hash(nullptr), 0u);
}

}  // namespace
