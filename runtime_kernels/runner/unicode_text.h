// UTF-8 decoding and the Unicode classes the tokenizers split text by. Input text is untrusted:
// decoding never reads past the end and reports malformed sequences instead of guessing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace edgecpm {

// The character starting at text[at]: its code point and byte length (1-4). Returns false for a
// malformed sequence (bad lead or continuation byte, overlong form, surrogate, > U+10FFFF, or cut
// off by the end); *length is then 1, so a caller can skip the byte.
bool decode_utf8(const std::string& text, size_t at, uint32_t* code_point, size_t* length);

// The byte offset of the first malformed sequence, or std::string::npos for valid UTF-8.
size_t first_invalid_utf8(const std::string& text);

// General category L* (letters) and N* (Nd, Nl, No), as the regex classes \p{L} and \p{N} and
// Rust's char::is_numeric see them (tables generated from the Unicode database).
bool is_letter(uint32_t code_point);
bool is_number(uint32_t code_point);
// The Unicode White_Space property: what \s matches in the tokenizers' regex engine.
bool is_whitespace(uint32_t code_point);

}  // namespace edgecpm
