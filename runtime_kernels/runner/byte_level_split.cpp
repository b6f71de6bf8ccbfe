#include "byte_level_split.h"

#include <cstdint>

#include "unicode_text.h"

namespace edgecpm {
namespace {

struct Char {
  uint32_t cp;
  size_t at;  // byte offset in the text
};

// Code points with their offsets, plus an end sentinel at text.size().
std::vector<Char> chars_of(const std::string& text) {
  std::vector<Char> chars;
  size_t at = 0;
  while (at < text.size()) {
    uint32_t cp = 0;
    size_t length = 1;
    decode_utf8(text, at, &cp, &length);  // the caller validated the text
    chars.push_back({cp, at});
    at += length;
  }
  chars.push_back({0, text.size()});
  return chars;
}

bool is_other(uint32_t cp) { return !is_whitespace(cp) && !is_letter(cp) && !is_number(cp); }

// The end (char index) of GPT-2's pattern matched at char i of n (i < n).
size_t gpt2_match_end(const std::vector<Char>& c, size_t i, size_t n) {
  if (c[i].cp == '\'' && i + 1 < n) {
    const uint32_t a = c[i + 1].cp;
    if (a == 's' || a == 't' || a == 'm' || a == 'd') {
      return i + 2;
    }
    if (i + 2 < n) {
      const uint32_t b = c[i + 2].cp;
      if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
        return i + 3;
      }
    }
  }
  // ` ?X+` for X = letters, numbers, other: the space is taken only when an X follows it (a
  // space is none of the three, so without it the alternative cannot start at a space).
  const size_t start = c[i].cp == ' ' ? i + 1 : i;
  for (bool (*in_class)(uint32_t) : {is_letter, is_number, is_other}) {
    if (start < n && in_class(c[start].cp)) {
      size_t end = start + 1;
      while (end < n && in_class(c[end].cp)) ++end;
      return end;
    }
  }
  // Whitespace: `\s+(?!\S)` gives the run but its last char when a non-space follows (if that
  // leaves any), else `\s+` the whole run.
  size_t end = i + 1;
  while (end < n && is_whitespace(c[end].cp)) ++end;
  if (end < n && end - 1 > i) {
    return end - 1;
  }
  return end;
}

}  // namespace

std::vector<std::string> split_digits(const std::string& text, bool individual) {
  const auto c = chars_of(text);
  const size_t n = c.size() - 1;
  std::vector<std::string> pieces;
  size_t i = 0;
  while (i < n) {
    size_t end = i + 1;
    const bool digit = is_number(c[i].cp);
    if (!digit || !individual) {
      while (end < n && is_number(c[end].cp) == digit) ++end;
    }
    pieces.push_back(text.substr(c[i].at, c[end].at - c[i].at));
    i = end;
  }
  return pieces;
}

std::vector<std::string> split_gpt2_pattern(const std::string& text) {
  const auto c = chars_of(text);
  const size_t n = c.size() - 1;
  std::vector<std::string> pieces;
  for (size_t i = 0; i < n;) {
    const size_t end = gpt2_match_end(c, i, n);
    pieces.push_back(text.substr(c[i].at, c[end].at - c[i].at));
    i = end;
  }
  return pieces;
}

const std::vector<std::string>& byte_level_alphabet() {
  static const std::vector<std::string> alphabet = [] {
    // Printable, non-space Latin-1 bytes stand for themselves; the other 68 move, in byte order,
    // to U+0100, U+0101, ... (toolchain/edgecpm/export/vocab_bin.py has the same map).
    std::vector<std::string> table(256);
    uint32_t moved = 0;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const uint32_t cp = printable ? b : 256 + moved++;
      std::string utf8;
      if (cp < 0x80) {
        utf8.push_back(static_cast<char>(cp));
      } else {
        utf8.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        utf8.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      }
      table[b] = utf8;
    }
    return table;
  }();
  return alphabet;
}

}  // namespace edgecpm
