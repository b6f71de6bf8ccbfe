// The float primitives attention reduces to (infllm_attention.cpp), one table per instruction set,
// chosen with the same ISA switch as the quantized dot products (isa.h): a NEON dot-product CPU
// uses the NEON table (SDOT is for integers), so tests that force an ISA force this table too.
//
// Numerics: scalar is the reference (plain loops, sums in index order, std::exp). The SIMD tables
// sum in lane order and use a polynomial exp, so they equal scalar to fp32 rounding, not to the
// bit. One rule they do keep exactly: a dot product's value depends only on its two vectors,
// never on where they sit in a tile, so equal keys give equal scores and ties stay ties.
#pragma once

#include <cstdint>

#include "dot.h"

namespace edgecpm {

struct AttnKernels {
  const char* name;
  // out[h * ld + j] = scale * dot(q[h * d ...], k[j * d ...]) for h < nh, j < nk.
  void (*qk)(const float* q, int nh, const float* k, int nk, int d, float scale, float* out, int ld);
  // max of x[0..n), n >= 1.
  float (*max)(const float* x, int n);
  // x[i] = exp(x[i] - m) in place; returns the sum of the new x.
  float (*exp_sum)(float* x, int n, float m);
  // acc[h * d + c] += sum over j < nk of p[h * ldp + j] * v[j * d + c], for h < nh, c < d.
  void (*pv)(const float* p, int ldp, int nh, const float* v, int nk, int d, float* acc);
  // y[i] *= a.
  void (*scale)(float* y, int n, float a);
  // y[i] += a * x[i].
  void (*axpy)(float* y, const float* x, int n, float a);
};

const AttnKernels& scalar_attn_kernels();
const AttnKernels* avx2_attn_kernels();  // nullptr where not compiled in
const AttnKernels* neon_attn_kernels();

// The attention table that goes with a dot-product table (avx2, avx512* -> avx2; neon* -> neon).
const AttnKernels& attn_kernels_for(const DotKernels& dot);
// The one the active ISA selects (isa.h: EDGECPM_KERNEL_ISA, edgecpm_kernels_set_isa).
const AttnKernels& active_attn_kernels();

}  // namespace edgecpm
