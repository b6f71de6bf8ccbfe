// edgecpm::rms_norm.out and edgecpm::silu_mul.out as ExecuTorch kernels: argument checks, output
// resize, parallel_for over rows / element ranges. Arithmetic in norm_act.cpp; schemas in
// toolchain/edgecpm/model/fused_ops.py.
#include <executorch/extension/kernel_util/make_boxed_from_unboxed_functor.h>
#include <executorch/runtime/kernel/thread_parallel_interface.h>

#include "norm_act.h"
#include "ops_common.h"

namespace edgecpm {
namespace {

Tensor& rms_norm_out(KernelRuntimeContext& ctx, const Tensor& x, const Tensor& weight, double eps, Tensor& out) {
  ET_KERNEL_CHECK_MSG(ctx, contiguous_f32(x) && contiguous_f32(weight) && out.scalar_type() == ScalarType::Float &&
                      x.dim() >= 1 && weight.dim() == 1 && weight.size(0) == x.size(x.dim() - 1),
                      InvalidArgument, out, "rms_norm: x must be contiguous float32 [..., n] and weight float32 [n]");
  ET_KERNEL_CHECK(ctx, executorch::runtime::resize_tensor(out, x.sizes()) == Error::Ok, InvalidArgument, out);
  const int64_t n = x.size(x.dim() - 1), rows = n ? x.numel() / n : 0;
  const float* xp = x.const_data_ptr<float>();
  const float* wp = weight.const_data_ptr<float>();
  float* yp = out.mutable_data_ptr<float>();
  // A decode row is ~1k floats: one thread; prefill rows split.
  executorch::extension::parallel_for(0, rows, 8, [&](int64_t r0, int64_t r1) {
    rms_norm_rows(xp, wp, n, float(eps), r0, r1, yp);
  });
  return out;
}

Tensor& silu_mul_out(KernelRuntimeContext& ctx, const Tensor& gate, const Tensor& up, Tensor& out) {
  ET_KERNEL_CHECK_MSG(ctx, contiguous_f32(gate) && contiguous_f32(up) && gate.sizes() == up.sizes() &&
                      out.scalar_type() == ScalarType::Float,
                      InvalidArgument, out, "silu_mul: gate and up must be contiguous float32 of one shape");
  ET_KERNEL_CHECK(ctx, executorch::runtime::resize_tensor(out, gate.sizes()) == Error::Ok, InvalidArgument, out);
  const AttnKernels& ak = active_attn_kernels();
  const float* g = gate.const_data_ptr<float>();
  const float* u = up.const_data_ptr<float>();
  float* y = out.mutable_data_ptr<float>();
  executorch::extension::parallel_for(0, gate.numel(), 4096, [&](int64_t i0, int64_t i1) {
    thread_local std::vector<float> scratch;
    silu_mul_range(ak, g, u, i0, i1, y, scratch);
  });
  return out;
}

}  // namespace
}  // namespace edgecpm

EDGECPM_KERNEL("rms_norm.out", edgecpm::rms_norm_out);
EDGECPM_KERNEL("silu_mul.out", edgecpm::silu_mul_out);
