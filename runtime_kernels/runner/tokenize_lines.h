// --tokenize FILE: the tokenizer alone, for checking it against Python's on many strings in one
// process. FILE holds one JSON string per line (so a string may hold newlines); each one's ids
// (no BOS) are printed as a JSON array, one line per input line.
#pragma once

#include <string>

#include "text_tokenizer.h"

namespace edgecpm {

// Throws RunnerError naming FILE:LINE for a line that is not one JSON string.
void tokenize_lines(const TextTokenizer& tokenizer, const std::string& path);

}  // namespace edgecpm
