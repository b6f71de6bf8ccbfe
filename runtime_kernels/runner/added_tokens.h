// Added (special) tokens such as <|im_start|>: found in the raw text before the model sees it,
// each becoming its own id, as Hugging Face tokenizers (leftmost-longest match) and edgecpm's
// SentencePiece wrapper (split on the tokens, longest first) both do.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace edgecpm {

class AddedTokens {
 public:
  // A later add of the same text replaces the earlier id (a dict update in Python).
  void add(const std::string& text, int64_t id);
  bool empty() const { return ids_.empty(); }

  // Cuts `text` at every added token: calls on_text(piece) for each non-empty stretch between
  // them and on_token(id) for each token, in order. At each position the longest token wins.
  template <class OnText, class OnToken>
  void split(const std::string& text, OnText on_text, OnToken on_token) const {
    size_t start = 0;
    size_t at = 0;
    while (at < text.size()) {
      size_t length = 0;
      const int64_t id = match_at(text, at, &length);
      if (id < 0) {
        ++at;
        continue;
      }
      if (at > start) on_text(text.substr(start, at - start));
      on_token(id);
      at += length;
      start = at;
    }
    if (text.size() > start) on_text(text.substr(start));
  }

 private:
  // The id of the longest token starting at text[at] (its length in *length), or -1.
  int64_t match_at(const std::string& text, size_t at, size_t* length) const;

  std::unordered_map<std::string, int64_t> ids_;
  std::vector<bool> starts_with_byte_ = std::vector<bool>(256, false);  // a quick reject per position
  size_t longest_ = 0;
};

}  // namespace edgecpm
