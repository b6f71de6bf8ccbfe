// Which kernel table runs: the best one this CPU supports, chosen once at load time.
//
// EDGECPM_KERNEL_ISA=scalar|avx2|avx512vnni|neon|neon-dotprod|neon-i8mm picks one explicitly (for tests and
// benchmarks); naming one this CPU or build lacks is reported on stderr, never silently ignored.
#pragma once

#include <vector>

#include "dot.h"

namespace edgecpm {

// Compiled in and supported by this CPU, best first; scalar is always last.
std::vector<const DotKernels*> available_kernels();

const DotKernels& active_kernels();

// Returns false (and changes nothing) if `name` is not available here.
bool set_active_kernels(const char* name);

}  // namespace edgecpm

// C entry points, for ctypes (tests, `edgecpm doctor`, benchmarks).
extern "C" {
const char* edgecpm_kernels_isa();            // the active table's name
const char* edgecpm_kernels_available();      // comma-separated, best first
int edgecpm_kernels_set_isa(const char* name);  // 0 on success, -1 if unavailable
}
