// Byte-level BPE and byte-fallback tokens can end in the middle of a UTF-8 character; printing
// such a fragment would show garbage. Utf8Stream holds back an incomplete trailing sequence until
// the following token(s) complete it.
#pragma once

#include <string>

namespace edgecpm {

class Utf8Stream {
 public:
  // Appends bytes; returns the longest prefix of everything pending that ends on a character
  // boundary. Invalid bytes are passed through rather than held forever.
  std::string push(const std::string& bytes);
  // Whatever is still held (an incomplete character at the end of generation).
  std::string flush();

 private:
  std::string pending_;
};

}  // namespace edgecpm
