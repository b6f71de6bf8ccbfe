// AVX2 dot products (x86-64). Compiled with -mavx2 -mfma in this file only; isa.cpp runs it only
// on CPUs that report both.
//
// u8 x s8 -> i16 pairs (maddubs) cannot saturate here: codes are <= 15 and |xq| <= 127, so a
// pair is at most 2 * 15 * 127.
#include "dot.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

namespace edgecpm {
namespace {

inline __m256i dot32(__m256i codes_u8, __m256i x_s8) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(codes_u8, x_s8), _mm256_set1_epi16(1));
}

inline int32_t hsum(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

// Eight vectors -> the vector of their eight horizontal sums: 7 adds instead of 8 hsum()s.
inline __m256i hsum8(const __m256i* v) {
  const __m256i ab = _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
  const __m256i cd = _mm256_hadd_epi32(_mm256_hadd_epi32(v[4], v[5]), _mm256_hadd_epi32(v[6], v[7]));
  // ab = [v0..v3 low-half sums | v0..v3 high-half sums], cd likewise for v4..v7.
  return _mm256_add_epi32(_mm256_permute2x128_si256(ab, cd, 0x20), _mm256_permute2x128_si256(ab, cd, 0x31));
}

inline __m256i load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

inline void store8(int32_t* out, __m256i v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), v); }

void tq2_block(const uint8_t* qs, const int8_t* xq, int32_t* sums) {
  const __m256i mask = _mm256_set1_epi8(3);
  __m256i d[8];
  for (int j = 0; j < 2; ++j) {
    const __m256i q = load32(qs + 32 * j);
    // A 16-bit shift moves neighbour bits into each byte's top; the mask keeps only its own two.
    d[4 * j + 0] = dot32(_mm256_and_si256(q, mask), load32(xq + 128 * j));
    d[4 * j + 1] = dot32(_mm256_and_si256(_mm256_srli_epi16(q, 2), mask), load32(xq + 128 * j + 32));
    d[4 * j + 2] = dot32(_mm256_and_si256(_mm256_srli_epi16(q, 4), mask), load32(xq + 128 * j + 64));
    d[4 * j + 3] = dot32(_mm256_and_si256(_mm256_srli_epi16(q, 6), mask), load32(xq + 128 * j + 96));
  }
  store8(sums, hsum8(d));
}

inline __m256i int4_dot(const uint8_t* q, const int8_t* xq) {
  const __m128i lo_mask = _mm_set1_epi8(0x0F);
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
  const __m128i lo = _mm_and_si128(b, lo_mask);                     // even k
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(b, 4), lo_mask);  // odd k
  return dot32(_mm256_set_m128i(hi, lo), load32(xq));
}

void int4_subs(const uint8_t* q, const int8_t* xq, int nsub, int32_t* sums) {
  int s = 0;
  for (__m256i d[8]; s + 8 <= nsub; s += 8) {
    for (int i = 0; i < 8; ++i) d[i] = int4_dot(q + 16 * (s + i), xq + kSub * (s + i));
    store8(sums + s, hsum8(d));
  }
  for (; s < nsub; ++s) sums[s] = hsum(int4_dot(q + 16 * s, xq + kSub * s));
}

void u8_subs(const uint8_t* codes, const int8_t* xq, int nsub, int32_t* sums) {
  int s = 0;
  for (__m256i d[8]; s + 8 <= nsub; s += 8) {
    for (int i = 0; i < 8; ++i) d[i] = dot32(load32(codes + kSub * (s + i)), load32(xq + kSub * (s + i)));
    store8(sums + s, hsum8(d));
  }
  for (; s < nsub; ++s) sums[s] = hsum(dot32(load32(codes + kSub * s), load32(xq + kSub * s)));
}

void s8f32_subs(const int8_t* w, const float* x, int nsub, float* sums) {
  for (int s = 0; s < nsub; ++s) {
    __m256 acc = _mm256_setzero_ps();
    for (int i = 0; i < kSub; i += 8) {
      const __m128i w8 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(w + kSub * s + i));
      acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(w8)), _mm256_loadu_ps(x + kSub * s + i), acc);
    }
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
    sums[s] = _mm_cvtss_f32(h);
  }
}

}  // namespace

const DotKernels* avx2_kernels() {
  static const DotKernels k{"avx2", tq2_block, int4_subs, u8_subs, s8f32_subs};
  return &k;
}

}  // namespace edgecpm

#else

namespace edgecpm {
const DotKernels* avx2_kernels() { return nullptr; }
}  // namespace edgecpm

#endif
