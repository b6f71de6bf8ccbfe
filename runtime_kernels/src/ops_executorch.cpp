// The edgecpm:: operators as ExecuTorch kernels: argument checks, output resizing, threading.
// The arithmetic is in linear.cpp and infllm_attention.cpp; the schemas are in
// toolchain/edgecpm/quant/ops.py and toolchain/edgecpm/attention/ops.py.
//
// Bad arguments fail the kernel through ET_KERNEL_CHECK_MSG (the runtime returns an error from
// execute) instead of reading out of bounds: a program built against other shapes, or a
// checkpoint whose tensors were edited, is reported, not trusted.
#include <executorch/extension/kernel_util/make_boxed_from_unboxed_functor.h>
#include <executorch/runtime/core/exec_aten/util/tensor_util.h>
#include <executorch/runtime/kernel/kernel_includes.h>
#include <executorch/runtime/kernel/thread_parallel_interface.h>

#include <algorithm>
#include <cstdio>
#include <optional>

#include "act_quant.h"
#include "attn_kernels.h"
#include "infllm_attention.h"
#include "infllm_tree_attention.h"
#include "isa.h"
#include "linear.h"
#include "ops_common.h"

namespace edgecpm {
namespace {

using executorch::aten::SizesType;

constexpr int64_t kMaxDims = 8;

// out.shape = lead.shape[:-drop] + [last], resized in place (outputs are dynamic in T).
bool resize_like(const Tensor& lead, int drop, int64_t last, Tensor& out) {
  SizesType sizes[kMaxDims];
  const int64_t nd = lead.dim() - drop;
  if (nd + 1 > kMaxDims) return false;
  for (int64_t i = 0; i < nd; ++i) sizes[i] = lead.size(i);
  sizes[nd] = SizesType(last);
  return executorch::runtime::resize_tensor(out, {sizes, size_t(nd + 1)}) == Error::Ok;
}

bool scale_view(const Tensor& t, ScaleView& view) {
  view.data = t.const_data_ptr();
  switch (t.scalar_type()) {
    case ScalarType::Float: view.type = ScaleView::Type::F32; return true;
    case ScalarType::Half: view.type = ScaleView::Type::F16; return true;
    case ScalarType::BFloat16: view.type = ScaleView::Type::BF16; return true;
    default: return false;
  }
}

// Quantize x's rows once (shared by all threads), then split the output rows across threads.
template <typename RowsFn>
void run_rows(const Tensor& x, ActOrder order, int64_t n_out, RowsFn rows_fn) {
  const int64_t k = x.size(x.dim() - 1), m = x.numel() / k;
  // Reused between calls to skip reallocation. Named through a reference on purpose: inside the
  // lambda a thread_local name would mean each worker's own (empty) instance.
  thread_local QuantizedActs per_thread;
  QuantizedActs& acts = per_thread;
  quantize_acts(x.const_data_ptr<float>(), m, k, order, acts);
  const DotKernels& dot = active_kernels();
  // Tasks of whole row tiles, several per thread, taken from a shared counter (RowTasks: linear.h)
  // inside parallel_for's one call per thread; small outputs stay on one thread.
  const int64_t threads = executorch::extension::get_thread_count();
  RowTasks tasks(n_out, threads);
  auto work = [&](int64_t, int64_t) { tasks.work([&](int64_t n0, int64_t n1) { rows_fn(dot, acts, n0, n1); }); };
  if (tasks.tasks == 1)
    work(0, 1);
  else
    executorch::extension::parallel_for(0, threads, 1, work);
}

Tensor& ternary_linear_out(KernelRuntimeContext& ctx, const Tensor& x, const Tensor& packed,
                           const std::optional<Tensor>& scales, int64_t layout, int64_t group_size, Tensor& out) {
  ET_KERNEL_CHECK_MSG(ctx, layout == 0 || layout == 1, InvalidArgument, out, "layout %d is not 0 (TQ2_0) or 1 (TQ1_0)", int(layout));
  ET_KERNEL_CHECK_MSG(ctx, x.scalar_type() == ScalarType::Float && out.scalar_type() == ScalarType::Float && x.dim() >= 1,
                      InvalidArgument, out, "ternary_linear: x and out must be float32");
  ET_KERNEL_CHECK_MSG(ctx, packed.scalar_type() == ScalarType::Byte && packed.dim() == 2, InvalidArgument, out,
                      "ternary_linear: packed must be uint8 [N, bytes]");
  const auto lay = TernaryLayout(layout);
  const int64_t k = x.size(x.dim() - 1), n = packed.size(0);
  ET_KERNEL_CHECK_MSG(ctx, k % 256 == 0 && packed.size(1) == k / 256 * ternary_block_bytes(lay), InvalidArgument, out,
                      "ternary_linear: x has K=%d but packed rows hold %d bytes", int(k), int(packed.size(1)));
  TernaryWeights w{packed.const_data_ptr<uint8_t>(), n, k, lay, {}, group_size};
  if (scales.has_value()) {
    const Tensor& s = *scales;
    ET_KERNEL_CHECK_MSG(ctx, s.dim() == 2 && s.size(0) == n && group_size > 0 && group_size % kSub == 0 &&
                        s.size(1) * group_size == k && scale_view(s, w.side_scales),
                        InvalidArgument, out, "ternary_linear: side scales do not match [N, K/group_size] float");
  }
  ET_KERNEL_CHECK(ctx, resize_like(x, 1, n, out), InvalidArgument, out);
  run_rows(x, ActOrder::Natural, n, [&](const DotKernels& dot, const QuantizedActs& a, int64_t n0, int64_t n1) {
    ternary_linear_rows(dot, w, a, n0, n1, out.mutable_data_ptr<float>());
  });
  return out;
}

Tensor& int4_linear_out(KernelRuntimeContext& ctx, const Tensor& x, const Tensor& qweight, const Tensor& scales,
                        const std::optional<Tensor>& zeros, int64_t group_size, Tensor& out) {
  ET_KERNEL_CHECK_MSG(ctx, x.scalar_type() == ScalarType::Float && out.scalar_type() == ScalarType::Float && x.dim() >= 1,
                      InvalidArgument, out, "int4_linear: x and out must be float32");
  const int64_t k = x.size(x.dim() - 1);
  ET_KERNEL_CHECK_MSG(ctx, qweight.scalar_type() == ScalarType::Byte && qweight.dim() == 2 && qweight.size(1) * 2 == k,
                      InvalidArgument, out, "int4_linear: qweight must be uint8 [N, K/2] with K=%d", int(k));
  const int64_t n = qweight.size(0);
  ET_KERNEL_CHECK_MSG(ctx, group_size > 0 && group_size % kSub == 0 && k % group_size == 0 &&
                      scales.scalar_type() == ScalarType::Half && scales.dim() == 2 && scales.size(0) == n &&
                      scales.size(1) == k / group_size,
                      InvalidArgument, out, "int4_linear: scales must be fp16 [N, K/group_size], group a multiple of 32");
  const uint8_t* zp = nullptr;
  if (zeros.has_value()) {
    ET_KERNEL_CHECK_MSG(ctx, zeros->scalar_type() == ScalarType::Byte && zeros->numel() == scales.numel(),
                        InvalidArgument, out, "int4_linear: zeros must be uint8 shaped like scales");
    zp = zeros->const_data_ptr<uint8_t>();
  }
  ET_KERNEL_CHECK(ctx, resize_like(x, 1, n, out), InvalidArgument, out);
  const Int4Weights w{qweight.const_data_ptr<uint8_t>(), scales.const_data_ptr<uint16_t>(), zp, n, k, group_size};
  run_rows(x, ActOrder::Int4, n, [&](const DotKernels& dot, const QuantizedActs& a, int64_t n0, int64_t n1) {
    int4_linear_rows(dot, w, a, n0, n1, out.mutable_data_ptr<float>());
  });
  return out;
}

Tensor& int8_linear_out(KernelRuntimeContext& ctx, const Tensor& x, const Tensor& qweight, const Tensor& scales,
                        Tensor& out) {
  ET_KERNEL_CHECK_MSG(ctx, x.scalar_type() == ScalarType::Float && out.scalar_type() == ScalarType::Float && x.dim() >= 1,
                      InvalidArgument, out, "int8_linear: x and out must be float32");
  const int64_t k = x.size(x.dim() - 1);
  ET_KERNEL_CHECK_MSG(ctx, qweight.scalar_type() == ScalarType::Char && qweight.dim() == 2 && qweight.size(1) == k &&
                      k % kSub == 0 && scales.scalar_type() == ScalarType::Half && scales.dim() == 2 &&
                      scales.size(0) == qweight.size(0) && scales.size(1) == k / kSub,
                      InvalidArgument, out, "int8_linear: expected int8 [N, K] and fp16 scales [N, K/32], K=%d", int(k));
  const int64_t n = qweight.size(0);
  ET_KERNEL_CHECK(ctx, resize_like(x, 1, n, out), InvalidArgument, out);
  const Int8Weights w{qweight.const_data_ptr<int8_t>(), scales.const_data_ptr<uint16_t>(), n, k};
  run_rows(x, ActOrder::Natural, n, [&](const DotKernels& dot, const QuantizedActs& a, int64_t n0, int64_t n1) {
    int8_linear_rows(dot, w, a, n0, n1, out.mutable_data_ptr<float>());
  });
  return out;
}

bool ids_in_range(const Tensor& ids, int64_t vocab) {
  if (ids.scalar_type() != ScalarType::Long) return false;
  const int64_t* p = ids.const_data_ptr<int64_t>();
  for (int64_t i = 0; i < ids.numel(); ++i)
    if (p[i] < 0 || p[i] >= vocab) return false;
  return true;
}

Tensor& int8_embedding_out(KernelRuntimeContext& ctx, const Tensor& ids, const Tensor& qweight, const Tensor& scales,
                           Tensor& out) {
  ET_KERNEL_CHECK_MSG(ctx, qweight.scalar_type() == ScalarType::Char && qweight.dim() == 2 && qweight.size(1) % kSub == 0 &&
                      scales.scalar_type() == ScalarType::Half && scales.numel() == qweight.numel() / kSub &&
                      out.scalar_type() == ScalarType::Float,
                      InvalidArgument, out, "int8_embedding: expected int8 [V, K], fp16 [V, K/32], float out");
  ET_KERNEL_CHECK_MSG(ctx, ids_in_range(ids, qweight.size(0)), InvalidArgument, out,
                      "int8_embedding: token ids must be int64 in [0, %d)", int(qweight.size(0)));
  const int64_t k = qweight.size(1);
  ET_KERNEL_CHECK(ctx, resize_like(ids, 0, k, out), InvalidArgument, out);
  const int64_t* id = ids.const_data_ptr<int64_t>();
  const int8_t* q = qweight.const_data_ptr<int8_t>();
  const uint16_t* sc = scales.const_data_ptr<uint16_t>();
  float* dst = out.mutable_data_ptr<float>();
  for (int64_t i = 0; i < ids.numel(); ++i)
    for (int64_t c = 0; c < k; ++c) dst[i * k + c] = float(q[id[i] * k + c]) * half_to_float(sc[(id[i] * k + c) / kSub]);
  return out;
}

Tensor& int4_embedding_out(KernelRuntimeContext& ctx, const Tensor& ids, const Tensor& qweight, const Tensor& scales,
                           const std::optional<Tensor>& zeros, int64_t group_size, Tensor& out) {
  ET_KERNEL_CHECK_MSG(ctx, qweight.scalar_type() == ScalarType::Byte && qweight.dim() == 2 && group_size > 0 &&
                      (qweight.size(1) * 2) % group_size == 0 && scales.scalar_type() == ScalarType::Half &&
                      scales.numel() == qweight.size(0) * (qweight.size(1) * 2 / group_size) &&
                      (!zeros.has_value() || (zeros->scalar_type() == ScalarType::Byte && zeros->numel() == scales.numel())) &&
                      out.scalar_type() == ScalarType::Float,
                      InvalidArgument, out, "int4_embedding: expected uint8 [V, K/2], fp16 [V, K/group], float out");
  ET_KERNEL_CHECK_MSG(ctx, ids_in_range(ids, qweight.size(0)), InvalidArgument, out,
                      "int4_embedding: token ids must be int64 in [0, %d)", int(qweight.size(0)));
  const int64_t k = qweight.size(1) * 2, groups = k / group_size;
  ET_KERNEL_CHECK(ctx, resize_like(ids, 0, k, out), InvalidArgument, out);
  const int64_t* id = ids.const_data_ptr<int64_t>();
  const uint8_t* q = qweight.const_data_ptr<uint8_t>();
  const uint16_t* sc = scales.const_data_ptr<uint16_t>();
  const uint8_t* zp = zeros.has_value() ? zeros->const_data_ptr<uint8_t>() : nullptr;
  float* dst = out.mutable_data_ptr<float>();
  for (int64_t i = 0; i < ids.numel(); ++i) {
    const int64_t r = id[i];
    for (int64_t c = 0; c < k; ++c) {
      const uint8_t byte = q[r * (k / 2) + c / 2];
      const int nibble = (c % 2) ? byte >> 4 : byte & 0x0F;
      const int64_t g = r * groups + c / group_size;
      dst[i * k + c] = float(nibble - (zp ? zp[g] : 8)) * half_to_float(sc[g]);
    }
  }
  return out;
}

// One work item per (batch, kv head, query row), grain 1: the pool hands them out as threads free
// up, which balances prefill rows of different lengths. Scratch is per worker thread.
void run_infllm(const InfllmProblem& pr) {
  const AttnKernels& ak = active_attn_kernels();
  executorch::extension::parallel_for(0, infllm_items(pr), 1, [&](int64_t i0, int64_t i1) {
    thread_local InfllmScratch scratch;
    infllm_attention_items(ak, pr, i0, i1, scratch);
  });
}

// float32 only (the op's dtype is q's; other dtypes are refused, not converted).
Tensor& infllm_attention_out(KernelRuntimeContext& ctx, const Tensor& q, const Tensor& k_cache, const Tensor& v_cache,
                             const Tensor& ck_cache, const Tensor& input_pos, int64_t kernel_size, int64_t kernel_stride,
                             int64_t block_size, int64_t init_blocks, int64_t local_blocks, int64_t topk,
                             int64_t dense_len, Tensor& out) {
  ET_KERNEL_CHECK_MSG(ctx, contiguous_f32(q, 4) && contiguous_f32(k_cache, 4) && contiguous_f32(v_cache, 4) &&
                      contiguous_f32(ck_cache, 4) &&
                      out.scalar_type() == ScalarType::Float,
                      InvalidArgument, out, "infllm_attention: q, k/v/ck caches and out must be contiguous 4-d float32 "
                      "(only float32 is implemented)");
  const int64_t B = q.size(0), Hq = q.size(1), T = q.size(2), D = q.size(3), Hkv = k_cache.size(1);
  ET_KERNEL_CHECK_MSG(ctx, k_cache.size(0) == B && k_cache.size(3) == D && v_cache.size(0) == B &&
                      v_cache.size(1) == Hkv && v_cache.size(2) == k_cache.size(2) && v_cache.size(3) == D &&
                      ck_cache.size(0) == B && ck_cache.size(1) == Hkv && ck_cache.size(3) == D,
                      InvalidArgument, out, "infllm_attention: caches must be [B=%d, Hkv, S, D=%d] (k, v) and [B, Hkv, C, D] (ck)",
                      int(B), int(D));
  ET_KERNEL_CHECK_MSG(ctx, input_pos.scalar_type() == ScalarType::Long && input_pos.dim() == 1 && input_pos.size(0) == T,
                      InvalidArgument, out, "infllm_attention: input_pos must be int64 [T=%d]", int(T));
  ET_KERNEL_CHECK(ctx, executorch::runtime::resize_tensor(out, q.sizes()) == Error::Ok, InvalidArgument, out);
  const InfllmProblem pr{q.const_data_ptr<float>(), k_cache.const_data_ptr<float>(), v_cache.const_data_ptr<float>(),
                         ck_cache.const_data_ptr<float>(), input_pos.const_data_ptr<int64_t>(),
                         out.mutable_data_ptr<float>(), B, Hq, Hkv, T, k_cache.size(2), ck_cache.size(2), D,
                         {kernel_size, kernel_stride, block_size, init_blocks, local_blocks, topk, dense_len}};
  const char* bad = infllm_validate(pr);
  ET_KERNEL_CHECK_MSG(ctx, bad == nullptr, InvalidArgument, out, "infllm_attention: %s", bad ? bad : "");
  run_infllm(pr);
  return out;
}

// A verification call's InfLLM-v2 (infllm_tree_attention.h): the rows' paths are read from the mask
// once per call, then the items run as infllm_attention's do.
Tensor& infllm_tree_attention_out(KernelRuntimeContext& ctx, const Tensor& q, const Tensor& k_cache,
                                  const Tensor& v_cache, const Tensor& ck_cache, const Tensor& input_pos,
                                  const Tensor& attn_mask, int64_t kernel_size, int64_t kernel_stride,
                                  int64_t block_size, int64_t init_blocks, int64_t local_blocks, int64_t topk,
                                  int64_t dense_len, Tensor& out) {
  ET_KERNEL_CHECK_MSG(ctx, contiguous_f32(q, 4) && contiguous_f32(k_cache, 4) && contiguous_f32(v_cache, 4) &&
                      contiguous_f32(ck_cache, 4) && out.scalar_type() == ScalarType::Float,
                      InvalidArgument, out, "infllm_tree_attention: q, k/v/ck caches and out must be contiguous 4-d "
                      "float32 (only float32 is implemented)");
  const int64_t B = q.size(0), Hq = q.size(1), T = q.size(2), D = q.size(3), Hkv = k_cache.size(1);
  const int64_t S = k_cache.size(2);
  ET_KERNEL_CHECK_MSG(ctx, k_cache.size(0) == B && k_cache.size(3) == D && v_cache.size(0) == B &&
                      v_cache.size(1) == Hkv && v_cache.size(2) == S && v_cache.size(3) == D &&
                      ck_cache.size(0) == B && ck_cache.size(1) == Hkv && ck_cache.size(3) == D,
                      InvalidArgument, out, "infllm_tree_attention: caches must be [B=%d, Hkv, S, D=%d] (k, v) and "
                      "[B, Hkv, C, D] (ck)", int(B), int(D));
  ET_KERNEL_CHECK_MSG(ctx, input_pos.scalar_type() == ScalarType::Long && input_pos.dim() == 1 && input_pos.size(0) == T,
                      InvalidArgument, out, "infllm_tree_attention: input_pos must be int64 [T=%d]", int(T));
  ET_KERNEL_CHECK_MSG(ctx, attn_mask.scalar_type() == ScalarType::Bool && attn_mask.dim() == 2 &&
                      attn_mask.size(0) == T && attn_mask.size(1) == S &&
                      executorch::runtime::tensor_is_contiguous(attn_mask),
                      InvalidArgument, out, "infllm_tree_attention: attn_mask must be contiguous bool [T=%d, S=%d]",
                      int(T), int(S));
  ET_KERNEL_CHECK(ctx, executorch::runtime::resize_tensor(out, q.sizes()) == Error::Ok, InvalidArgument, out);
  const InfllmTreeProblem tp{{q.const_data_ptr<float>(), k_cache.const_data_ptr<float>(), v_cache.const_data_ptr<float>(),
                              ck_cache.const_data_ptr<float>(), input_pos.const_data_ptr<int64_t>(),
                              out.mutable_data_ptr<float>(), B, Hq, Hkv, T, S, ck_cache.size(2), D,
                              {kernel_size, kernel_stride, block_size, init_blocks, local_blocks, topk, dense_len}},
                             attn_mask.const_data_ptr<bool>()};
  TreeRows rows;
  const char* bad = infllm_tree_prepare(tp, rows);
  ET_KERNEL_CHECK_MSG(ctx, bad == nullptr, InvalidArgument, out, "infllm_tree_attention: %s", bad ? bad : "");
  const AttnKernels& ak = active_attn_kernels();
  executorch::extension::parallel_for(0, infllm_items(tp.pr), 1, [&](int64_t i0, int64_t i1) {
    thread_local InfllmScratch scratch;
    infllm_tree_items(ak, tp, rows, i0, i1, scratch);
  });
  return out;
}

}  // namespace
}  // namespace edgecpm

// The same kernel on raw contiguous float32 buffers (shapes as the op's), for ctypes benchmarks:
// the real code path and thread pool, without a program's input copies. 0 on success, -1 (and a
// message on stderr) on a bad problem.
extern "C" int edgecpm_infllm_attention_f32(const float* q, const float* k, const float* v, const float* ck,
                                            const int64_t* pos, float* out, int64_t B, int64_t Hq, int64_t Hkv,
                                            int64_t T, int64_t S, int64_t C, int64_t D, int64_t kernel_size,
                                            int64_t kernel_stride, int64_t block_size, int64_t init_blocks,
                                            int64_t local_blocks, int64_t topk, int64_t dense_len) {
  const edgecpm::InfllmProblem pr{q, k, v, ck, pos, out, B, Hq, Hkv, T, S, C, D,
                                  {kernel_size, kernel_stride, block_size, init_blocks, local_blocks, topk, dense_len}};
  if (const char* bad = edgecpm::infllm_validate(pr)) {
    std::fprintf(stderr, "edgecpm_infllm_attention_f32: %s\n", bad);
    return -1;
  }
  edgecpm::run_infllm(pr);
  return 0;
}

// Threads parallel_for uses (the ExecuTorch pool: one per core unless the runtime was told otherwise).
extern "C" int64_t edgecpm_kernels_threads() { return executorch::extension::get_thread_count(); }

EDGECPM_KERNEL("ternary_linear.out", edgecpm::ternary_linear_out);
EDGECPM_KERNEL("int4_linear.out", edgecpm::int4_linear_out);
EDGECPM_KERNEL("int8_linear.out", edgecpm::int8_linear_out);
EDGECPM_KERNEL("int8_embedding.out", edgecpm::int8_embedding_out);
EDGECPM_KERNEL("int4_embedding.out", edgecpm::int4_embedding_out);
EDGECPM_KERNEL("infllm_attention.out", edgecpm::infllm_attention_out);
EDGECPM_KERNEL("infllm_tree_attention.out", edgecpm::infllm_tree_attention_out);
