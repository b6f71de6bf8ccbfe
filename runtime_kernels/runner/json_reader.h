// A small strict JSON reader for manifest.json (RFC 8259, plus the NaN/Infinity literals Python's
// json module writes and reads). Its input is untrusted: every error is a JsonError with the byte
// offset, nesting is limited (no stack overflow on "[[[[..."), and nothing is read past the text.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace edgecpm {

class JsonError : public std::runtime_error {
 public:
  explicit JsonError(const std::string& message) : std::runtime_error(message) {}
};

class JsonValue {
 public:
  enum class Kind { Null, Bool, Number, String, Array, Object };

  Kind kind = Kind::Null;
  bool boolean = false;
  std::string text;  // a String's UTF-8 contents, or a Number's token as written
  std::vector<JsonValue> items;                             // Array
  std::vector<std::pair<std::string, JsonValue>> members;   // Object, in file order

  // The member named `key` (the last one if repeated, as Python's json does), or nullptr; also
  // nullptr when this is not an object.
  const JsonValue* find(const std::string& key) const;
  // True (and *out set) for a Number written as an integer that fits in int64.
  bool to_int64(int64_t* out) const;
};

// Throws JsonError ("offset N: what is wrong") for anything that is not one JSON value.
JsonValue parse_json(const std::string& text);

}  // namespace edgecpm
