// AVX-512 VNNI (x86-64: Ice Lake, Sapphire Rapids, Zen 4). Compiled with
// -mavx512f -mavx512bw -mavx512vl -mavx512vnni in this file only; isa.cpp runs it only where cpuid
// reports all four.
//
// One vpdpbusd sums four u8 x s8 products into an int32 lane, without saturation. Int8 weights go
// in with +128 (u8) and the activations' sums take the 128 back out. Two layouts: whole 16-row
// tiles put one output row in each lane (dot_avx512vnni_rows.h: no horizontal sums); leftover
// rows and the rarer layouts (TQ1_0, K % 256) use the shared 4-row tiles, where a
// 64-byte register holds two (ternary, int8) or four (int4) sub-blocks and a few unpack/add
// steps per 256 weights turn the lanes into the 8 per-sub-block sums.
#if defined(__x86_64__) || defined(_M_X64)
#include "dot_avx512vnni_rows.h"
#include "dot_x86.h"

namespace edgecpm {
namespace {

inline __m512i dp(__m512i acc, __m512i u8, __m512i s8) { return _mm512_dpbusd_epi32(acc, u8, s8); }

// Two 32-byte halves into one register: [lo | hi].
inline __m512i join(const int8_t* lo, const int8_t* hi) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(load256(lo)), load256(hi), 1);
}

// a[i]: 128-bit chunks 0-1 hold partials of sub-block i, chunks 2-3 of sub-block 4 + i.
// Returns [sum a0 lo, a1 lo, a2 lo, a3 lo, a0 hi, a1 hi, a2 hi, a3 hi].
inline __m256i reduce4(const __m512i* a) {
  const __m512i t01 = _mm512_add_epi32(_mm512_unpacklo_epi32(a[0], a[1]), _mm512_unpackhi_epi32(a[0], a[1]));
  const __m512i t23 = _mm512_add_epi32(_mm512_unpacklo_epi32(a[2], a[3]), _mm512_unpackhi_epi32(a[2], a[3]));
  // Per 128-bit chunk: [a0, a1, a2, a3] summed over the chunk.
  const __m512i u = _mm512_add_epi32(_mm512_unpacklo_epi64(t01, t23), _mm512_unpackhi_epi64(t01, t23));
  const __m512i v = _mm512_add_epi32(u, _mm512_shuffle_i32x4(u, u, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm512_castsi512_si256(_mm512_shuffle_i32x4(v, v, _MM_SHUFFLE(2, 0, 2, 0)));
}

struct Avx512VnniIsa : YmmOps {
  static constexpr int kActs = 4;

  // Sub-blocks (l, 4 + l) of each activation row side by side, as ternary codes are packed.
  template <int T>
  static void tq2_acts(const XChunk* x, __m512i (*xp)[4]) {
    for (int t = 0; t < T; ++t)
      for (int l = 0; l < 4; ++l) xp[t][l] = join(x[t].q + 32 * l, x[t].q + 128 + 32 * l);
  }

  template <int R, int T>
  static void tq2(const uint8_t* const* w, const XChunk* x, I8 (*out)[T]) {
    __m512i xp[T][4];
    tq2_acts<T>(x, xp);
    const __m512i mask = _mm512_set1_epi8(3);
    for (int r = 0; r < R; ++r) {
      // Bytes 0-31 hold weights 0-127 (j = 0), bytes 32-63 weights 128-255; bits 2l: sub-block l.
      const __m512i q = _mm512_loadu_si512(w[r]);
      const __m512i c[4] = {_mm512_and_si512(q, mask), _mm512_and_si512(_mm512_srli_epi16(q, 2), mask),
                            _mm512_and_si512(_mm512_srli_epi16(q, 4), mask),
                            _mm512_and_si512(_mm512_srli_epi16(q, 6), mask)};
      for (int t = 0; t < T; ++t) {
        const __m512i a[4] = {dp(_mm512_setzero_si512(), c[0], xp[t][0]), dp(_mm512_setzero_si512(), c[1], xp[t][1]),
                              dp(_mm512_setzero_si512(), c[2], xp[t][2]), dp(_mm512_setzero_si512(), c[3], xp[t][3])};
        out[r][t] = reduce4(a);
      }
    }
  }

  // 256 natural-order codes: register i holds sub-blocks 2i, 2i + 1; flip: 0x80 for int8.
  template <int R, int T, typename W>
  static void natural(const W* const* w, const XChunk* x, I8 (*out)[T], __m512i flip) {
    // reduce4 yields [s0, s2, s4, s6, s1, s3, s5, s7] for this layout.
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int r = 0; r < R; ++r) {
      __m512i c[4];
      for (int i = 0; i < 4; ++i) c[i] = _mm512_xor_si512(_mm512_loadu_si512(w[r] + 64 * i), flip);
      for (int t = 0; t < T; ++t) {
        __m512i a[4];
        for (int i = 0; i < 4; ++i) a[i] = dp(_mm512_setzero_si512(), c[i], _mm512_loadu_si512(x[t].q + 64 * i));
        out[r][t] = _mm256_permutevar8x32_epi32(reduce4(a), order);
      }
    }
  }

  template <int R, int T>
  static void u8(const uint8_t* const* w, const XChunk* x, I8 (*out)[T]) {
    natural<R, T>(w, x, out, _mm512_setzero_si512());
  }

  template <int R, int T>
  static void s8(const int8_t* const* w, const XChunk* x, I8 (*out)[T]) {
    natural<R, T>(w, x, out, _mm512_set1_epi8(char(0x80)));
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) out[r][t] = _mm256_sub_epi32(out[r][t], _mm256_slli_epi32(iload(x[t].sum), 7));
  }

  template <int R, int T>
  static void int4(const uint8_t* const* w, const XChunk* x, I8 (*out)[T]) {
    // Activations of sub-blocks 4h..4h+3: even-k halves in one register, odd-k halves in another.
    __m512i xe[T][2], xo[T][2];
    for (int t = 0; t < T; ++t)
      for (int h = 0; h < 2; ++h) {
        const __m512i x0 = _mm512_loadu_si512(x[t].q + 128 * h), x1 = _mm512_loadu_si512(x[t].q + 128 * h + 64);
        xe[t][h] = _mm512_shuffle_i32x4(x0, x1, _MM_SHUFFLE(2, 0, 2, 0));
        xo[t][h] = _mm512_shuffle_i32x4(x0, x1, _MM_SHUFFLE(3, 1, 3, 1));
      }
    const __m512i mask = _mm512_set1_epi8(0x0F);
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 0, 0, 0, 0, 0, 0, 0, 0);
    for (int r = 0; r < R; ++r) {
      __m512i lo[2], hi[2];
      for (int h = 0; h < 2; ++h) {
        const __m512i b = _mm512_loadu_si512(w[r] + 64 * h);
        lo[h] = _mm512_and_si512(b, mask);
        hi[h] = _mm512_and_si512(_mm512_srli_epi16(b, 4), mask);
      }
      for (int t = 0; t < T; ++t) {
        // Chunk i of a / b: partials of sub-block i / 4 + i.
        const __m512i a = dp(dp(_mm512_setzero_si512(), lo[0], xe[t][0]), hi[0], xo[t][0]);
        const __m512i b = dp(dp(_mm512_setzero_si512(), lo[1], xe[t][1]), hi[1], xo[t][1]);
        const __m512i s = _mm512_add_epi32(_mm512_unpacklo_epi32(a, b), _mm512_unpackhi_epi32(a, b));
        const __m512i u = _mm512_add_epi32(s, _mm512_shuffle_epi32(s, _MM_PERM_BADC));  // [a_i, b_i, a_i, b_i]
        out[r][t] = _mm512_castsi512_si256(_mm512_permutexvar_epi32(order, u));
      }
    }
  }
};

// Whole 16-row tiles in the lanes (dot_avx512vnni_rows.h) where the format allows; the rest of
// the rows, and the rarer layouts, through the shared tiles. Both give scalar's bits.
using VnniTiles = Tiles<Avx512VnniIsa>;

void ternary(const TernaryWeights& w, const QuantizedActs& x, int64_t n0, int64_t n1, float* out) {
  int64_t n = n0;
  if (w.layout == TernaryLayout::TQ2_0) {
    thread_local TileSides sides;
    const SideScales side = side_scales(w);
    if (side.data) {
      const size_t count = size_t(kLanes * side.groups);
      if (sides.lanes.size() < count) sides.lanes.resize(count), sides.conv.resize(count);
    }
    n = rows16_range(Tq2Rows{w, w.k / kChunk * 66, side, &sides}, x, w.n, n0, n1, out);
  }
  VnniTiles::ternary(w, x, n, n1, out);
}

void int4(const Int4Weights& w, const QuantizedActs& x, int64_t n0, int64_t n1, float* out) {
  int64_t n = n0;
  if (w.k % kChunk == 0) n = rows16_range(Int4Rows{w, w.k / w.group}, x, w.n, n0, n1, out);
  VnniTiles::int4(w, x, n, n1, out);
}

void int8(const Int8Weights& w, const QuantizedActs& x, int64_t n0, int64_t n1, float* out) {
  int64_t n = n0;
  if (w.k % kChunk == 0) n = rows16_range(Int8Rows{w}, x, w.n, n0, n1, out);
  VnniTiles::int8(w, x, n, n1, out);
}

}  // namespace

const DotKernels* avx512vnni_kernels() {
  static const DotKernels k{"avx512vnni", ternary, int4, int8};
  return &k;
}

}  // namespace edgecpm

#else
#include "dot.h"
namespace edgecpm {
const DotKernels* avx512vnni_kernels() { return nullptr; }
}  // namespace edgecpm
#endif
