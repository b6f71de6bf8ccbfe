// NEON attention primitives for every ARMv8-A core (the float ops need nothing beyond the base
// Advanced SIMD set, so the neon and neon-dotprod ISAs share this table).
#include "attn_kernels.h"

#if defined(__aarch64__)
#include <arm_neon.h>

namespace edgecpm {
namespace attn_neon {

struct Ops {
  using V = float32x4_t;
  static constexpr int W = 4;
  static V zero() { return vdupq_n_f32(0.f); }
  static V load(const float* p) { return vld1q_f32(p); }
  static void store(float* p, V v) { vst1q_f32(p, v); }
  static V set1(float a) { return vdupq_n_f32(a); }
  static V fma(V a, V b, V c) { return vfmaq_f32(c, a, b); }  // a * b + c
  static V add(V a, V b) { return vaddq_f32(a, b); }
  static V sub(V a, V b) { return vsubq_f32(a, b); }
  static V mul(V a, V b) { return vmulq_f32(a, b); }
  static V max(V a, V b) { return vmaxq_f32(a, b); }
  static float reduce_add(V v) { return vaddvq_f32(v); }  // (l0 + l1) + (l2 + l3)
  static void reduce_add8(const V* v, float* r) {
    for (int i = 0; i < 8; ++i) r[i] = vaddvq_f32(v[i]);
  }
  static float reduce_max(V v) { return vmaxvq_f32(v); }
  // exp(x) for x <= 0: the same Cephes reduction and polynomial as the AVX2 table.
  static V exp(V x) {
    const uint32x4_t under = vcltq_f32(x, vdupq_n_f32(-87.33f));
    x = vminq_f32(vmaxq_f32(x, vdupq_n_f32(-87.33f)), vdupq_n_f32(88.37f));
    const V fx = vrndmq_f32(vfmaq_f32(vdupq_n_f32(0.5f), x, vdupq_n_f32(1.44269504088896341f)));
    x = vfmsq_f32(x, fx, vdupq_n_f32(0.693359375f));
    x = vfmsq_f32(x, fx, vdupq_n_f32(-2.12194440e-4f));
    V y = vdupq_n_f32(1.9875691500e-4f);
    y = vfmaq_f32(vdupq_n_f32(1.3981999507e-3f), y, x);
    y = vfmaq_f32(vdupq_n_f32(8.3334519073e-3f), y, x);
    y = vfmaq_f32(vdupq_n_f32(4.1665795894e-2f), y, x);
    y = vfmaq_f32(vdupq_n_f32(1.6666665459e-1f), y, x);
    y = vfmaq_f32(vdupq_n_f32(5.0000001201e-1f), y, x);
    y = vfmaq_f32(vaddq_f32(x, vdupq_n_f32(1.f)), y, vmulq_f32(x, x));
    const int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(fx), vdupq_n_s32(127)), 23);
    const V r = vmulq_f32(y, vreinterpretq_f32_s32(e));
    return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(r), under));
  }
};

}  // namespace attn_neon
}  // namespace edgecpm

#define EDGECPM_ATTN_NS attn_neon
#include "attn_simd.h"

namespace edgecpm {
const AttnKernels* neon_attn_kernels() {
  using namespace attn_neon;
  static const AttnKernels k{"neon", qk, max, exp_sum, pv, scale, axpy};
  return &k;
}
}  // namespace edgecpm

#else

namespace edgecpm {
const AttnKernels* neon_attn_kernels() { return nullptr; }
}  // namespace edgecpm

#endif
