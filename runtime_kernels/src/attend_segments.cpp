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
    ak.qk(qg, G, k + s0 * D, n, D, scale, scores, max_len);
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
    ak.pv(scores, max_len, G, v + s0 * D, n, D, acc);
  }
  for (int h = 0; h < G; ++h) {
    ak.scale(acc + h * D, D, 1.f / sc.l[h]);
    std::copy(acc + h * D, acc + (h + 1) * D, out + h * out_stride);
  }
}

}  // namespace edgecpm
