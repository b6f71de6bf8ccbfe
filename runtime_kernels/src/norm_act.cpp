#include "norm_act.h"

#include <cmath>

namespace edgecpm {

void rms_norm_rows(const float* x, const float* w, int64_t n, float eps, int64_t r0, int64_t r1, float* y) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};  // 8 partial sums: the compiler vectorises them
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
      for (int l = 0; l < 8; ++l) lane[l] += xr[i + l] * xr[i + l];
    for (; i < n; ++i) lane[i % 8] += xr[i] * xr[i];
    const float sum = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
    const float inv = 1.f / std::sqrt(sum / float(n) + eps);
    for (int64_t c = 0; c < n; ++c) yr[c] = (xr[c] * inv) * w[c];
  }
}

void silu_mul_range(const AttnKernels& ak, const float* gate, const float* up, int64_t i0, int64_t i1, float* y,
                    std::vector<float>& scratch) {
  const int64_t n = i1 - i0;
  scratch.resize(n);
  float* e = scratch.data();
  for (int64_t i = 0; i < n; ++i) e[i] = -std::fabs(gate[i0 + i]);
  ak.exp_sum(e, int(n), 0.f);  // e = exp(-|g|), in (0, 1]
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i0 + i];
    // sigmoid(g) = 1 / (1 + exp(-g)) for g >= 0, exp(g) / (1 + exp(g)) below: no overflow either
    // way. A select, not a branch, so the loop vectorises.
    const float numerator = g >= 0.f ? 1.f : e[i];
    y[i0 + i] = g * (numerator / (1.f + e[i])) * up[i0 + i];
  }
}

}  // namespace edgecpm
