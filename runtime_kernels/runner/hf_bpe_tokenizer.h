// A Hugging Face tokenizer.json with a byte-level BPE model (the embedded tiny models' format):
// no normalizer, the pre-tokenizers `Digits` and `ByteLevel` (alone or in a Sequence), a `BPE`
// model whose merges apply lowest rank first, leftmost on ties, as tokenizers' Word::merge_all.
// Other tokenizer.json kinds are refused at load with a message naming the file.
#pragma once

#include <memory>
#include <string>

#include "text_tokenizer.h"

namespace edgecpm {

std::unique_ptr<TextTokenizer> load_hf_bpe_tokenizer(const std::string& path);

}  // namespace edgecpm
