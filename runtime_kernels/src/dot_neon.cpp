// NEON for every ARMv8-A core (Cortex-A53 included): widening multiply-accumulate.
#if defined(__aarch64__)
#include "dot_neon.h"

namespace edgecpm {
const DotKernels* neon_kernels() {
  static const DotKernels k = Tiles<NeonIsa>::table("neon");
  return &k;
}
}  // namespace edgecpm
#else
#include "dot.h"
namespace edgecpm {
const DotKernels* neon_kernels() { return nullptr; }
}  // namespace edgecpm
#endif
