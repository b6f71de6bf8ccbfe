// Writing the serving runner's stdout lines: JSON string literals from token bytes.
#pragma once

#include <string>

namespace edgecpm {

// The JSON string literal (quotes included) of `bytes`: control characters, quote and backslash
// escaped; bytes that are not valid UTF-8 become U+FFFD, one per maximal invalid subpart as
// Python's bytes.decode(errors="replace"), so that every line stays valid JSON for the reader (a
// model can emit any bytes; Utf8Stream passes invalid ones through).
std::string json_string(const std::string& bytes);

}  // namespace edgecpm
