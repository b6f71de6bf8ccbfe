// What every edgecpm:: ExecuTorch kernel file shares: the runtime's names and the one input check
// they all make (the kernels read raw float32 rows, so inputs must be contiguous float32).
#pragma once

#include <executorch/extension/kernel_util/make_boxed_from_unboxed_functor.h>
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

// The boxed call of a kernel, after checking that the program passes as many arguments as the kernel
// takes (+ its return): ExecuTorch's unboxing reads stack[i] for every parameter without looking at
// the instruction's count, so a damaged program (fewer arguments listed) would read past it. A wrong
// count fails the call with InvalidProgram instead, and the runner reports the program.
template <class FuncType>
struct ArityChecked {
  static void call(KernelRuntimeContext& ctx, executorch::runtime::Span<executorch::runtime::EValue*> stack) {
    using Wrapped = executorch::extension::WrapUnboxedIntoFunctor<FuncType>;
    // The parameters, then the op's one return value (the out tensor again), as the emitter lists them.
    constexpr size_t expected = executorch::extension::kernel_util_internal::size<
        typename Wrapped::ContextRemovedArgsType>::value + 1;
    if (stack.size() != expected) {
      ET_LOG(Error, "%s: the program passes %zu arguments, the kernel takes %zu", FuncType::func_name_,
             stack.size(), expected);
      ctx.fail(Error::InvalidProgram);
      return;
    }
    Wrapped::call(ctx, stack);
  }
};

}  // namespace edgecpm

// EXECUTORCH_LIBRARY(edgecpm, op_name, func) with the argument count checked (ArityChecked).
#define EDGECPM_KERNEL(op_name, func) EDGECPM_KERNEL_IMPL(op_name, func, ET_UID)
#define EDGECPM_KERNEL_IMPL(op_name, func, uid)                                                        \
  static constexpr const char ET_CONCATENATE(edgecpm_op_name_, uid)[] = "edgecpm::" op_name;         \
  static auto ET_CONCATENATE(edgecpm_op_registered_, uid) = ::executorch::runtime::register_kernel( \
      ::executorch::runtime::Kernel(ET_CONCATENATE(edgecpm_op_name_, uid),                            \
                                    ::edgecpm::ArityChecked<EXECUTORCH_FN_TYPE(                       \
                                        func, ET_CONCATENATE(edgecpm_op_name_, uid))>::call))
