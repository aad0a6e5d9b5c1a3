#include "name.hpp"

#include <cstdio>

#include "zinc.h"

namespace zinc::core {
namespace {

bool is_name_byte(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

std::string describe_byte(unsigned char c) {
  char text[32];
  if (c >= 0x21 && c < 0x7f) {
    std::snprintf(text, sizeof text, "'%c' (0x%02x)", c, c);
  } else {
    std::snprintf(text, sizeof text, "0x%02x", c);
  }
  return text;
}

}  // namespace

Status validate_name(std::string_view name) {
  if (name.empty()) return Status::error(ZINC_EINVAL, "name is empty");
  if (name.size() > ZINC_MAX_NAME_LEN) {
    return Status::error(ZINC_EINVAL, "name is " + std::to_string(name.size()) +
                                          " bytes; the limit is " +
                                          std::to_string(ZINC_MAX_NAME_LEN));
  }
  for (size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (!is_name_byte(c)) {
      return Status::error(ZINC_EINVAL, "name has byte " + describe_byte(c) + " at offset " +
                                            std::to_string(i) +
                                            "; names use only A-Z a-z 0-9 _ -");
    }
  }
  return Status::ok();
}

std::string object_name(std::string_view name) {
  std::string object(kObjectPrefix);
  object.append(name);
  return object;
}

uint64_t name_hash(std::string_view name) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : name) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

}  // namespace zinc::core
