// edgecpm::infllm_tree_attention, the arithmetic (the contract: toolchain/edgecpm/attention/infllm_tree.py):
// InfLLM-v2 for a speculative verification call, each query row a decode step over its own sequence.
//
// Row t's sequence is the slots attn_mask[t] allows, ascending: the committed prefix 0..p0-1
// (p0 = min(input_pos)) and then its tree path, so position i < p0 is slot i and position i >= p0
// is the (i - p0)-th allowed slot at or after p0. Per row: the dense switch as a decode step takes it
// (p + 1 < dense_len); compressed windows ending before p0 from ck_cache, those ending at p0..p
// averaged here from the row's own path keys; block selection and the online-softmax attention by
// position, reading each position's slot (a run of the prefix is one segment, the path's slots are
// merged into runs where they are consecutive).
#pragma once

#include <cstdint>
#include <vector>

#include "infllm_attention.h"

namespace edgecpm {

struct InfllmTreeProblem {
  InfllmProblem pr;    // pos: the rows' positions; k/v already hold this call's keys at their slots
  const bool* mask;    // [T, S]: the slots each row reads
};

// The rows' path slots (for positions p0 .. pos[t]), built and checked once per call.
struct TreeRows {
  int64_t p0 = 0;
  int64_t committed_windows = 0;  // the windows that end before p0: read from ck_cache
  std::vector<std::vector<int64_t>> path;
};

// nullptr if the problem is valid (positions and masks follow the contract), else why not;
// fills `rows`.
const char* infllm_tree_prepare(const InfllmTreeProblem& tp, TreeRows& rows);

// Items [i0, i1) (item = (b * Hkv + g) * T + t): writes their rows of out.
void infllm_tree_items(const AttnKernels& ak, const InfllmTreeProblem& tp, const TreeRows& rows, int64_t i0,
                       int64_t i1, InfllmScratch& scratch);

}  // namespace edgecpm
