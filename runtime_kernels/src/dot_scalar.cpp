// The reference: plain loops over 8-lane arrays, the definition every SIMD table must equal.
#include "linear_tiles.h"

namespace edgecpm {
namespace {

struct ScalarIsa {
  static constexpr int kActs = 4;
  struct F8 { float v[8]; };
  struct I8 { int32_t v[8]; };

  static F8 fset(float a) { F8 r; for (float& e : r.v) e = a; return r; }
  static F8 fload(const float* p) { F8 r; std::memcpy(r.v, p, sizeof r.v); return r; }
  static void fstore(float* p, const F8& a) { std::memcpy(p, a.v, sizeof a.v); }
  static F8 fadd(const F8& a, const F8& b) { F8 r; for (int i = 0; i < 8; ++i) r.v[i] = a.v[i] + b.v[i]; return r; }
  static F8 fmul(const F8& a, const F8& b) { F8 r; for (int i = 0; i < 8; ++i) r.v[i] = a.v[i] * b.v[i]; return r; }
  static F8 cvt(const I8& a) { F8 r; for (int i = 0; i < 8; ++i) r.v[i] = float(a.v[i]); return r; }
  static F8 fdup4(const float* p) { F8 r; for (int i = 0; i < 8; ++i) r.v[i] = p[i / 4]; return r; }
  static F8 half8(const uint16_t* p) { F8 r; for (int i = 0; i < 8; ++i) r.v[i] = tile_half(p[i]); return r; }
  static I8 iset(int32_t a) { I8 r; for (int32_t& e : r.v) e = a; return r; }
  static I8 iload(const int32_t* p) { I8 r; std::memcpy(r.v, p, sizeof r.v); return r; }
  static I8 u8x8(const uint8_t* p) { I8 r; for (int i = 0; i < 8; ++i) r.v[i] = p[i]; return r; }
  static I8 isub(const I8& a, const I8& b) { I8 r; for (int i = 0; i < 8; ++i) r.v[i] = a.v[i] - b.v[i]; return r; }
  static I8 imul(const I8& a, const I8& b) { I8 r; for (int i = 0; i < 8; ++i) r.v[i] = a.v[i] * b.v[i]; return r; }

  // 256 weights as codes (natural order) against each activation row: 8 sums of 32 products.
  template <int R, int T, typename Code>
  static void codes_dot(const Code (*codes)[kChunk], const XChunk* x, I8 (*out)[T]) {
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t)
        for (int s = 0; s < 8; ++s) {
          int32_t acc = 0;
          for (int i = 0; i < kSub; ++i) acc += int32_t(codes[r][s * kSub + i]) * x[t].q[s * kSub + i];
          out[r][t].v[s] = acc;
        }
  }

  // TQ2_0: weight 128j + 32l + m is bits 2l of byte 32j + m; codes are trit + 1 in {0, 1, 2}.
  template <int R, int T>
  static void tq2(const uint8_t* const* w, const XChunk* x, I8 (*out)[T]) {
    uint8_t codes[R][kChunk];
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < 2; ++j)
        for (int l = 0; l < 4; ++l)
          for (int m = 0; m < 32; ++m) codes[r][128 * j + 32 * l + m] = (w[r][32 * j + m] >> (2 * l)) & 3;
    codes_dot<R, T>(codes, x, out);
  }

  // Unsigned codes in natural order (decoded TQ1_0).
  template <int R, int T>
  static void u8(const uint8_t* const* w, const XChunk* x, I8 (*out)[T]) {
    uint8_t codes[R][kChunk];
    for (int r = 0; r < R; ++r) std::memcpy(codes[r], w[r], kChunk);
    codes_dot<R, T>(codes, x, out);
  }

  // INT4_G: 16 bytes per sub-block, k even in the low nibble; activations in ActOrder::Int4
  // (each 32: the 16 even k, then the 16 odd k).
  template <int R, int T>
  static void int4(const uint8_t* const* w, const XChunk* x, I8 (*out)[T]) {
    uint8_t codes[R][kChunk];
    for (int r = 0; r < R; ++r)
      for (int s = 0; s < 8; ++s)
        for (int i = 0; i < 16; ++i) {
          codes[r][s * kSub + i] = w[r][s * 16 + i] & 0x0F;
          codes[r][s * kSub + 16 + i] = w[r][s * 16 + i] >> 4;
        }
    codes_dot<R, T>(codes, x, out);
  }

  // Signed int8 weights (Q8_0).
  template <int R, int T>
  static void s8(const int8_t* const* w, const XChunk* x, I8 (*out)[T]) {
    int8_t codes[R][kChunk];
    for (int r = 0; r < R; ++r) std::memcpy(codes[r], w[r], kChunk);
    codes_dot<R, T>(codes, x, out);
  }
};

}  // namespace

const DotKernels& scalar_kernels() {
  static const DotKernels k = Tiles<ScalarIsa>::table("scalar");
  return k;
}

}  // namespace edgecpm
