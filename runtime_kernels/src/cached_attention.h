// edgecpm::cached_attention, the arithmetic (the contract: toolchain/edgecpm/attention/cached_attention.py):
// rotate q and k, write the new K/V into the cache in place, then dense grouped-query attention
// of each query row over the slots it may see. ISA-independent (float work through AttnKernels)
// and free of ExecuTorch; ops_executorch.cpp adds the checks and threads.
//
// Work item = (batch b, kv head g, query row t): the group's Hq / Hkv query heads read the kv
// head's K/V once per segment of slots, so the GQA "repeat" is never materialised. Without a
// mask a row reads slots 0..cache_pos[t] (decode cost grows with the position, not the cache);
// with one, the slots its mask allows, in chunks cut as that decode step cuts them (a tree row's
// arithmetic is plain decoding's over its own path, to the bit).
#pragma once

#include <cstdint>
#include <vector>

#include "attend_segments.h"
#include "attn_kernels.h"

namespace edgecpm {

// Contiguous float32: q [B, T, Hq, D], k/v [B, T, Hkv, D] (before rotation), caches [B, Hkv, S, D],
// cos/sin [T, D], slots [T] int64, mask [T, S] or nullptr, out [B, T, Hq, D].
struct CachedAttentionProblem {
  const float* q;
  const float* k;
  const float* v;
  float* k_cache;
  float* v_cache;
  const float* cos;
  const float* sin;
  const int64_t* slots;
  const bool* mask;
  float* out;
  int64_t B, T, Hq, Hkv, S, D;
};

// nullptr if valid (slots in 0..S-1, even head_dim, Hq a multiple of Hkv), else why not.
const char* cached_attention_validate(const CachedAttentionProblem& pr);

// Rotated k and plain v of every token into cache slot slots[t] (before any item runs: a row
// reads the slots of the tokens before it in the same call).
void cached_attention_write_cache(const CachedAttentionProblem& pr);

inline int64_t cached_attention_items(const CachedAttentionProblem& pr) { return pr.B * pr.Hkv * pr.T; }

struct CachedAttentionScratch {
  std::vector<float> q, gathered_k, gathered_v;
  std::vector<int64_t> sequence;  // a masked row's visible slots, ascending
  std::vector<int> chunk_lens;
  std::vector<Segment> segments;
  AttendScratch attend;
};

// Items [i0, i1) (item = (b * Hkv + g) * T + t): writes their rows of out.
void cached_attention_items(const AttnKernels& ak, const CachedAttentionProblem& pr, int64_t i0, int64_t i1,
                            CachedAttentionScratch& scratch);

}  // namespace edgecpm
