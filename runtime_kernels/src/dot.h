// The quantized linears per instruction set: one table of whole-row-range kernels per ISA.
//
// Activations are quantized per 32 values to int8 (act_quant.h); weights stay packed. Each entry
// computes final float outputs for output rows [n0, n1) and every activation row, in tiles of
// output rows (and of activation rows) that share each load. The integer inner products are
// exact; the float combination is the one fixed order of linear_tiles.h, so every table's output
// is bit-identical to the scalar one (the tests demand equality).
#pragma once

#include <cstdint>

#include "act_quant.h"
#include "linear_weights.h"

namespace edgecpm {

constexpr int kSub = 32;        // activation quantization block and dot granularity
constexpr int kRowTile = 4;     // output rows per pass of the shared tiles (linear_tiles.h)
constexpr int kRowSplit = 16;   // callers split rows across threads at multiples of this: every
                                // table's row tile divides it (avx512vnni's is 16)

struct DotKernels {
  const char* name;
  // x quantized in ActOrder::Natural (ternary, int8) or ActOrder::Int4 (int4); out is [M, N].
  void (*ternary)(const TernaryWeights& w, const QuantizedActs& x, int64_t n0, int64_t n1, float* out);
  void (*int4)(const Int4Weights& w, const QuantizedActs& x, int64_t n0, int64_t n1, float* out);
  void (*int8)(const Int8Weights& w, const QuantizedActs& x, int64_t n0, int64_t n1, float* out);
};

const DotKernels& scalar_kernels();
// nullptr where not compiled in; whether the CPU can run them is isa.h's business.
const DotKernels* avx2_kernels();
const DotKernels* avx512vnni_kernels();
const DotKernels* neon_kernels();
const DotKernels* neon_dotprod_kernels();
const DotKernels* neon_i8mm_kernels();

}  // namespace edgecpm
