// A strict little JSON reader for the tests: every --json output must parse,
// and assertions read fields instead of matching text.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace zinc::cli::test {

class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  // Throws std::runtime_error (with the offset) unless `text` is exactly one
  // JSON value, optionally followed by whitespace.
  static JsonValue parse(const std::string& text);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  const std::string& str() const;
  double num() const;
  bool boolean() const;
  const std::vector<JsonValue>& array() const;
  bool has(const std::string& key) const;
  // Object member; throws if absent.
  const JsonValue& operator[](const std::string& key) const;
  const JsonValue& operator[](size_t index) const { return array().at(index); }

 private:
  friend class Parser;
  Type type_ = Type::kNull;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<JsonValue> items_;
  std::map<std::string, JsonValue> members_;
};

}  // namespace zinc::cli::test
