// AVX2 (x86-64). Compiled with -mavx2 -mfma in this file only; isa.cpp runs it only on CPUs that
// report both.
//
// u8 x s8 -> i16 pairs (maddubs) cannot saturate: codes are <= 15 and |xq| <= 127, so a pair is
// at most 2 * 15 * 127; int8 weights go in as |w| <= 128 against sign(x, w), at most 2 * 128 * 127.
#if defined(__x86_64__) || defined(_M_X64)
#include "dot_x86.h"

namespace edgecpm {
namespace {

inline __m256i dot32(__m256i codes_u8, __m256i x_s8) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(codes_u8, x_s8), _mm256_set1_epi16(1));
}

// Eight vectors -> the vector of their eight horizontal sums.
inline __m256i hsum8(const __m256i* v) {
  const __m256i ab = _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
  const __m256i cd = _mm256_hadd_epi32(_mm256_hadd_epi32(v[4], v[5]), _mm256_hadd_epi32(v[6], v[7]));
  // ab = [v0..v3 low-half sums | v0..v3 high-half sums], cd likewise for v4..v7.
  return _mm256_add_epi32(_mm256_permute2x128_si256(ab, cd, 0x20), _mm256_permute2x128_si256(ab, cd, 0x31));
}

struct Avx2Isa : YmmOps {
  static constexpr int kActs = 4;

  // Codes of each row decoded once, reused for every activation row of the tile.
  template <int R, int T, typename Decode>
  static void rows(const Decode& decode, const XChunk* x, I8 (*out)[T]) {
    for (int r = 0; r < R; ++r) {
      __m256i c[8];
      decode(r, c);
      for (int t = 0; t < T; ++t) {
        __m256i d[8];
        for (int s = 0; s < 8; ++s) d[s] = dot32(c[s], load256(x[t].q + 32 * s));
        out[r][t] = hsum8(d);
      }
    }
  }

  template <int R, int T>
  static void tq2(const uint8_t* const* w, const XChunk* x, I8 (*out)[T]) {
    rows<R, T>([&](int r, __m256i* c) {
      const __m256i mask = _mm256_set1_epi8(3);
      for (int j = 0; j < 2; ++j) {
        const __m256i q = load256(w[r] + 32 * j);
        // A 16-bit shift moves neighbour bits into each byte's top; the mask keeps only its own two.
        c[4 * j + 0] = _mm256_and_si256(q, mask);
        c[4 * j + 1] = _mm256_and_si256(_mm256_srli_epi16(q, 2), mask);
        c[4 * j + 2] = _mm256_and_si256(_mm256_srli_epi16(q, 4), mask);
        c[4 * j + 3] = _mm256_and_si256(_mm256_srli_epi16(q, 6), mask);
      }
    }, x, out);
  }

  template <int R, int T>
  static void u8(const uint8_t* const* w, const XChunk* x, I8 (*out)[T]) {
    rows<R, T>([&](int r, __m256i* c) { for (int s = 0; s < 8; ++s) c[s] = load256(w[r] + 32 * s); }, x, out);
  }

  template <int R, int T>
  static void int4(const uint8_t* const* w, const XChunk* x, I8 (*out)[T]) {
    rows<R, T>([&](int r, __m256i* c) {
      const __m128i lo_mask = _mm_set1_epi8(0x0F);
      for (int s = 0; s < 8; ++s) {
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[r] + 16 * s));
        // [even k | odd k], as the activations are ordered (ActOrder::Int4).
        c[s] = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(b, 4), lo_mask), _mm_and_si128(b, lo_mask));
      }
    }, x, out);
  }

  template <int R, int T>
  static void s8(const int8_t* const* w, const XChunk* x, I8 (*out)[T]) {
    for (int r = 0; r < R; ++r) {
      __m256i wv[8], aw[8];
      for (int s = 0; s < 8; ++s) {
        wv[s] = load256(w[r] + 32 * s);
        aw[s] = _mm256_abs_epi8(wv[s]);  // -128 -> 0x80, read as unsigned 128
      }
      for (int t = 0; t < T; ++t) {
        __m256i d[8];
        for (int s = 0; s < 8; ++s) d[s] = dot32(aw[s], _mm256_sign_epi8(load256(x[t].q + 32 * s), wv[s]));
        out[r][t] = hsum8(d);
      }
    }
  }
};

}  // namespace

const DotKernels* avx2_kernels() {
  static const DotKernels k = Tiles<Avx2Isa>::table("avx2");
  return &k;
}

}  // namespace edgecpm

#else
#include "dot.h"
namespace edgecpm {
const DotKernels* avx2_kernels() { return nullptr; }
}  // namespace edgecpm
#endif
