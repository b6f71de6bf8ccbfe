// edgecpm::infllm_attention, the arithmetic (the contract: /tmp/spec/infllm_op.md, mirrored by the
// Python reference in toolchain/edgecpm/attention/infllm_v2.py): InfLLM-v2 block-sparse attention
// over a KV cache, ISA-independent (the float work goes through an AttnKernels table) and free of
// ExecuTorch, so the checker runs it as a plain binary. ops_executorch.cpp adds checks and threads.
//
// Work item = (batch b, kv head g, query row t): its query heads share one block selection.
//   stage 1 reads only the compressed keys (S/16 rows): per head a softmax over visible windows,
//           summed over the group, pooled (max) to 64-slot blocks, forced blocks at +inf, top-k
//           with ties to the lower block index;
//   stage 2 reads only the selected blocks' K/V, ascending, with a streaming (online) softmax.
// A dense call (max(pos) + 1 < dense_len: one decision for every row, from the KV length the call
// reaches, as the official MiniCPM4 code takes it) runs the same stage 2 over every block 0..p.
#pragma once

#include <cstdint>
#include <vector>

#include "attend_segments.h"
#include "attn_kernels.h"

namespace edgecpm {

struct InfllmConfig {
  int64_t kernel_size = 32, kernel_stride = 16, block_size = 64;
  int64_t init_blocks = 1, local_blocks = 32, topk = 96, dense_len = 8192;
};

// Contiguous float32 tensors: q [B, Hq, T, D], k/v [B, Hkv, S, D], ck [B, Hkv, C, D], pos [T],
// out [B, Hq, T, D].
struct InfllmProblem {
  const float* q;
  const float* k;
  const float* v;
  const float* ck;
  const int64_t* pos;
  float* out;
  int64_t B, Hq, Hkv, T, S, C, D;
  InfllmConfig cfg;
};

// Whether the call attends densely: dense_len >= 0 and max(pos) + 1 < dense_len.
bool infllm_dense_call(const InfllmProblem& pr);

// nullptr if the heads, head_dim and config are sane (what both InfLLM ops check first), else why not.
const char* infllm_shape_error(const InfllmProblem& pr);

// nullptr if the problem is valid (positions in 0..S-1, enough ck rows for every sparse row, sane
// config), else why not.
const char* infllm_validate(const InfllmProblem& pr);

inline int64_t infllm_items(const InfllmProblem& pr) { return pr.B * pr.Hkv * pr.T; }

// Per-thread working memory (reused between calls).
struct InfllmScratch {
  std::vector<float> q, logits, s, block_score, own_windows, gathered_k, gathered_v;
  std::vector<int32_t> order, blocks;
  std::vector<int64_t> slots;  // a tree row's selected positions' slots
  std::vector<int> chunk_lens;
  std::vector<Segment> segments;
  AttendScratch attend;
};

// Items [i0, i1) (item = (b * Hkv + g) * T + t): writes their rows of out.
void infllm_attention_items(const AttnKernels& ak, const InfllmProblem& pr, int64_t i0, int64_t i1,
                            InfllmScratch& scratch);

// The compressed keys one row sees, nw in all: rows [0, n_cached) of `cached` (the ck cache of its
// kv head), then rows [0, nw - n_cached) of `own` (windows computed for this row alone).
struct RowWindows {
  const float* cached;
  int64_t n_cached;
  const float* own;
};

// Steps 1-5 for one row at position p of a kv head's query group (qg [G, D], gathered): the blocks
// it reads, ascending (every block 0..p / block_size when `dense`).
void infllm_row_blocks(const AttnKernels& ak, const InfllmConfig& c, int G, int D, int64_t p, bool dense,
                       const float* qg, const RowWindows& windows, InfllmScratch& scratch,
                       std::vector<int32_t>& blocks);

// Windows j with s*j + K - 1 <= p.
int64_t infllm_visible_windows(const InfllmConfig& c, int64_t p);

// The group's query rows of item (b, g, t), gathered contiguous [G, D] into scratch.q.
const float* infllm_gather_q(const InfllmProblem& pr, int64_t b, int64_t g, int64_t t, InfllmScratch& scratch);

// The blocks item (b, g, t) attends to, ascending (every block 0..p / block_size in a dense call).
// Exposed for the checker.
void infllm_select_blocks(const AttnKernels& ak, const InfllmProblem& pr, int64_t b, int64_t g, int64_t t,
                          InfllmScratch& scratch, std::vector<int32_t>& blocks);

}  // namespace edgecpm
