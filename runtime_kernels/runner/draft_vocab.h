// draft_vocab.bin: the FR-Spec subset a draft head's LM head was restricted to at export
// (`edgecpm export MODEL --draft DRAFT_DIR --frspec FILE`): the magic "ECPMDVB1", a u32 count,
// then that many int64 full-vocabulary ids, little-endian (toolchain/edgecpm/export/
// draft_vocab_bin.py writes it). Draft logit column i proposes token ids[i]. Without a subset the
// draft's columns are the vocabulary itself.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace edgecpm {

class DraftVocab {
 public:
  DraftVocab() = default;  // identity: the draft scores the whole vocabulary

  // Throws RunnerError naming the file when it is unreadable, lacks the header, holds another
  // number of ids than its header counts, or an id outside [0, vocab_size).
  static DraftVocab load(const std::string& path, int64_t vocab_size);

  // The mapping for a program's draft of `draft_width` logit columns: identity when it scores the
  // whole vocabulary, else `path` (--draft-vocab) or draft_vocab.bin beside `model_path`. Throws
  // RunnerError when the subset is missing or its size is not the draft's width.
  static DraftVocab for_program(const std::string& path, const std::string& model_path, int64_t draft_width,
                                int64_t vocab_size);

  int64_t to_full(int64_t draft_index) const { return ids_.empty() ? draft_index : ids_[draft_index]; }
  bool is_identity() const { return ids_.empty(); }
  size_t size() const { return ids_.size(); }

 private:
  std::vector<int64_t> ids_;
};

}  // namespace edgecpm
