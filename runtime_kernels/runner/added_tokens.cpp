#include "added_tokens.h"

#include <algorithm>

namespace edgecpm {

void AddedTokens::add(const std::string& text, int64_t id) {
  if (text.empty()) {
    return;  // matches nothing (Python's split pattern never gets an empty alternative either)
  }
  ids_[text] = id;
  starts_with_byte_[static_cast<unsigned char>(text[0])] = true;
  longest_ = std::max(longest_, text.size());
}

int64_t AddedTokens::match_at(const std::string& text, size_t at, size_t* length) const {
  if (!starts_with_byte_[static_cast<unsigned char>(text[at])]) {
    return -1;
  }
  // Longest first, so a token containing another is matched whole.
  for (size_t n = std::min(longest_, text.size() - at); n > 0; --n) {
    auto it = ids_.find(text.substr(at, n));
    if (it != ids_.end()) {
      *length = n;
      return it->second;
    }
  }
  return -1;
}

}  // namespace edgecpm
