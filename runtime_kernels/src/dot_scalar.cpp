// The reference dot products: plain loops, the definition every SIMD table must equal.
#include "dot.h"

namespace edgecpm {
namespace {

void u8_subs(const uint8_t* codes, const int8_t* xq, int nsub, int32_t* sums) {
  for (int s = 0; s < nsub; ++s) {
    int32_t acc = 0;
    for (int i = 0; i < kSub; ++i) acc += int32_t(codes[s * kSub + i]) * xq[s * kSub + i];
    sums[s] = acc;
  }
}

void tq2_block(const uint8_t* qs, const int8_t* xq, int32_t* sums) {
  uint8_t codes[256];
  for (int j = 0; j < 2; ++j)
    for (int l = 0; l < 4; ++l)
      for (int m = 0; m < 32; ++m) codes[128 * j + 32 * l + m] = (qs[32 * j + m] >> (2 * l)) & 3;
  u8_subs(codes, xq, 8, sums);
}

void int4_subs(const uint8_t* q, const int8_t* xq, int nsub, int32_t* sums) {
  for (int s = 0; s < nsub; ++s) {
    const uint8_t* b = q + s * 16;
    const int8_t* x = xq + s * kSub;  // [even k..., odd k...]
    int32_t acc = 0;
    for (int i = 0; i < 16; ++i) acc += int32_t(b[i] & 0x0F) * x[i] + int32_t(b[i] >> 4) * x[16 + i];
    sums[s] = acc;
  }
}

void s8f32_subs(const int8_t* w, const float* x, int nsub, float* sums) {
  for (int s = 0; s < nsub; ++s) {
    float acc = 0.f;
    for (int i = 0; i < kSub; ++i) acc += float(w[s * kSub + i]) * x[s * kSub + i];
    sums[s] = acc;
  }
}

}  // namespace

const DotKernels& scalar_kernels() {
  static const DotKernels k{"scalar", tq2_block, int4_subs, u8_subs, s8f32_subs};
  return k;
}

}  // namespace edgecpm
