// Status: an error value with a zinc code and a message a user can act on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace zinc::core {

struct Status {
  int32_t code = 0;  // 0 or a negative ZINC_E* / -errno code
  std::string message;

  static Status ok() { return {}; }
  static Status error(int32_t code, std::string message) { return {code, std::move(message)}; }
  bool is_ok() const { return code == 0; }
};

// Prefixes a failure's message with the region it concerns:
// "region 'x': <message>". Successes pass through unchanged.
inline Status with_name(Status status, std::string_view name) {
  if (!status.is_ok()) status.message = "region '" + std::string(name) + "': " + status.message;
  return status;
}

// The reverse, for quoting a message inside another that names the region.
inline std::string without_name_prefix(const std::string& message, std::string_view name) {
  const std::string prefix = "region '" + std::string(name) + "': ";
  return message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message;
}

}  // namespace zinc::core
