// The reference attention primitives: plain loops in index order, std::exp. Also the table lookup.
#include <cmath>
#include <cstring>

#include "attn_kernels.h"
#include "isa.h"

namespace edgecpm {
namespace {

void qk(const float* q, int nh, const float* k, int nk, int d, float scale, float* out, int ld) {
  for (int h = 0; h < nh; ++h)
    for (int j = 0; j < nk; ++j) {
      float acc = 0.f;
      for (int c = 0; c < d; ++c) acc += q[h * d + c] * k[j * d + c];
      out[h * ld + j] = acc * scale;
    }
}

float max(const float* x, int n) {
  float m = x[0];
  for (int i = 1; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

float exp_sum(float* x, int n, float m) {
  float s = 0.f;
  for (int i = 0; i < n; ++i) s += (x[i] = std::exp(x[i] - m));
  return s;
}

void pv(const float* p, int ldp, int nh, const float* v, int nk, int d, float* acc) {
  for (int h = 0; h < nh; ++h)
    for (int j = 0; j < nk; ++j) {
      const float w = p[h * ldp + j];
      for (int c = 0; c < d; ++c) acc[h * d + c] += w * v[j * d + c];
    }
}

void scale(float* y, int n, float a) {
  for (int i = 0; i < n; ++i) y[i] *= a;
}

void axpy(float* y, const float* x, int n, float a) {
  for (int i = 0; i < n; ++i) y[i] += a * x[i];
}

}  // namespace

const AttnKernels& scalar_attn_kernels() {
  static const AttnKernels k{"scalar", qk, max, exp_sum, pv, scale, axpy};
  return k;
}

const AttnKernels& attn_kernels_for(const DotKernels& dot) {
  // An AVX-512 VNNI CPU has AVX2 + FMA: its float work runs on the AVX2 table.
  const bool x86_simd = std::strcmp(dot.name, "avx2") == 0 || std::strncmp(dot.name, "avx512", 6) == 0;
  if (x86_simd && avx2_attn_kernels()) return *avx2_attn_kernels();
  if (std::strncmp(dot.name, "neon", 4) == 0 && neon_attn_kernels()) return *neon_attn_kernels();
  return scalar_attn_kernels();
}

const AttnKernels& active_attn_kernels() { return attn_kernels_for(active_kernels()); }

}  // namespace edgecpm
