// Dynamic int8 quantization of activations, per 32 values (the "8da" of 8da4w, finer grained).
//
// Each 32-wide sub-block gets scale = absmax / 127 (fp32) and q = round(x / scale) in [-127, 127].
// The error per value is at most scale / 2, which is what the tests' error bound is built from.
// The integer sum of each sub-block is kept too: ternary and zero-point formats need it to undo
// their code offset (code = trit + 1, nibble = q + zero) with one multiply.
#pragma once

#include <cstdint>
#include <vector>

namespace edgecpm {

enum class ActOrder {
  Natural,  // q[k] = x[k]
  Int4,     // each 32: x[0], x[2], ..., x[30], x[1], x[3], ..., x[31]: matches INT4_G's nibbles
};

struct QuantizedActs {
  int64_t rows = 0, cols = 0;  // cols is a multiple of 32
  std::vector<int8_t> q;       // rows * cols
  std::vector<float> scale;    // rows * cols / 32
  std::vector<int32_t> sum;    // rows * cols / 32

  const int8_t* row(int64_t m) const { return q.data() + m * cols; }
  const float* row_scale(int64_t m) const { return scale.data() + m * (cols / 32); }
  const int32_t* row_sum(int64_t m) const { return sum.data() + m * (cols / 32); }
};

void quantize_acts(const float* x, int64_t rows, int64_t cols, ActOrder order, QuantizedActs& out);

}  // namespace edgecpm
