// Status: an error value with a zinc code and a message a user can act on.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

namespace zinc::core {

struct Status {
  int32_t code = 0;  // 0 or a negative ZINC_E* / -errno code
  std::string message;

  static Status ok() { return {}; }
  static Status error(int32_t code, std::string message) { return {code, std::move(message)}; }
  bool is_ok() const { return code == 0; }
};

}  // namespace zinc::core
