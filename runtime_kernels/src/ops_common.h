// What every edgecpm:: ExecuTorch kernel file shares: the runtime's names and the one input check
// they all make (the kernels read raw float32 rows, so inputs must be contiguous float32).
#pragma once

#include <executorch/runtime/core/exec_aten/util/tensor_util.h>
#include <executorch/runtime/kernel/kernel_includes.h>

namespace edgecpm {

using executorch::aten::ScalarType;
using executorch::aten::Tensor;
using executorch::runtime::Error;
using executorch::runtime::KernelRuntimeContext;

// Contiguous float32, with `dim` dimensions when dim >= 0.
inline bool contiguous_f32(const Tensor& t, int64_t dim = -1) {
  return t.scalar_type() == ScalarType::Float && (dim < 0 || t.dim() == dim) &&
         executorch::runtime::tensor_is_contiguous(t);
}

}  // namespace edgecpm
