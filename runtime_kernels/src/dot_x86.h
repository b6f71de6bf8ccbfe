// The 8-lane float/int vector ops of linear_tiles.h on x86 ymm registers, shared by the AVX2 and
// AVX-512 VNNI files (each includes it under its own flags; everything is file-local).
#pragma once

#include <immintrin.h>

#include "linear_tiles.h"

namespace edgecpm {
namespace {

struct YmmOps {
  using F8 = __m256;
  using I8 = __m256i;
  static F8 fset(float a) { return _mm256_set1_ps(a); }
  static F8 fload(const float* p) { return _mm256_loadu_ps(p); }
  static F8 fdup4(const float* p) {  // p[0] in lanes 0-3, p[1] in 4-7
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_set1_ps(p[0])), _mm_set1_ps(p[1]), 1);
  }
  static void fstore(float* p, F8 a) { _mm256_storeu_ps(p, a); }
  static F8 fadd(F8 a, F8 b) { return _mm256_add_ps(a, b); }
  static F8 fmul(F8 a, F8 b) { return _mm256_mul_ps(a, b); }
  static F8 cvt(I8 a) { return _mm256_cvtepi32_ps(a); }  // exact: |a| < 2^24
  static I8 iset(int32_t a) { return _mm256_set1_epi32(a); }
  static I8 iload(const int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static I8 u8x8(const uint8_t* p) { return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))); }
  static I8 isub(I8 a, I8 b) { return _mm256_sub_epi32(a, b); }
  static I8 imul(I8 a, I8 b) { return _mm256_mullo_epi32(a, b); }
  // fp16 -> fp32 as tile_half does it (no F16C needed): exponent and mantissa into fp32's place,
  // times 2^112 to re-bias, sign back on. Exact for finite values.
  static F8 half8(const uint16_t* p) {
    const __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    const __m256 mag = _mm256_mul_ps(
        _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_and_si256(h, _mm256_set1_epi32(0x7FFF)), 13)),
        _mm256_set1_ps(0x1p112f));
    const __m256i sign = _mm256_slli_epi32(_mm256_and_si256(h, _mm256_set1_epi32(0x8000)), 16);
    return _mm256_or_ps(mag, _mm256_castsi256_ps(sign));
  }
};

inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

}  // namespace
}  // namespace edgecpm
