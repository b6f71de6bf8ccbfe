// SentencePiece's BPE encoding (MiniCPM4's tokenizer.model), as the sentencepiece library does
// it: normalize (spaces become U+2581; the model's dummy-prefix and extra-whitespace flags), cut
// the text into characters and whole user-defined symbols, merge the adjacent pair whose merged
// piece scores highest (leftmost on ties) until none is in the vocabulary, then spell unknown
// pieces as <0xNN> byte pieces (byte fallback) or one <unk> per run.
// Models with normalization rules (a precompiled charsmap) or of the unigram type are refused.
#pragma once

#include <memory>
#include <string>

#include "text_tokenizer.h"

namespace edgecpm {

// `added` are the tokens of tokenizer_config.json / added_tokens.json, split out before encoding.
std::unique_ptr<TextTokenizer> load_sentencepiece_bpe(const std::string& path, AddedTokens added);

}  // namespace edgecpm
