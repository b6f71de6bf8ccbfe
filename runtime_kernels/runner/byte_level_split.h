// The pre-tokenizers of a byte-level BPE tokenizer.json (GPT-2 style, the embedded models'):
// Hugging Face tokenizers' `Digits` and `ByteLevel` steps, which cut text into the words that
// BPE then merges within. Every function takes and returns valid UTF-8.
#pragma once

#include <string>
#include <vector>

namespace edgecpm {

// `Digits`: every number character (\p{N}) its own piece when `individual`, else each run of
// them one piece; the text between stays whole. Empty pieces are dropped.
std::vector<std::string> split_digits(const std::string& text, bool individual);

// `ByteLevel` with use_regex: GPT-2's pattern
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// applied leftmost-first with backtracking, as a regex engine does, written out as code.
std::vector<std::string> split_gpt2_pattern(const std::string& text);

// The printable character GPT-2's byte-level alphabet writes for each byte (UTF-8), as the
// vocabulary of a byte-level BPE spells its tokens.
const std::vector<std::string>& byte_level_alphabet();

}  // namespace edgecpm
