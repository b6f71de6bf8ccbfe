#include "json_reader.h"

#include "unicode_text.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace edgecpm {
namespace {

// Deeper than any manifest (4 levels) by far, shallow enough that recursion cannot exhaust a stack.
constexpr int kMaxDepth = 64;

class Parser {
 public:
  explicit Parser(const std::string& text) : s_(text) {}

  JsonValue document() {
    if (s_.compare(0, 3, "\xEF\xBB\xBF") == 0) {
      fail("starts with a UTF-8 byte order mark");
    }
    JsonValue value = parse_value(0);
    skip_space();
    if (at_ != s_.size()) {
      fail("extra data after the JSON value");
    }
    return value;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw JsonError("offset " + std::to_string(at_) + ": " + what);
  }

  bool more() const { return at_ < s_.size(); }
  char peek() const { return more() ? s_[at_] : '\0'; }

  void skip_space() {
    while (more() && (s_[at_] == ' ' || s_[at_] == '\t' || s_[at_] == '\n' || s_[at_] == '\r')) {
      ++at_;
    }
  }

  bool take_word(const char* word) {
    const size_t n = std::strlen(word);
    if (s_.compare(at_, n, word) == 0) {
      at_ += n;
      return true;
    }
    return false;
  }

  JsonValue parse_value(int depth) {
    if (depth > kMaxDepth) {
      fail("nested more than " + std::to_string(kMaxDepth) + " levels deep");
    }
    skip_space();
    JsonValue value;
    const char c = peek();
    if (!more()) {
      fail("unexpected end of text");
    } else if (c == '{') {
      parse_object(value, depth);
    } else if (c == '[') {
      parse_array(value, depth);
    } else if (c == '"') {
      value.kind = JsonValue::Kind::String;
      value.text = parse_string();
    } else if (take_word("true") || take_word("false")) {
      value.kind = JsonValue::Kind::Bool;
      value.boolean = c == 't';
    } else if (take_word("null")) {
      value.kind = JsonValue::Kind::Null;
    } else if (take_word("NaN") || take_word("Infinity") || take_word("-Infinity")) {
      value.kind = JsonValue::Kind::Number;  // Python's json writes these for non-finite floats
      value.text = c == 'N' ? "NaN" : c == 'I' ? "Infinity" : "-Infinity";
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      value.kind = JsonValue::Kind::Number;
      value.text = parse_number();
    } else {
      fail(std::string("unexpected character '") + (c >= 0x20 && c < 0x7f ? std::string(1, c) : "?") + "'");
    }
    return value;
  }

  void parse_object(JsonValue& value, int depth) {
    value.kind = JsonValue::Kind::Object;
    ++at_;  // '{'
    skip_space();
    if (peek() == '}') {
      ++at_;
      return;
    }
    while (true) {
      skip_space();
      if (peek() != '"') {
        fail("expected a string key");
      }
      std::string key = parse_string();
      skip_space();
      if (peek() != ':') {
        fail("expected ':' after a key");
      }
      ++at_;
      value.members.emplace_back(std::move(key), parse_value(depth + 1));
      skip_space();
      if (peek() == ',') {
        ++at_;
      } else if (peek() == '}') {
        ++at_;
        return;
      } else {
        fail("expected ',' or '}' in an object");
      }
    }
  }

  void parse_array(JsonValue& value, int depth) {
    value.kind = JsonValue::Kind::Array;
    ++at_;  // '['
    skip_space();
    if (peek() == ']') {
      ++at_;
      return;
    }
    while (true) {
      value.items.push_back(parse_value(depth + 1));
      skip_space();
      if (peek() == ',') {
        ++at_;
      } else if (peek() == ']') {
        ++at_;
        return;
      } else {
        fail("expected ',' or ']' in an array");
      }
    }
  }

  std::string parse_number() {
    const size_t start = at_;
    auto digits = [&]() {
      const size_t from = at_;
      while (more() && s_[at_] >= '0' && s_[at_] <= '9') {
        ++at_;
      }
      return at_ - from;
    };
    if (peek() == '-') {
      ++at_;
    }
    if (peek() == '0') {
      ++at_;  // no leading zeros: "01" is not a number
    } else if (digits() == 0) {
      fail("bad number");
    }
    if (peek() == '.') {
      ++at_;
      if (digits() == 0) {
        fail("bad number: no digits after '.'");
      }
    }
    if (peek() == 'e' || peek() == 'E') {
      ++at_;
      if (peek() == '+' || peek() == '-') {
        ++at_;
      }
      if (digits() == 0) {
        fail("bad number: no digits in the exponent");
      }
    }
    return s_.substr(start, at_ - start);
  }

  unsigned hex4() {
    if (s_.size() - at_ < 4) {
      fail("truncated \\u escape");
    }
    unsigned value = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = s_[at_++];
      value <<= 4;
      if (h >= '0' && h <= '9') {
        value |= unsigned(h - '0');
      } else if (h >= 'a' && h <= 'f') {
        value |= unsigned(h - 'a' + 10);
      } else if (h >= 'A' && h <= 'F') {
        value |= unsigned(h - 'A' + 10);
      } else {
        fail("bad hex digit in a \\u escape");
      }
    }
    return value;
  }

  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out.push_back(char(cp));
    } else if (cp < 0x800) {
      out.push_back(char(0xC0 | cp >> 6));
      out.push_back(char(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {  // a lone surrogate too, as Python keeps it (WTF-8)
      out.push_back(char(0xE0 | cp >> 12));
      out.push_back(char(0x80 | (cp >> 6 & 0x3F)));
      out.push_back(char(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(char(0xF0 | cp >> 18));
      out.push_back(char(0x80 | (cp >> 12 & 0x3F)));
      out.push_back(char(0x80 | (cp >> 6 & 0x3F)));
      out.push_back(char(0x80 | (cp & 0x3F)));
    }
  }

  // Copies one well-formed UTF-8 character (shortest form, no surrogates, <= U+10FFFF).
  void copy_utf8_char(std::string& out) {
    uint32_t cp;
    size_t length;
    if (!decode_utf8(s_, at_, &cp, &length)) {
      fail("invalid UTF-8 in a string");
    }
    out.append(s_, at_, length);
    at_ += length;
  }

  std::string parse_string() {
    ++at_;  // '"'
    std::string out;
    while (true) {
      if (!more()) {
        fail("unterminated string");
      }
      const auto c = static_cast<unsigned char>(s_[at_]);
      if (c == '"') {
        ++at_;
        return out;
      }
      if (c < 0x20) {
        fail("control character in a string");
      }
      if (c >= 0x80) {
        copy_utf8_char(out);
        continue;
      }
      ++at_;
      if (c != '\\') {
        out.push_back(char(c));
        continue;
      }
      const char e = peek();
      ++at_;
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          unsigned cp = hex4();
          // A high surrogate followed by an escaped low one is one character beyond U+FFFF.
          if (cp >= 0xD800 && cp <= 0xDBFF && s_.compare(at_, 2, "\\u") == 0) {
            const size_t back = at_;
            at_ += 2;
            const unsigned low = hex4();
            if (low >= 0xDC00 && low <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else {
              at_ = back;
            }
          }
          append_utf8(out, cp);
          break;
        }
        default:
          --at_;
          fail("bad escape in a string");
      }
    }
  }

  const std::string& s_;
  size_t at_ = 0;
};

}  // namespace

const JsonValue* JsonValue::find(const std::string& key) const {
  const JsonValue* found = nullptr;
  for (const auto& member : members) {
    if (member.first == key) {
      found = &member.second;
    }
  }
  return found;
}

bool JsonValue::to_int64(int64_t* out) const {
  if (kind != Kind::Number || text.find_first_of(".eEaIN") != std::string::npos) {
    return false;
  }
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') {
    return false;
  }
  *out = static_cast<int64_t>(value);
  return true;
}

JsonValue parse_json(const std::string& text) { return Parser(text).document(); }

}  // namespace edgecpm
