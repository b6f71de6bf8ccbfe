// NEON with the ARMv8.2 dot-product extension (SDOT): Cortex-A55/A76/A78 (Jetson Orin), most
// phones since 2018. Compiled with +dotprod in this file only; isa.cpp runs it only where the
// kernel reports HWCAP_ASIMDDP, so the same binary runs on a Cortex-A53.
#if defined(__aarch64__)
#define EDGECPM_NEON_DOTPROD 1
#include "dot_neon.h"

namespace edgecpm {
const DotKernels* neon_dotprod_kernels() {
  static const DotKernels k = Tiles<NeonIsa>::table("neon-dotprod");
  return &k;
}
}  // namespace edgecpm
#else
#include "dot.h"
namespace edgecpm {
const DotKernels* neon_dotprod_kernels() { return nullptr; }
}  // namespace edgecpm
#endif
