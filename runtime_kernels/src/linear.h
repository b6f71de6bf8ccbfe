// The quantized linears over a range of output rows: y[m, n] = sum_k x[m, k] * w[n, k].
//
// Callers (ops_executorch.cpp, the tests) quantize x once and split the output rows [n0, n1)
// across threads, in multiples of kRowTile; the work runs in the given ISA's table (dot.h), whose
// float order is linear_tiles.h's, the same for every ISA.
#pragma once

#include <cstdint>

#include "act_quant.h"
#include "dot.h"
#include "linear_weights.h"

namespace edgecpm {

// x must be quantized in ActOrder::Natural for ternary and int8, ActOrder::Int4 for int4.
// out is [M, N] row-major; rows n0..n1-1 of every m are written.
void ternary_linear_rows(const DotKernels& dot, const TernaryWeights& w, const QuantizedActs& x,
                         int64_t n0, int64_t n1, float* out);
void int4_linear_rows(const DotKernels& dot, const Int4Weights& w, const QuantizedActs& x,
                      int64_t n0, int64_t n1, float* out);
// The LM head: W8A8, activations quantized like the others' (llama.cpp's q8_0 x q8_0).
void int8_linear_rows(const DotKernels& dot, const Int8Weights& w, const QuantizedActs& x,
                      int64_t n0, int64_t n1, float* out);

}  // namespace edgecpm
