#include "json_value.hpp"

#include <cstdlib>
#include <cstring>

namespace zinc::cli::test {

class Parser {
 public:
  explicit Parser(const std::string& text) : text_(text) {}

  JsonValue document() {
    JsonValue value = parse_value();
    skip_space();
    if (at_ != text_.size()) fail("trailing characters");
    return value;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("JSON: " + what + " at offset " + std::to_string(at_) +
                             " in: " + text_);
  }
  void skip_space() {
    while (at_ < text_.size() && std::strchr(" \t\r\n", text_[at_]) != nullptr) ++at_;
  }
  char peek() {
    skip_space();
    if (at_ >= text_.size()) fail("unexpected end");
    return text_[at_];
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++at_;
  }
  bool literal(const char* word) {
    if (text_.compare(at_, std::strlen(word), word) != 0) return false;
    at_ += std::strlen(word);
    return true;
  }

  std::string parse_string() {
    expect('"');
    std::string out;
    while (true) {
      if (at_ >= text_.size()) fail("unterminated string");
      const char c = text_[at_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
      if (static_cast<unsigned char>(c) >= 0x80) fail("raw byte >= 0x80 (must be escaped)");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_ >= text_.size()) fail("unterminated escape");
      const char e = text_[at_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          if (at_ + 4 > text_.size()) fail("short \\u escape");
          const unsigned code = std::strtoul(text_.substr(at_, 4).c_str(), nullptr, 16);
          at_ += 4;
          out += code < 0x80 ? static_cast<char>(code) : '?';
          break;
        }
        default:
          fail("bad escape");
      }
    }
  }

  JsonValue parse_value() {
    JsonValue v;
    const char c = peek();
    if (c == '{') {
      ++at_;
      v.type_ = JsonValue::Type::kObject;
      if (peek() == '}') {
        ++at_;
        return v;
      }
      while (true) {
        std::string key = parse_string();
        expect(':');
        if (v.members_.count(key) != 0) fail("duplicate key " + key);
        v.members_[key] = parse_value();
        if (peek() == ',') {
          ++at_;
          continue;
        }
        expect('}');
        return v;
      }
    }
    if (c == '[') {
      ++at_;
      v.type_ = JsonValue::Type::kArray;
      if (peek() == ']') {
        ++at_;
        return v;
      }
      while (true) {
        v.items_.push_back(parse_value());
        if (peek() == ',') {
          ++at_;
          continue;
        }
        expect(']');
        return v;
      }
    }
    if (c == '"') {
      v.type_ = JsonValue::Type::kString;
      v.string_ = parse_string();
      return v;
    }
    if (literal("true") || literal("false")) {
      v.type_ = JsonValue::Type::kBool;
      v.bool_ = text_.compare(at_ - 4, 4, "true") == 0;
      return v;
    }
    if (literal("null")) return v;
    if (c == '-' || (c >= '0' && c <= '9')) {
      char* end = nullptr;
      v.type_ = JsonValue::Type::kNumber;
      v.number_ = std::strtod(text_.c_str() + at_, &end);
      at_ = static_cast<size_t>(end - text_.c_str());
      return v;
    }
    fail("unexpected character");
  }

  const std::string& text_;
  size_t at_ = 0;
};

JsonValue JsonValue::parse(const std::string& text) { return Parser(text).document(); }

namespace {
[[noreturn]] void wrong(const char* what) {
  throw std::runtime_error(std::string("JSON value is not ") + what);
}
}  // namespace

const std::string& JsonValue::str() const {
  if (type_ != Type::kString) wrong("a string");
  return string_;
}
double JsonValue::num() const {
  if (type_ != Type::kNumber) wrong("a number");
  return number_;
}
bool JsonValue::boolean() const {
  if (type_ != Type::kBool) wrong("a boolean");
  return bool_;
}
const std::vector<JsonValue>& JsonValue::array() const {
  if (type_ != Type::kArray) wrong("an array");
  return items_;
}
bool JsonValue::has(const std::string& key) const {
  return type_ == Type::kObject && members_.count(key) != 0;
}
const JsonValue& JsonValue::operator[](const std::string& key) const {
  if (type_ != Type::kObject) wrong("an object");
  const auto it = members_.find(key);
  if (it == members_.end()) throw std::runtime_error("JSON object has no key '" + key + "'");
  return it->second;
}

}  // namespace zinc::cli::test
