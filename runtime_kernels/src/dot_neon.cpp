// NEON dot products for every ARMv8-A core (Cortex-A53 included): widening multiply-accumulate.
#include "dot.h"

#if defined(__aarch64__)
#define EDGECPM_NEON_NS neon_base
#include "dot_neon.h"

namespace edgecpm {
const DotKernels* neon_kernels() {
  using namespace neon_base;
  static const DotKernels k{"neon", tq2_block, int4_subs, u8_subs, s8f32_subs};
  return &k;
}
}  // namespace edgecpm
#else
namespace edgecpm {
const DotKernels* neon_kernels() { return nullptr; }
}  // namespace edgecpm
#endif
