// A small JSON writer for --json output: one document per line, so scripts
// can read it with `jq` or any JSON parser (and `zinc watch` emits JSON Lines).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace zinc::cli {

class Json {
 public:
  Json& begin_object();
  Json& end_object();
  Json& begin_array();
  Json& end_array();
  Json& key(std::string_view name);
  Json& value(std::string_view text);
  Json& value(const char* text) { return value(std::string_view(text)); }
  Json& value(int64_t number);
  Json& value(uint64_t number);
  Json& value(int32_t number) { return value(int64_t{number}); }
  Json& value(uint32_t number) { return value(uint64_t{number}); }
  Json& value(double number);
  Json& value(bool flag);
  Json& null();
  // The document so far.
  const std::string& text() const { return out_; }
  // Prints the document and a newline to stdout, flushed.
  void print() const;

 private:
  void separate();  // a comma before every element but the first
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

}  // namespace zinc::cli
