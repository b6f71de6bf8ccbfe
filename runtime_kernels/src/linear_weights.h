// Views of a quantized linear's packed checkpoint bytes, as `edgecpm quantize` wrote them
// (layouts in toolchain/edgecpm/quant/formats.py). No copies, no re-layout.
#pragma once

#include <cstdint>

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

// Decode one TQ1_0 block (54 bytes) to its 256 codes (trit + 1), in weight order.
void decode_tq1_block(const uint8_t* block, uint8_t* codes);

}  // namespace edgecpm
