// The NEON dot products, written once for both aarch64 tables: dot32() is the only difference (widening multiply-accumulate on every ARMv8 core, SDOT where the dotprod extension
// exists). Included by dot_neon.cpp and dot_neon_dotprod.cpp, each compiled with its own -march.
#pragma once

#include <arm_neon.h>

#include "dot.h"

namespace edgecpm {
namespace EDGECPM_NEON_NS {

// Codes (<= 15) fit int8 lanes, so one signed product serves every packed format.
inline int32_t dot32(int8x16_t a0, int8x16_t a1, const int8_t* x) {
  const int8x16_t x0 = vld1q_s8(x), x1 = vld1q_s8(x + 16);
#if defined(EDGECPM_NEON_DOTPROD)
  int32x4_t acc = vdotq_s32(vdupq_n_s32(0), a0, x0);
  acc = vdotq_s32(acc, a1, x1);
#else
  // Each i16 lane adds two products of at most 128 * 127: no overflow.
  int16x8_t p0 = vmull_s8(vget_low_s8(a0), vget_low_s8(x0));
  p0 = vmlal_s8(p0, vget_high_s8(a0), vget_high_s8(x0));
  int16x8_t p1 = vmull_s8(vget_low_s8(a1), vget_low_s8(x1));
  p1 = vmlal_s8(p1, vget_high_s8(a1), vget_high_s8(x1));
  int32x4_t acc = vpaddlq_s16(p0);
  acc = vpadalq_s16(acc, p1);
#endif
  return vaddvq_s32(acc);
}

inline void tq2_block(const uint8_t* qs, const int8_t* xq, int32_t* sums) {
  const uint8x16_t mask = vdupq_n_u8(3);
  for (int j = 0; j < 2; ++j) {
    const uint8x16_t q0 = vld1q_u8(qs + 32 * j), q1 = vld1q_u8(qs + 32 * j + 16);
    for (int l = 0; l < 4; ++l) {
      const int8x16_t shift = vdupq_n_s8(int8_t(-2 * l));  // negative = right shift
      const int8x16_t c0 = vreinterpretq_s8_u8(vandq_u8(vshlq_u8(q0, shift), mask));
      const int8x16_t c1 = vreinterpretq_s8_u8(vandq_u8(vshlq_u8(q1, shift), mask));
      sums[4 * j + l] = dot32(c0, c1, xq + 128 * j + 32 * l);
    }
  }
}

inline void int4_subs(const uint8_t* q, const int8_t* xq, int nsub, int32_t* sums) {
  const uint8x16_t mask = vdupq_n_u8(0x0F);
  for (int s = 0; s < nsub; ++s) {
    const uint8x16_t b = vld1q_u8(q + 16 * s);
    sums[s] = dot32(vreinterpretq_s8_u8(vandq_u8(b, mask)), vreinterpretq_s8_u8(vshrq_n_u8(b, 4)),
                    xq + kSub * s);
  }
}

inline void u8_subs(const uint8_t* codes, const int8_t* xq, int nsub, int32_t* sums) {
  for (int s = 0; s < nsub; ++s)
    sums[s] = dot32(vreinterpretq_s8_u8(vld1q_u8(codes + kSub * s)),
                    vreinterpretq_s8_u8(vld1q_u8(codes + kSub * s + 16)), xq + kSub * s);
}

inline void s8f32_subs(const int8_t* w, const float* x, int nsub, float* sums) {
  for (int s = 0; s < nsub; ++s) {
    float32x4_t acc = vdupq_n_f32(0.f);
    for (int i = 0; i < kSub; i += 8) {
      const int16x8_t w16 = vmovl_s8(vld1_s8(w + kSub * s + i));
      acc = vfmaq_f32(acc, vcvtq_f32_s32(vmovl_s16(vget_low_s16(w16))), vld1q_f32(x + kSub * s + i));
      acc = vfmaq_f32(acc, vcvtq_f32_s32(vmovl_s16(vget_high_s16(w16))), vld1q_f32(x + kSub * s + i + 4));
    }
    sums[s] = vaddvq_f32(acc);
  }
}

}  // namespace EDGECPM_NEON_NS
}  // namespace edgecpm
