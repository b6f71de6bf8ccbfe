#include "json_line.h"

#include <cstdio>

namespace edgecpm {
namespace {

// The valid UTF-8 sequence starting at s[i]: its length (> 0), or minus the length of the
// longest prefix of one ("maximal subpart", at least 1 byte), which Unicode's recommended
// practice (and Python's errors="replace") turns into one U+FFFD. RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF.
long utf8_sequence(const std::string& s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c >= 0xE0 && c <= 0xEF) { n = 3; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
  else if (c >= 0xF0 && c <= 0xF4) { n = 4; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
  else return -1;
  for (size_t k = 1; k < n; ++k) {
    const bool ok = i + k < s.size() && byte(i + k) >= (k == 1 ? lo : 0x80) && byte(i + k) <= (k == 1 ? hi : 0xBF);
    if (!ok) return -static_cast<long>(k);
  }
  return static_cast<long>(n);
}

}  // namespace

std::string json_string(const std::string& bytes) {
  std::string out = "\"";
  for (size_t i = 0; i < bytes.size();) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    const long length = utf8_sequence(bytes, i);
    if (length < 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      i += static_cast<size_t>(-length);
      continue;
    }
    const size_t n = static_cast<size_t>(length);
    if (n > 1) {
      out.append(bytes, i, n);
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out.push_back(static_cast<char>(c));
    }
    i += n;
  }
  return out + "\"";
}

}  // namespace edgecpm
