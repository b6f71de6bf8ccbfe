#include "infllm_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace edgecpm {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr int kChunk = 64;  // compressed keys scored per qk call: a chunk stays in L1 across heads

void select_blocks(const AttnKernels& ak, const InfllmProblem& pr, bool dense, int64_t b, int64_t g, int64_t t,
                   const float* qg, InfllmScratch& sc, std::vector<int32_t>& blocks) {
  const RowWindows windows{pr.ck + (b * pr.Hkv + g) * pr.C * pr.D, infllm_visible_windows(pr.cfg, pr.pos[t]), nullptr};
  infllm_row_blocks(ak, pr.cfg, int(pr.Hq / pr.Hkv), int(pr.D), pr.pos[t], dense, qg, windows, sc, blocks);
}

// Stage 2 for one item: online softmax over the selected blocks' slots <= p.
void attend(const AttnKernels& ak, const InfllmProblem& pr, int64_t b, int64_t g, int64_t t, const float* qg,
            const std::vector<int32_t>& blocks, InfllmScratch& sc) {
  const int G = int(pr.Hq / pr.Hkv), D = int(pr.D), bs = int(pr.cfg.block_size);
  const int64_t p = pr.pos[t];
  sc.segments.clear();
  for (const int32_t bk : blocks) {
    const int64_t s0 = int64_t(bk) * bs;
    sc.segments.push_back({s0, int(std::min<int64_t>(bs, p + 1 - s0))});
  }
  const int64_t kv = (b * pr.Hkv + g) * pr.S * D;
  float* out = pr.out + ((b * pr.Hq + g * G) * pr.T + t) * D;
  attend_segments(ak, qg, G, D, pr.k + kv, pr.v + kv, sc.segments.data(), sc.segments.size(), bs,
                  1.f / std::sqrt(float(pr.D)), sc.attend, out, pr.T * D);
}

}  // namespace

int64_t infllm_visible_windows(const InfllmConfig& c, int64_t p) {
  const int64_t n = p + 1 - c.kernel_size;
  return n < 0 ? 0 : n / c.kernel_stride + 1;
}

const float* infllm_gather_q(const InfllmProblem& pr, int64_t b, int64_t g, int64_t t, InfllmScratch& sc) {
  const int64_t G = pr.Hq / pr.Hkv, D = pr.D;
  sc.q.resize(G * D);
  for (int64_t i = 0; i < G; ++i) {
    const float* src = pr.q + ((b * pr.Hq + g * G + i) * pr.T + t) * D;
    std::copy(src, src + D, sc.q.data() + i * D);
  }
  return sc.q.data();
}

void infllm_row_blocks(const AttnKernels& ak, const InfllmConfig& c, int G, int D, int64_t p, bool dense,
                       const float* qg, const RowWindows& windows, InfllmScratch& sc, std::vector<int32_t>& blocks) {
  const int64_t qb = p / c.block_size, nb = qb + 1;
  blocks.clear();
  if (dense || nb <= c.topk) {  // everything is selected: skip stage 1
    for (int64_t i = 0; i < nb; ++i) blocks.push_back(int32_t(i));
    return;
  }
  const int nw = int(infllm_visible_windows(c, p));
  const float scale = 1.f / std::sqrt(float(D));

  // Stage 1: per head, softmax over the visible windows; S = sum over the group's heads.
  sc.s.assign(nw, 0.f);
  if (nw > 0) {
    sc.logits.resize(size_t(G) * nw);
    const int cached = int(std::min<int64_t>(windows.n_cached, nw));
    for (int j = 0; j < cached; j += kChunk)
      ak.qk(qg, G, windows.cached + int64_t(j) * D, std::min(kChunk, cached - j), D, scale, sc.logits.data() + j, nw);
    for (int j = cached; j < nw; j += kChunk)
      ak.qk(qg, G, windows.own + int64_t(j - cached) * D, std::min(kChunk, nw - j), D, scale, sc.logits.data() + j,
            nw);
    for (int h = 0; h < G; ++h) {
      float* row = sc.logits.data() + size_t(h) * nw;
      const float sum = ak.exp_sum(row, nw, ak.max(row, nw));
      ak.axpy(sc.s.data(), row, nw, 1.f / sum);
    }
  }

  // Pool: a block scores the max S over visible windows overlapping it; forced blocks +inf.
  const int64_t K = c.kernel_size, s = c.kernel_stride, bs = c.block_size;
  sc.block_score.resize(nb);
  for (int64_t bk = 0; bk < nb; ++bk) {
    if (bk < c.init_blocks || (bk >= qb - c.local_blocks && bk <= qb)) {
      sc.block_score[bk] = kInf;
      continue;
    }
    // s*j + K > bs*bk  and  s*j < bs*(bk + 1)
    const int64_t lo = bs * bk - K < 0 ? 0 : (bs * bk - K) / s + 1;
    const int64_t hi = std::min<int64_t>((bs * (bk + 1) - 1) / s, nw - 1);
    float best = -kInf;
    for (int64_t j = lo; j <= hi; ++j) best = std::max(best, sc.s[j]);
    sc.block_score[bk] = best;
  }

  // Top-k, ties to the lower index, then ascending (the order stage 2 reads them in).
  sc.order.resize(nb);
  for (int64_t i = 0; i < nb; ++i) sc.order[i] = int32_t(i);
  const float* score = sc.block_score.data();
  std::nth_element(sc.order.begin(), sc.order.begin() + (c.topk - 1), sc.order.end(), [score](int32_t x, int32_t y) {
    return score[x] > score[y] || (score[x] == score[y] && x < y);
  });
  blocks.assign(sc.order.begin(), sc.order.begin() + c.topk);
  std::sort(blocks.begin(), blocks.end());
}

bool infllm_dense_call(const InfllmProblem& pr) {
  if (pr.cfg.dense_len < 0 || pr.T == 0) return false;
  const int64_t last = *std::max_element(pr.pos, pr.pos + pr.T);
  return last + 1 < pr.cfg.dense_len;
}

const char* infllm_shape_error(const InfllmProblem& pr) {
  const InfllmConfig& c = pr.cfg;
  if (pr.Hkv <= 0 || pr.Hq % pr.Hkv != 0) return "Hq must be a multiple of Hkv";
  if (pr.D <= 0) return "head_dim must be positive";
  if (c.kernel_size <= 0 || c.kernel_stride <= 0 || c.block_size <= 0)
    return "kernel_size, kernel_stride and block_size must be positive";
  if (c.topk < 1 || c.init_blocks < 0 || c.local_blocks < 0) return "topk must be >= 1, init/local blocks >= 0";
  return nullptr;
}

const char* infllm_validate(const InfllmProblem& pr) {
  if (const char* bad = infllm_shape_error(pr)) return bad;
  const InfllmConfig& c = pr.cfg;
  const bool dense = infllm_dense_call(pr);
  for (int64_t t = 0; t < pr.T; ++t) {
    const int64_t p = pr.pos[t];
    if (p < 0 || p >= pr.S) return "input_pos out of range of the cache (0..S-1)";
    const bool stage1 = !dense && p / c.block_size + 1 > c.topk;
    if (stage1 && infllm_visible_windows(c, p) > pr.C) return "ck_cache has fewer rows than the windows a query sees";
  }
  return nullptr;
}

void infllm_select_blocks(const AttnKernels& ak, const InfllmProblem& pr, int64_t b, int64_t g, int64_t t,
                          InfllmScratch& sc, std::vector<int32_t>& blocks) {
  select_blocks(ak, pr, infllm_dense_call(pr), b, g, t, infllm_gather_q(pr, b, g, t, sc), sc, blocks);
}

void infllm_attention_items(const AttnKernels& ak, const InfllmProblem& pr, int64_t i0, int64_t i1,
                            InfllmScratch& sc) {
  const bool dense = infllm_dense_call(pr);  // once per range of items, not per item: it reads all of pos
  for (int64_t i = i0; i < i1; ++i) {
    const int64_t t = i % pr.T, g = (i / pr.T) % pr.Hkv, b = i / (pr.T * pr.Hkv);
    const float* qg = infllm_gather_q(pr, b, g, t, sc);
    select_blocks(ak, pr, dense, b, g, t, qg, sc, sc.blocks);
    attend(ak, pr, b, g, t, qg, sc.blocks, sc);
  }
}

}  // namespace edgecpm
