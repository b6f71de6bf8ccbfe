// NEON with SDOT and the ARMv8.6 int8 matrix multiply (SMMLA): Cortex-A510/A710/X2 and later,
// Graviton 3, Apple M2. Prefill tiles (2 weight rows x 2 activation rows) go through SMMLA, whose
// 2x2 result needs no horizontal sums; a decode GEMV (one activation row) stays on SDOT. Compiled
// with +dotprod+i8mm in this file only; isa.cpp runs it only where the kernel reports HWCAP2_I8MM.
#if defined(__aarch64__)
#define EDGECPM_NEON_DOTPROD 1
#define EDGECPM_NEON_I8MM 1
#include "dot_neon.h"

namespace edgecpm {
const DotKernels* neon_i8mm_kernels() {
  static const DotKernels k = Tiles<NeonIsa>::table("neon-i8mm");
  return &k;
}
}  // namespace edgecpm
#else
#include "dot.h"
namespace edgecpm {
const DotKernels* neon_i8mm_kernels() { return nullptr; }
}  // namespace edgecpm
#endif
