// edgecpm::cache_write.out as an ExecuTorch kernel: rows of a [B, H, S, D] float32 cache written in
// place from values [B, H, T, D] at slots [T] (the schema: toolchain/edgecpm/attention/cache_write.py).
// The cache is a program's mutable buffer; `out` gets a copy of values (an op returns something).
#include <executorch/extension/kernel_util/make_boxed_from_unboxed_functor.h>

#include <algorithm>

#include "ops_common.h"

namespace edgecpm {
namespace {

Tensor& cache_write_out(KernelRuntimeContext& ctx, Tensor& cache, const Tensor& values, const Tensor& slots,
                        Tensor& out) {
  ET_KERNEL_CHECK_MSG(ctx, contiguous_f32(cache, 4) && contiguous_f32(values, 4) && out.scalar_type() == ScalarType::Float,
                      InvalidArgument, out, "cache_write: cache, values and out must be contiguous 4-d float32");
  const int64_t B = cache.size(0), H = cache.size(1), S = cache.size(2), D = cache.size(3), T = values.size(2);
  ET_KERNEL_CHECK_MSG(ctx, values.size(0) == B && values.size(1) == H && values.size(3) == D, InvalidArgument, out,
                      "cache_write: values must be [B=%d, H=%d, T, D=%d]", int(B), int(H), int(D));
  ET_KERNEL_CHECK_MSG(ctx, slots.scalar_type() == ScalarType::Long && slots.dim() == 1 && slots.size(0) == T,
                      InvalidArgument, out, "cache_write: slots must be int64 [T=%d]", int(T));
  const int64_t* slot = slots.const_data_ptr<int64_t>();
  for (int64_t t = 0; t < T; ++t)
    ET_KERNEL_CHECK_MSG(ctx, slot[t] >= 0 && slot[t] < S, InvalidArgument, out,
                        "cache_write: slot %lld out of range of the cache (0..%lld)", (long long)slot[t],
                        (long long)(S - 1));
  ET_KERNEL_CHECK(ctx, executorch::runtime::resize_tensor(out, values.sizes()) == Error::Ok, InvalidArgument, out);
  float* dst = cache.mutable_data_ptr<float>();
  const float* src = values.const_data_ptr<float>();
  for (int64_t bh = 0; bh < B * H; ++bh)
    for (int64_t t = 0; t < T; ++t)
      std::copy(src + (bh * T + t) * D, src + (bh * T + t + 1) * D, dst + (bh * S + slot[t]) * D);
  std::copy(src, src + values.numel(), out.mutable_data_ptr<float>());
  return out;
}

}  // namespace
}  // namespace edgecpm

EDGECPM_KERNEL("cache_write.out", edgecpm::cache_write_out);
