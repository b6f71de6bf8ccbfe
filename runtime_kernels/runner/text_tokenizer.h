// Text to token ids in the runner, as edgecpm's Python tokenizer (toolchain/edgecpm/tokenizer)
// encodes: a bundle's tokenizer.json (byte-level BPE: hf_bpe_tokenizer.h) or, without one, its
// SentencePiece tokenizer.model with the added tokens of tokenizer_config.json/added_tokens.json
// (sentencepiece_bpe.h). Added tokens are cut out of the text first; the model encodes the rest.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "added_tokens.h"

namespace edgecpm {

class TextTokenizer {
 public:
  virtual ~TextTokenizer() = default;

  // The ids of `text`, without BOS (Python's Tokenizer.encode(text)). Throws RunnerError naming
  // `where` when the text is not valid UTF-8.
  std::vector<int64_t> encode(const std::string& text, const std::string& where) const;

  // The file the tokenizer was read from, for messages.
  const std::string& path() const { return path_; }

 protected:
  TextTokenizer(std::string path, AddedTokens added) : path_(std::move(path)), added_(std::move(added)) {}
  // Appends the ids of a stretch of text that holds no added token.
  virtual void encode_text(const std::string& text, std::vector<int64_t>& ids) const = 0;

 private:
  std::string path_;
  AddedTokens added_;
};

// The tokenizer in `dir`, chosen as Python's load_tokenizer chooses: tokenizer.json, else
// tokenizer.model. Throws RunnerError naming the file for a missing, unsupported or damaged one.
std::unique_ptr<TextTokenizer> load_text_tokenizer(const std::string& dir);

// The ChatML text of one user turn and the assistant's opening, as Python's Tokenizer.chat().
std::string chat_prompt(const std::string& user_text);

}  // namespace edgecpm
