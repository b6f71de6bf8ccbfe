// A non-owning, contiguous ExecuTorch tensor over caller memory: what a method's set_input takes
// (it copies the data into the method's planned input buffer, so the view may end after the call).
#pragma once

#include <memory>
#include <vector>

#include <executorch/runtime/core/evalue.h>
#include <executorch/runtime/core/exec_aten/exec_aten.h>

namespace edgecpm {

class TensorView {
 public:
  using Sizes = std::vector<executorch::aten::TensorImpl::SizesType>;

  TensorView(executorch::aten::ScalarType type, Sizes sizes, const void* data) : sizes_(std::move(sizes)) {
    using executorch::aten::TensorImpl;
    const size_t dim = sizes_.size();
    order_.resize(dim);
    strides_.resize(dim);
    TensorImpl::StridesType stride = 1;
    for (size_t i = dim; i-- > 0;) {
      order_[i] = static_cast<TensorImpl::DimOrderType>(i);
      strides_[i] = stride;
      stride *= sizes_[i];
    }
    impl_ = std::make_unique<TensorImpl>(type, static_cast<ssize_t>(dim), sizes_.data(), const_cast<void*>(data),
                                         order_.data(), strides_.data());
  }

  executorch::runtime::EValue value() const { return executorch::runtime::EValue(executorch::aten::Tensor(impl_.get())); }

 private:
  Sizes sizes_;
  std::vector<executorch::aten::TensorImpl::DimOrderType> order_;
  std::vector<executorch::aten::TensorImpl::StridesType> strides_;
  std::unique_ptr<executorch::aten::TensorImpl> impl_;
};

}  // namespace edgecpm
