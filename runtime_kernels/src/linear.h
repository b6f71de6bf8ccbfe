// The quantized linears over a range of output rows: y[m, n] = sum_k x[m, k] * w[n, k].
//
// ISA-independent: the integer work goes through a DotKernels table and the float combination
// happens here, in one order, for every ISA. Callers (ops_executorch.cpp, the tests) split the
// output rows [n0, n1) across threads. Every pointer is to the checkpoint's packed bytes as
// `edgecpm quantize` wrote them (layouts in toolchain/edgecpm/quant/formats.py).
#pragma once

#include <cstdint>

#include "act_quant.h"
#include "dot.h"
#include "half.h"

namespace edgecpm {

enum class TernaryLayout { TQ2_0 = 0, TQ1_0 = 1 };  // = the op's `layout` argument

struct TernaryWeights {
  const uint8_t* packed;  // [N, K/256 * block bytes]
  int64_t n, k;
  TernaryLayout layout;
  ScaleView side_scales;  // [N, K/group] or data == nullptr (each block's own d is the scale)
  int64_t group;          // side-scale group (multiple of 32 dividing K)
};

struct Int4Weights {
  const uint8_t* qweight;  // [N, K/2]
  const uint16_t* scales;  // fp16 [N, K/group]
  const uint8_t* zeros;    // [N, K/group] or nullptr (symmetric: zero = 8)
  int64_t n, k, group;
};

struct Int8Weights {
  const int8_t* qweight;   // [N, K]
  const uint16_t* scales;  // fp16 [N, K/32]
  int64_t n, k;
};

int64_t ternary_block_bytes(TernaryLayout layout);

// x must be quantized in ActOrder::Natural for ternary and ActOrder::Int4 for int4.
// out is [M, N] row-major; rows n0..n1-1 of every m are written.
void ternary_linear_rows(const DotKernels& dot, const TernaryWeights& w, const QuantizedActs& x,
                         int64_t n0, int64_t n1, float* out);
void int4_linear_rows(const DotKernels& dot, const Int4Weights& w, const QuantizedActs& x,
                      int64_t n0, int64_t n1, float* out);
// The LM head: float activations x [M, K] (see DotKernels::s8f32_subs).
void int8_linear_rows(const DotKernels& dot, const Int8Weights& w, const float* x, int64_t m,
                      int64_t n0, int64_t n1, float* out);

// Decode one TQ1_0 block (54 bytes) to its 256 codes (trit + 1), in weight order.
void decode_tq1_block(const uint8_t* block, uint8_t* codes);

}  // namespace edgecpm
