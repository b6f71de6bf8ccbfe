// edgecpm::rms_norm and edgecpm::silu_mul, the arithmetic (definitions:
// toolchain/edgecpm/model/fused_ops.py). Free of ExecuTorch; ops_norm_act.cpp adds checks and threads.
#pragma once

#include <cstdint>
#include <vector>

#include "attn_kernels.h"

namespace edgecpm {

// Rows [r0, r1) of y = x * rsqrt(mean(x^2) + eps) * w, x and y [rows, n] float32, w [n].
void rms_norm_rows(const float* x, const float* w, int64_t n, float eps, int64_t r0, int64_t r1, float* y);

// Elements [i0, i1) of y = silu(gate) * up. The exponentials go through the attention table's
// vector exp (always of -|gate| <= 0, its documented range); scratch holds i1 - i0 floats.
void silu_mul_range(const AttnKernels& ak, const float* gate, const float* up, int64_t i0, int64_t i1, float* y,
                    std::vector<float>& scratch);

}  // namespace edgecpm
