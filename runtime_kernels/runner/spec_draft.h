// Drafting a verify step's candidates with the draft head: a chain, or an EAGLE-2 dynamic tree.
// A port of toolchain/edgecpm/speculative/tree.py (draft_chain / draft_tree, greedy), with the
// same slots, positions, masks, selection order and tie rules, so that the C++ runner proposes
// the trees the Python reference proposes.
//
// The base cache holds x_0..x_{P-1} (P = `committed`); the root is x_P. The draft cache holds
// its pairs (hidden_j, x_{j+1}) for j < P, and its output at pair P-1 (`DraftState`) proposes
// x_{P+1}. Expanding a node at depth d runs the draft on (its parent's predicted hidden, its
// token) at rope position P+d-1; expanded nodes take draft slots P, P+1, ... and see the
// committed slots plus their own ancestors. Those slots are overwritten by the next catch-up.
#pragma once

#include <cstdint>
#include <vector>

#include "draft_vocab.h"
#include "spec_methods.h"
#include "spec_tree.h"

namespace edgecpm {

// The draft head's output at the last committed pair.
struct DraftState {
  std::vector<float> hidden;  // hidden_size
  std::vector<float> logits;  // draft width (vocab or the FR-Spec subset)
};

// EAGLE-2's shape; MiniCPM4 uses 2 / 10 / 12. `num_iter` counts expansion rounds after the
// first draft step: the tree is at most num_iter + 1 deep.
struct TreeShape {
  int num_iter = 2;
  int topk_per_iter = 10;
  int tree_size = 12;  // nodes, root included
};

// `chain_len` tokens, each the draft's argmax (first index on ties, as torch.argmax).
SpecTree draft_chain(SpecMethods& methods, const DraftVocab& vocab, int64_t max_seq_len, int64_t committed,
                     const DraftState& state, int64_t root, int chain_len);

// EAGLE-2 dynamic tree (deterministic top-k proposals).
SpecTree draft_tree(SpecMethods& methods, const DraftVocab& vocab, int64_t max_seq_len, int64_t committed,
                    const DraftState& state, int64_t root, const TreeShape& shape);

}  // namespace edgecpm
