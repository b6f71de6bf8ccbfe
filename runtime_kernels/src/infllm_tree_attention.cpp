#include "infllm_tree_attention.h"

#include <algorithm>
#include <cmath>

namespace edgecpm {
namespace {

// The slot holding position i of row t's sequence.
inline int64_t slot_of(const TreeRows& rows, int64_t t, int64_t i) {
  return i < rows.p0 ? i : rows.path[t][i - rows.p0];
}

// The windows row t sees that end at or after p0: the means of its own sequence's keys, [n, D].
void own_windows(const InfllmTreeProblem& tp, const TreeRows& rows, int64_t b, int64_t g, int64_t t,
                 int64_t first, int64_t last, InfllmScratch& sc) {
  const InfllmProblem& pr = tp.pr;
  const int64_t D = pr.D, K = pr.cfg.kernel_size, s = pr.cfg.kernel_stride;
  const float* k = pr.k + (b * pr.Hkv + g) * pr.S * D;
  sc.own_windows.assign(size_t(std::max<int64_t>(0, last - first)) * D, 0.f);
  const float inv = 1.f / float(K);
  for (int64_t j = first; j < last; ++j) {
    float* w = sc.own_windows.data() + (j - first) * D;
    for (int64_t i = s * j; i < s * j + K; ++i) {
      const float* key = k + slot_of(rows, t, i) * D;
      for (int64_t c = 0; c < D; ++c) w[c] += key[c];
    }
    for (int64_t c = 0; c < D; ++c) w[c] *= inv;
  }
}

// Stage 2 for one item: the selected blocks' positions <= p, each read from its slot, in the plain
// op's chunks (a block each), so a row's result is its decode step's to the bit.
void attend_path(const AttnKernels& ak, const InfllmTreeProblem& tp, const TreeRows& rows, int64_t b, int64_t g,
                 int64_t t, const float* qg, InfllmScratch& sc) {
  const InfllmProblem& pr = tp.pr;
  const int G = int(pr.Hq / pr.Hkv), D = int(pr.D), bs = int(pr.cfg.block_size);
  const int64_t p = pr.pos[t];
  // The selected positions' slots, one chunk per block as the plain op reads them.
  sc.slots.clear();
  sc.chunk_lens.clear();
  for (const int32_t bk : sc.blocks) {
    const int64_t first = int64_t(bk) * bs, end = std::min<int64_t>(first + bs, p + 1);
    for (int64_t i = first; i < end; ++i) sc.slots.push_back(slot_of(rows, t, i));
    sc.chunk_lens.push_back(int(end - first));
  }
  const int64_t kv = (b * pr.Hkv + g) * pr.S * D;
  gathered_segments(sc.slots.data(), sc.chunk_lens, pr.k + kv, pr.v + kv, D, sc.segments, sc.gathered_k,
                    sc.gathered_v);
  float* out = pr.out + ((b * pr.Hq + g * G) * pr.T + t) * D;
  attend_segments(ak, qg, G, D, pr.k + kv, pr.v + kv, sc.segments.data(), sc.segments.size(), bs,
                  1.f / std::sqrt(float(pr.D)), sc.attend, out, pr.T * D);
}

}  // namespace

const char* infllm_tree_prepare(const InfllmTreeProblem& tp, TreeRows& rows) {
  const InfllmProblem& pr = tp.pr;
  const InfllmConfig& c = pr.cfg;
  if (const char* bad = infllm_shape_error(pr)) return bad;
  rows.path.assign(size_t(pr.T), {});
  if (pr.T == 0) return nullptr;
  rows.p0 = *std::min_element(pr.pos, pr.pos + pr.T);
  if (rows.p0 < 0) return "input_pos must be >= 0";
  rows.committed_windows = infllm_visible_windows(c, rows.p0 - 1);
  if (rows.committed_windows > pr.C) return "ck_cache has fewer rows than the committed prefix's windows";
  for (int64_t t = 0; t < pr.T; ++t) {
    const int64_t p = pr.pos[t];
    if (p >= pr.S) return "input_pos out of range of the cache (0..S-1)";
    const bool* m = tp.mask + t * pr.S;
    if (std::find(m, m + rows.p0, false) != m + rows.p0) return "a row does not read every committed slot 0..p0-1";
    std::vector<int64_t>& path = rows.path[t];
    for (int64_t slot = rows.p0; slot < pr.S; ++slot) {
      if (m[slot]) path.push_back(slot);
    }
    if (int64_t(path.size()) != p + 1 - rows.p0) return "a row's mask allows a number of slots other than position + 1";
  }
  return nullptr;
}

void infllm_tree_items(const AttnKernels& ak, const InfllmTreeProblem& tp, const TreeRows& rows, int64_t i0,
                       int64_t i1, InfllmScratch& sc) {
  const InfllmProblem& pr = tp.pr;
  const InfllmConfig& c = pr.cfg;
  const int64_t committed = rows.committed_windows;
  for (int64_t i = i0; i < i1; ++i) {
    const int64_t t = i % pr.T, g = (i / pr.T) % pr.Hkv, b = i / (pr.T * pr.Hkv);
    const int64_t p = pr.pos[t];
    const bool dense = c.dense_len >= 0 && p + 1 < c.dense_len;  // a decode step's switch
    const int64_t nw = infllm_visible_windows(c, p);
    const bool stage1 = !dense && p / c.block_size + 1 > c.topk;
    if (stage1) own_windows(tp, rows, b, g, t, committed, nw, sc);
    const float* qg = infllm_gather_q(pr, b, g, t, sc);
    const RowWindows windows{pr.ck + (b * pr.Hkv + g) * pr.C * pr.D, committed, sc.own_windows.data()};
    infllm_row_blocks(ak, c, int(pr.Hq / pr.Hkv), int(pr.D), p, dense, qg, windows, sc, sc.blocks);
    attend_path(ak, tp, rows, b, g, t, qg, sc);
  }
}

}  // namespace edgecpm
