// edgecpm::cached_attention.out as an ExecuTorch kernel: argument checks, then the cache write
// and one parallel_for over (batch, kv head, query row). The arithmetic is in cached_attention.cpp;
// the schema in toolchain/edgecpm/attention/cached_attention.py. The caches are the program's
// mutable buffers, written in place.
#include <executorch/extension/kernel_util/make_boxed_from_unboxed_functor.h>
#include <executorch/runtime/kernel/thread_parallel_interface.h>

#include <optional>

#include "cached_attention.h"
#include "ops_common.h"

namespace edgecpm {
namespace {

Tensor& cached_attention_out(KernelRuntimeContext& ctx, const Tensor& q, const Tensor& k, const Tensor& v,
                             Tensor& k_cache, Tensor& v_cache, const Tensor& cos, const Tensor& sin,
                             const Tensor& cache_pos, const std::optional<Tensor>& attn_mask, Tensor& out) {
  ET_KERNEL_CHECK_MSG(ctx, contiguous_f32(q, 4) && contiguous_f32(k, 4) && contiguous_f32(v, 4) &&
                      contiguous_f32(k_cache, 4) && contiguous_f32(v_cache, 4) &&
                      contiguous_f32(cos, 2) && contiguous_f32(sin, 2) && out.scalar_type() == ScalarType::Float,
                      InvalidArgument, out, "cached_attention: q/k/v, the caches, cos/sin and out must be contiguous "
                      "float32 (only float32 is implemented)");
  const int64_t B = q.size(0), T = q.size(1), Hq = q.size(2), D = q.size(3), Hkv = k.size(2), S = k_cache.size(2);
  ET_KERNEL_CHECK_MSG(ctx, k.size(0) == B && k.size(1) == T && k.size(3) == D && v.sizes() == k.sizes() &&
                      k_cache.size(0) == B && k_cache.size(1) == Hkv && k_cache.size(3) == D &&
                      v_cache.sizes() == k_cache.sizes() && cos.size(0) == T && cos.size(1) == D &&
                      sin.sizes() == cos.sizes(),
                      InvalidArgument, out, "cached_attention: expected q [B, T, Hq, D], k/v [B, T, Hkv, D], caches "
                      "[B, Hkv, S, D], cos/sin [T, D] with B=%d T=%d D=%d", int(B), int(T), int(D));
  ET_KERNEL_CHECK_MSG(ctx, cache_pos.scalar_type() == ScalarType::Long && cache_pos.dim() == 1 && cache_pos.size(0) == T,
                      InvalidArgument, out, "cached_attention: cache_pos must be int64 [T=%d]", int(T));
  const bool* mask = nullptr;
  if (attn_mask.has_value()) {
    const Tensor& m = *attn_mask;
    ET_KERNEL_CHECK_MSG(ctx, m.scalar_type() == ScalarType::Bool && m.dim() == 2 && m.size(0) == T && m.size(1) == S &&
                        executorch::runtime::tensor_is_contiguous(m),
                        InvalidArgument, out, "cached_attention: attn_mask must be bool [T=%d, S=%d]", int(T), int(S));
    mask = m.const_data_ptr<bool>();
  }
  ET_KERNEL_CHECK(ctx, executorch::runtime::resize_tensor(out, q.sizes()) == Error::Ok, InvalidArgument, out);
  const CachedAttentionProblem pr{q.const_data_ptr<float>(), k.const_data_ptr<float>(), v.const_data_ptr<float>(),
                                  k_cache.mutable_data_ptr<float>(), v_cache.mutable_data_ptr<float>(),
                                  cos.const_data_ptr<float>(), sin.const_data_ptr<float>(),
                                  cache_pos.const_data_ptr<int64_t>(), mask, out.mutable_data_ptr<float>(),
                                  B, T, Hq, Hkv, S, D};
  const char* bad = cached_attention_validate(pr);
  ET_KERNEL_CHECK_MSG(ctx, bad == nullptr, InvalidArgument, out, "cached_attention: %s", bad ? bad : "");
  cached_attention_write_cache(pr);
  const AttnKernels& ak = active_attn_kernels();
  // Grain 1: rows of a prefill chunk differ in length; the pool hands them out as threads free up.
  executorch::extension::parallel_for(0, cached_attention_items(pr), 1, [&](int64_t i0, int64_t i1) {
    thread_local CachedAttentionScratch scratch;
    cached_attention_items(ak, pr, i0, i1, scratch);
  });
  return out;
}

}  // namespace
}  // namespace edgecpm

EDGECPM_KERNEL("cached_attention.out", edgecpm::cached_attention_out);
