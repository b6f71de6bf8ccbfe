// The NEON tables, written once for the three aarch64 builds: dot32() is widening multiply-add on
// every ARMv8 core or SDOT with the dotprod extension; with i8mm, tiles of 2 weight rows x 2
// activation rows go through SMMLA instead. Included by dot_neon.cpp, dot_neon_dotprod.cpp and
// dot_neon_i8mm.cpp, each compiled with its own -march; everything is file-local.
#pragma once

#include <arm_neon.h>

#include "linear_tiles.h"

namespace edgecpm {
namespace {

// Codes (<= 15) fit int8 lanes, so one signed product serves every packed format. Returns the
// 4 partial sums of 32 products.
inline int32x4_t dot32(int8x16_t a0, int8x16_t a1, const int8_t* x) {
  const int8x16_t x0 = vld1q_s8(x), x1 = vld1q_s8(x + 16);
#if defined(EDGECPM_NEON_DOTPROD)
  return vdotq_s32(vdotq_s32(vdupq_n_s32(0), a0, x0), a1, x1);
#else
  // Each i16 lane adds two products of at most 128 * 127: no overflow.
  int16x8_t p0 = vmull_s8(vget_low_s8(a0), vget_low_s8(x0));
  p0 = vmlal_s8(p0, vget_high_s8(a0), vget_high_s8(x0));
  int16x8_t p1 = vmull_s8(vget_low_s8(a1), vget_low_s8(x1));
  p1 = vmlal_s8(p1, vget_high_s8(a1), vget_high_s8(x1));
  return vpadalq_s16(vpaddlq_s16(p0), p1);
#endif
}

struct NeonIsa {
  static constexpr int kActs = 4;
  struct F8 { float32x4_t a, b; };
  struct I8 { int32x4_t a, b; };

  static F8 fset(float v) { return {vdupq_n_f32(v), vdupq_n_f32(v)}; }
  static F8 fload(const float* p) { return {vld1q_f32(p), vld1q_f32(p + 4)}; }
  static F8 fdup4(const float* p) { return {vld1q_dup_f32(p), vld1q_dup_f32(p + 1)}; }  // p[0] x4, p[1] x4
  static void fstore(float* p, F8 v) { vst1q_f32(p, v.a); vst1q_f32(p + 4, v.b); }
  static F8 fadd(F8 x, F8 y) { return {vaddq_f32(x.a, y.a), vaddq_f32(x.b, y.b)}; }
  static F8 fmul(F8 x, F8 y) { return {vmulq_f32(x.a, y.a), vmulq_f32(x.b, y.b)}; }
  static F8 cvt(I8 v) { return {vcvtq_f32_s32(v.a), vcvtq_f32_s32(v.b)}; }  // exact: |v| < 2^24
  static F8 half8(const uint16_t* p) {  // fcvtl: exact
    const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(p));
    return {vcvt_f32_f16(vget_low_f16(h)), vcvt_high_f32_f16(h)};
  }
  static I8 iset(int32_t v) { return {vdupq_n_s32(v), vdupq_n_s32(v)}; }
  static I8 iload(const int32_t* p) { return {vld1q_s32(p), vld1q_s32(p + 4)}; }
  static I8 u8x8(const uint8_t* p) {
    const uint16x8_t w = vmovl_u8(vld1_u8(p));
    return {vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(w))), vreinterpretq_s32_u32(vmovl_high_u16(w))};
  }
  static I8 isub(I8 x, I8 y) { return {vsubq_s32(x.a, y.a), vsubq_s32(x.b, y.b)}; }
  static I8 imul(I8 x, I8 y) { return {vmulq_s32(x.a, y.a), vmulq_s32(x.b, y.b)}; }

  // Sub-block s of a row as 32 int8 codes, in the order its activations are stored.
  struct Tq2Codes {  // weight 128j + 32l + m: bits 2l of byte 32j + m
    static void get(const uint8_t* w, int s, int8x16_t& c0, int8x16_t& c1) {
      const int j = s / 4;
      const int8x16_t shift = vdupq_n_s8(int8_t(-2 * (s % 4)));  // negative = right shift
      const uint8x16_t mask = vdupq_n_u8(3);
      c0 = vreinterpretq_s8_u8(vandq_u8(vshlq_u8(vld1q_u8(w + 32 * j), shift), mask));
      c1 = vreinterpretq_s8_u8(vandq_u8(vshlq_u8(vld1q_u8(w + 32 * j + 16), shift), mask));
    }
  };
  struct Int4Codes {  // low nibbles = even k, high = odd k (ActOrder::Int4)
    static void get(const uint8_t* w, int s, int8x16_t& c0, int8x16_t& c1) {
      const uint8x16_t b = vld1q_u8(w + 16 * s);
      c0 = vreinterpretq_s8_u8(vandq_u8(b, vdupq_n_u8(0x0F)));
      c1 = vreinterpretq_s8_u8(vshrq_n_u8(b, 4));
    }
  };
  struct PlainCodes {  // bytes as they are: decoded TQ1_0 codes or int8 weights
    template <typename W>
    static void get(const W* w, int s, int8x16_t& c0, int8x16_t& c1) {
      c0 = vld1q_s8(reinterpret_cast<const int8_t*>(w) + 32 * s);
      c1 = vld1q_s8(reinterpret_cast<const int8_t*>(w) + 32 * s + 16);
    }
  };

  // 8 vectors of partials -> their 8 sums, in order.
  static I8 reduce8(const int32x4_t* v) {
    return {vpaddq_s32(vpaddq_s32(v[0], v[1]), vpaddq_s32(v[2], v[3])),
            vpaddq_s32(vpaddq_s32(v[4], v[5]), vpaddq_s32(v[6], v[7]))};
  }

  template <typename Codes, typename W>
  static void dot_rows(const W* w, int8x16_t (*c)[2]) {
    for (int s = 0; s < 8; ++s) Codes::get(w, s, c[s][0], c[s][1]);
  }

  template <int R, int T, typename Codes, typename W>
  static void sdot_tile(const W* const* w, const XChunk* x, I8 (*out)[T]) {
    for (int r = 0; r < R; ++r) {
      int8x16_t c[8][2];
      dot_rows<Codes>(w[r], c);
      for (int t = 0; t < T; ++t) {
        int32x4_t v[8];
        for (int s = 0; s < 8; ++s) v[s] = dot32(c[s][0], c[s][1], x[t].q + 32 * s);
        out[r][t] = reduce8(v);
      }
    }
  }

#if defined(EDGECPM_NEON_I8MM)
  // SMMLA: [r0.x0, r0.x1, r1.x0, r1.x1] for 2 weight rows x 2 activation rows, 8 bytes deep; the
  // 8 sub-blocks' vectors are then transposed into the 4 outputs' 8-lane sums.
  template <typename Codes, typename W>
  static void mmla_2x2(const W* w0, const W* w1, const XChunk& x0, const XChunk& x1, I8& o00, I8& o01, I8& o10,
                       I8& o11) {
    int32x4_t v[8];
    for (int s = 0; s < 8; ++s) {
      int8x16_t a[2], b[2];
      Codes::get(w0, s, a[0], a[1]);
      Codes::get(w1, s, b[0], b[1]);
      int32x4_t acc = vdupq_n_s32(0);
      for (int h = 0; h < 2; ++h) {
        const int8x16_t p = vld1q_s8(x0.q + 32 * s + 16 * h), q = vld1q_s8(x1.q + 32 * s + 16 * h);
        const int64x2_t a64 = vreinterpretq_s64_s8(a[h]), b64 = vreinterpretq_s64_s8(b[h]);
        const int64x2_t p64 = vreinterpretq_s64_s8(p), q64 = vreinterpretq_s64_s8(q);
        acc = vmmlaq_s32(acc, vreinterpretq_s8_s64(vtrn1q_s64(a64, b64)), vreinterpretq_s8_s64(vtrn1q_s64(p64, q64)));
        acc = vmmlaq_s32(acc, vreinterpretq_s8_s64(vtrn2q_s64(a64, b64)), vreinterpretq_s8_s64(vtrn2q_s64(p64, q64)));
      }
      v[s] = acc;
    }
    int32x4_t lanes[2][4];
    for (int h = 0; h < 2; ++h) {
      const int32x4_t* u = v + 4 * h;
      const int64x2_t t0 = vreinterpretq_s64_s32(vtrn1q_s32(u[0], u[1])), t1 = vreinterpretq_s64_s32(vtrn2q_s32(u[0], u[1]));
      const int64x2_t t2 = vreinterpretq_s64_s32(vtrn1q_s32(u[2], u[3])), t3 = vreinterpretq_s64_s32(vtrn2q_s32(u[2], u[3]));
      lanes[h][0] = vreinterpretq_s32_s64(vtrn1q_s64(t0, t2));
      lanes[h][1] = vreinterpretq_s32_s64(vtrn1q_s64(t1, t3));
      lanes[h][2] = vreinterpretq_s32_s64(vtrn2q_s64(t0, t2));
      lanes[h][3] = vreinterpretq_s32_s64(vtrn2q_s64(t1, t3));
    }
    o00 = {lanes[0][0], lanes[1][0]};
    o01 = {lanes[0][1], lanes[1][1]};
    o10 = {lanes[0][2], lanes[1][2]};
    o11 = {lanes[0][3], lanes[1][3]};
  }
#endif

  template <int R, int T, typename Codes, typename W>
  static void tile(const W* const* w, const XChunk* x, I8 (*out)[T]) {
#if defined(EDGECPM_NEON_I8MM)
    if constexpr (R % 2 == 0 && T % 2 == 0) {
      for (int r = 0; r < R; r += 2)
        for (int t = 0; t < T; t += 2)
          mmla_2x2<Codes>(w[r], w[r + 1], x[t], x[t + 1], out[r][t], out[r][t + 1], out[r + 1][t], out[r + 1][t + 1]);
      return;
    }
#endif
    sdot_tile<R, T, Codes>(w, x, out);
  }

  template <int R, int T>
  static void tq2(const uint8_t* const* w, const XChunk* x, I8 (*out)[T]) { tile<R, T, Tq2Codes>(w, x, out); }
  template <int R, int T>
  static void u8(const uint8_t* const* w, const XChunk* x, I8 (*out)[T]) { tile<R, T, PlainCodes>(w, x, out); }
  template <int R, int T>
  static void int4(const uint8_t* const* w, const XChunk* x, I8 (*out)[T]) { tile<R, T, Int4Codes>(w, x, out); }
  template <int R, int T>
  static void s8(const int8_t* const* w, const XChunk* x, I8 (*out)[T]) { tile<R, T, PlainCodes>(w, x, out); }
};

}  // namespace
}  // namespace edgecpm
