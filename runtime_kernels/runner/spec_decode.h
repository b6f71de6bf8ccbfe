// Greedy speculative decoding over a program's verify and draft methods: a port of the greedy
// path of toolchain/edgecpm/speculative/decode.py (speculative_generate). Each step drafts a
// chain or an EAGLE-2 tree, verifies every node in one base call, and keeps the longest path
// whose every token is the base model's argmax at its parent, plus the base's own next token:
// the output is plain greedy decoding, token for token, in fewer base calls.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "draft_vocab.h"
#include "run_stats.h"
#include "spec_draft.h"
#include "spec_methods.h"
#include "spec_replay.h"

namespace edgecpm {

struct SpecSettings {
  bool tree = false;  // EAGLE-2 tree, else a chain
  int chain_len = 3;  // chain: draft tokens per verify step
  TreeShape shape;

  // Base cache slots one verify step writes (root included) and draft slots one step writes:
  // the headroom the caches need beyond prompt + new tokens (as SpecConfig). In 64 bits: the
  // command line allows --tree 1000000/1000000/N, whose product must be refused, not wrap around.
  int64_t max_nodes() const { return tree ? shape.tree_size : int64_t(chain_len) + 1; }
  int64_t max_draft_slots() const { return tree ? int64_t(shape.num_iter) * shape.topk_per_iter : chain_len; }
};

// Throws RunnerError when prompt + max_new_tokens + the drafting headroom exceeds max_seq_len.
void check_spec_headroom(const SpecSettings& settings, size_t prompt_len, int max_new_tokens, int64_t max_seq_len,
                         const std::string& pte);

// Generates into stats.tokens (stopping after an eos id or max_new_tokens), calling on_token for
// each, and fills the prefill/decode timings and stats.spec. `replay` (benchmarks only,
// spec_replay.h) rewrites each drafted tree's tokens before verification.
void speculative_generate(SpecMethods& methods, const DraftVocab& vocab, int64_t max_seq_len,
                          const std::vector<int64_t>& prompt, int max_new_tokens, const std::set<int64_t>& eos_ids,
                          const SpecSettings& settings, const std::function<void(int64_t)>& on_token,
                          RunStats& stats, ReplayDraft* replay = nullptr);

}  // namespace edgecpm
