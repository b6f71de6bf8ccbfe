// The integer inner products every quantized linear reduces to, one table per instruction set.
//
// Activations are quantized per 32 values to int8 (act_quant.h); weights stay packed. Each
// function returns, for each 32-wide sub-block s, the exact int32 sum of code * xq over it. The
// float scaling is done afterwards by the ISA-independent drivers (linear.h) in one fixed order,
// so every ISA's output is bit-identical to the scalar one: the SIMD tests demand equality
// (except s8f32_subs, below).
#pragma once

#include <cstdint>
#include <vector>

namespace edgecpm {

constexpr int kSub = 32;  // activation quantization block and dot granularity

struct DotKernels {
  const char* name;
  // One TQ2_0 block: its 64 code bytes (weight 128j+32l+m at byte 32j+m, bits 2l) against 256
  // activations; sums[0..7] per 32 weights. Codes are trit + 1 in {0, 1, 2}.
  void (*tq2_block)(const uint8_t* qs, const int8_t* xq, int32_t* sums);
  // nsub sub-blocks of INT4_G nibbles (16 bytes each: k even in the low nibble) against
  // activations in "int4 order" (each 32: the 16 even k, then the 16 odd k).
  void (*int4_subs)(const uint8_t* q, const int8_t* xq, int nsub, int32_t* sums);
  // Unpacked unsigned codes <= 15 (decoded TQ1_0) against activations in natural order.
  void (*u8_subs)(const uint8_t* codes, const int8_t* xq, int nsub, int32_t* sums);
  // Signed int8 weights (the Q8_0 values of an int8 LM head) against float activations. The head
  // keeps float activations (it picks the token: int8 activations there changed
  // greedy choices on the tiny model), so: float sums of w * x per 32. Lane order differs per
  // ISA, so these equal scalar to rounding, not to the bit.
  void (*s8f32_subs)(const int8_t* w, const float* x, int nsub, float* sums);
};

const DotKernels& scalar_kernels();
// nullptr where not compiled in; whether the CPU can run them is isa.h's business.
const DotKernels* avx2_kernels();
const DotKernels* neon_kernels();
const DotKernels* neon_dotprod_kernels();

}  // namespace edgecpm
