#include "linear.h"

namespace edgecpm {

int64_t ternary_block_bytes(TernaryLayout layout) { return layout == TernaryLayout::TQ2_0 ? 66 : 54; }

void decode_tq1_block(const uint8_t* block, uint8_t* codes) {
  static const uint8_t pow3[5] = {1, 3, 9, 27, 81};
  auto trit = [](uint8_t byte, int n) { return uint8_t((uint16_t(uint8_t(byte * pow3[n])) * 3) >> 8); };
  for (int n = 0; n < 5; ++n)
    for (int m = 0; m < 32; ++m) codes[32 * n + m] = trit(block[m], n);
  for (int n = 0; n < 5; ++n)
    for (int m = 0; m < 16; ++m) codes[160 + 16 * n + m] = trit(block[32 + m], n);
  for (int n = 0; n < 4; ++n)
    for (int m = 0; m < 4; ++m) codes[240 + 4 * n + m] = trit(block[48 + m], n);
}

void ternary_linear_rows(const DotKernels& dot, const TernaryWeights& w, const QuantizedActs& x,
                         int64_t n0, int64_t n1, float* out) {
  dot.ternary(w, x, n0, n1, out);
}

void int4_linear_rows(const DotKernels& dot, const Int4Weights& w, const QuantizedActs& x,
                      int64_t n0, int64_t n1, float* out) {
  dot.int4(w, x, n0, n1, out);
}

void int8_linear_rows(const DotKernels& dot, const Int8Weights& w, const QuantizedActs& x,
                      int64_t n0, int64_t n1, float* out) {
  dot.int8(w, x, n0, n1, out);
}

}  // namespace edgecpm
