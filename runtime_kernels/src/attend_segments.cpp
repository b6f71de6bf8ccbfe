#include "attend_segments.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace edgecpm {

void attend_segments(const AttnKernels& ak, const float* qg, int G, int D, const float* k, const float* v,
                     const Segment* segs, size_t nseg, int max_len, float scale, AttendScratch& sc,
                     float* out, int64_t out_stride) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  sc.scores.resize(size_t(G) * max_len);
  sc.acc.assign(size_t(G) * D, 0.f);
  sc.m.assign(G, -kInf);
  sc.l.assign(G, 0.f);
  float* scores = sc.scores.data();
  float* acc = sc.acc.data();
  for (size_t i = 0; i < nseg; ++i) {
    const int64_t s0 = segs[i].start;
    const int n = segs[i].len;
    const float* ks = segs[i].k_rows != nullptr ? segs[i].k_rows : k + s0 * D;
    const float* vs = segs[i].v_rows != nullptr ? segs[i].v_rows : v + s0 * D;
    ak.qk(qg, G, ks, n, D, scale, scores, max_len);
    for (int h = 0; h < G; ++h) {
      float* row = scores + h * max_len;
      const float m_new = std::max(sc.m[h], ak.max(row, n));
      if (m_new > sc.m[h] && sc.m[h] != -kInf) {
        const float alpha = std::exp(sc.m[h] - m_new);
        ak.scale(acc + h * D, D, alpha);
        sc.l[h] *= alpha;
      }
      sc.m[h] = m_new;
      sc.l[h] += ak.exp_sum(row, n, m_new);
    }
    ak.pv(scores, max_len, G, vs, n, D, acc);
  }
  for (int h = 0; h < G; ++h) {
    ak.scale(acc + h * D, D, 1.f / sc.l[h]);
    std::copy(acc + h * D, acc + (h + 1) * D, out + h * out_stride);
  }
}

void gathered_segments(const int64_t* slots, const std::vector<int>& lens, const float* k, const float* v, int D,
                       std::vector<Segment>& segs, std::vector<float>& gathered_k, std::vector<float>& gathered_v) {
  // Ascending slots: a chunk is consecutive iff its last slot is first + len - 1.
  auto consecutive = [slots](int64_t a, int len) { return slots[a + len - 1] - slots[a] == len - 1; };
  size_t rows = 0;  // gathered rows, counted first: the buffers must not move once pointed into
  int64_t a = 0;
  for (const int len : lens) {
    if (!consecutive(a, len)) rows += size_t(len);
    a += len;
  }
  gathered_k.resize(rows * D);
  gathered_v.resize(rows * D);
  segs.clear();
  size_t at = 0;
  a = 0;
  for (const int len : lens) {
    Segment seg{slots[a], len};
    if (!consecutive(a, len)) {
      seg.k_rows = gathered_k.data() + at * D;
      seg.v_rows = gathered_v.data() + at * D;
      for (int j = 0; j < len; ++j, ++at) {
        std::copy(k + slots[a + j] * D, k + (slots[a + j] + 1) * D, gathered_k.data() + at * D);
        std::copy(v + slots[a + j] * D, v + (slots[a + j] + 1) * D, gathered_v.data() + at * D);
      }
    }
    segs.push_back(seg);
    a += len;
  }
}

}  // namespace edgecpm
