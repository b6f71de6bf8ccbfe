#include "cached_attention.h"

#include <algorithm>
#include <cmath>

namespace edgecpm {
namespace {

constexpr int kSegment = 64;  // slots scored per qk call: a segment's scores stay in L1 across heads

// NeoX rotation: dst = x * cos + rotate_half(x) * sin, rotate_half(x) = (-x2, x1).
void rotate(const float* x, const float* cos, const float* sin, int64_t D, float* dst) {
  const int64_t h = D / 2;
  for (int64_t i = 0; i < h; ++i) {
    const float x1 = x[i], x2 = x[i + h];
    dst[i] = x1 * cos[i] + (-x2) * sin[i];
    dst[i + h] = x2 * cos[i + h] + x1 * sin[i + h];
  }
}

// The segments row t reads: slots 0..slot cut to kSegment without a mask; with one, the slots it
// allows, in order, with the same cuts (gathered_segments: non-consecutive chunks are gathered).
void visible_segments(const CachedAttentionProblem& pr, int64_t t, const float* k, const float* v,
                      CachedAttentionScratch& sc) {
  sc.segments.clear();
  if (pr.mask == nullptr) {
    for (int64_t s = 0; s <= pr.slots[t]; s += kSegment)
      sc.segments.push_back({s, int(std::min<int64_t>(kSegment, pr.slots[t] + 1 - s))});
    return;
  }
  const bool* row = pr.mask + t * pr.S;
  sc.sequence.clear();
  for (int64_t s = 0; s < pr.S; ++s)
    if (row[s]) sc.sequence.push_back(s);
  sc.chunk_lens.clear();
  for (int64_t a = 0; a < int64_t(sc.sequence.size()); a += kSegment)
    sc.chunk_lens.push_back(int(std::min<int64_t>(kSegment, int64_t(sc.sequence.size()) - a)));
  gathered_segments(sc.sequence.data(), sc.chunk_lens, k, v, int(pr.D), sc.segments, sc.gathered_k, sc.gathered_v);
}

}  // namespace

const char* cached_attention_validate(const CachedAttentionProblem& pr) {
  if (pr.Hkv <= 0 || pr.Hq % pr.Hkv != 0) return "Hq must be a multiple of Hkv";
  if (pr.D <= 0 || pr.D % 2 != 0) return "head_dim must be positive and even (rotary halves)";
  for (int64_t t = 0; t < pr.T; ++t)
    if (pr.slots[t] < 0 || pr.slots[t] >= pr.S) return "cache_pos out of range of the cache (0..S-1)";
  return nullptr;
}

void cached_attention_write_cache(const CachedAttentionProblem& pr) {
  const int64_t D = pr.D;
  for (int64_t b = 0; b < pr.B; ++b)
    for (int64_t t = 0; t < pr.T; ++t)
      for (int64_t g = 0; g < pr.Hkv; ++g) {
        const int64_t src = ((b * pr.T + t) * pr.Hkv + g) * D, dst = ((b * pr.Hkv + g) * pr.S + pr.slots[t]) * D;
        rotate(pr.k + src, pr.cos + t * D, pr.sin + t * D, D, pr.k_cache + dst);
        std::copy(pr.v + src, pr.v + src + D, pr.v_cache + dst);
      }
}

void cached_attention_items(const AttnKernels& ak, const CachedAttentionProblem& pr, int64_t i0, int64_t i1,
                            CachedAttentionScratch& sc) {
  const int G = int(pr.Hq / pr.Hkv), D = int(pr.D);
  const float scale = 1.f / std::sqrt(float(D));
  sc.q.resize(size_t(G) * D);
  for (int64_t i = i0; i < i1; ++i) {
    const int64_t t = i % pr.T, g = (i / pr.T) % pr.Hkv, b = i / (pr.T * pr.Hkv);
    const int64_t row = (b * pr.T + t) * pr.Hq + g * G;  // the group's first head in q and out
    for (int h = 0; h < G; ++h) rotate(pr.q + (row + h) * D, pr.cos + t * D, pr.sin + t * D, D, sc.q.data() + h * D);
    const int64_t kv = (b * pr.Hkv + g) * pr.S * D;
    visible_segments(pr, t, pr.k_cache + kv, pr.v_cache + kv, sc);
    attend_segments(ak, sc.q.data(), G, D, pr.k_cache + kv, pr.v_cache + kv, sc.segments.data(), sc.segments.size(),
                    kSegment, scale, sc.attend, pr.out + row * D, D);
  }
}

}  // namespace edgecpm
