#include "unicode_text.h"

#include <algorithm>
#include <iterator>

namespace edgecpm {
namespace {

struct CodeRange {
  uint32_t first;
  uint32_t last;
};

#include "unicode_classes.inc"

template <size_t N>
bool in_ranges(const CodeRange (&ranges)[N], uint32_t cp) {
  // The first range whose end is >= cp; cp is in the class when that range starts at or before it.
  auto it = std::lower_bound(std::begin(ranges), std::end(ranges), cp,
                             [](const CodeRange& r, uint32_t value) { return r.last < value; });
  return it != std::end(ranges) && it->first <= cp;
}

}  // namespace

bool decode_utf8(const std::string& text, size_t at, uint32_t* code_point, size_t* length) {
  *length = 1;
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(at);
  size_t n;
  uint32_t cp;
  uint32_t min_cp;
  if (lead < 0x80) {
    *code_point = lead;
    return true;
  } else if (lead >= 0xC2 && lead <= 0xDF) {
    n = 2, cp = lead & 0x1F, min_cp = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    n = 3, cp = lead & 0x0F, min_cp = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    n = 4, cp = lead & 0x07, min_cp = 0x10000;
  } else {
    return false;
  }
  if (text.size() - at < n) {
    return false;
  }
  for (size_t i = 1; i < n; ++i) {
    const unsigned char c = byte(at + i);
    if ((c & 0xC0) != 0x80) {
      return false;
    }
    cp = cp << 6 | (c & 0x3F);
  }
  if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return false;
  }
  *code_point = cp;
  *length = n;
  return true;
}

size_t first_invalid_utf8(const std::string& text) {
  size_t at = 0;
  while (at < text.size()) {
    uint32_t cp;
    size_t length;
    if (!decode_utf8(text, at, &cp, &length)) {
      return at;
    }
    at += length;
  }
  return std::string::npos;
}

bool is_letter(uint32_t code_point) { return in_ranges(kLetterRanges, code_point); }

bool is_number(uint32_t code_point) { return in_ranges(kNumberRanges, code_point); }

bool is_whitespace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000;
}

}  // namespace edgecpm
