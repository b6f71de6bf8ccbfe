#include "forward_call.h"

#include <executorch/runtime/core/evalue.h>
#include <executorch/runtime/core/exec_aten/exec_aten.h>

#include <algorithm>

#include "runner_error.h"
#include "tensor_view.h"

namespace edgecpm {

using executorch::aten::ScalarType;
using executorch::aten::Tensor;
using executorch::aten::TensorImpl;
using executorch::runtime::Error;
using executorch::runtime::EValue;

namespace {

int64_t planned_chunk(LoadedMethod& method, const std::string& path) {
  auto info = method.method().method_meta().input_tensor_meta(0);
  if (!info.ok() || info->sizes().size() != 2) {
    throw RunnerError(path + ": forward does not take tokens [1, T]; was it made by `edgecpm export`?");
  }
  return info->sizes()[1];  // dynamic dimensions are planned at their upper bound
}

}  // namespace

ForwardCall::ForwardCall(std::unique_ptr<LoadedMethod> method, std::string program_path)
    : method_(std::move(method)), program_path_(std::move(program_path)),
      chunk_(planned_chunk(*method_, program_path_)) {}

int64_t ForwardCall::next_token(const std::vector<int64_t>& tokens, int64_t start_pos, Sampler& sampler) {
  const int64_t total = static_cast<int64_t>(tokens.size());
  const float* last_row = nullptr;
  int64_t vocab = 0;
  for (int64_t a = 0; a < total; a += chunk_) {
    last_row = run_chunk(tokens.data() + a, std::min(chunk_, total - a), start_pos + a, &vocab);
  }
  if (last_row == nullptr || vocab < 1) {
    throw RunnerError(program_path_ + ": forward returned no logits; was it made by `edgecpm export`?");
  }
  return sampler.next(last_row, vocab);
}

const float* ForwardCall::run_chunk(const int64_t* tokens, int64_t n, int64_t start_pos, int64_t* vocab) {
  auto& method = method_->method();
  const auto count = static_cast<TensorImpl::SizesType>(n);
  positions_.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    positions_[i] = start_pos + i;
  }
  const TensorView token_view(ScalarType::Long, {1, count}, tokens);
  const TensorView pos_view(ScalarType::Long, {count}, positions_.data());

  const std::string where = program_path_ + ": forward";
  Error status = method.set_input(token_view.value(), 0);
  if (status == Error::Ok) {
    status = method.set_input(pos_view.value(), 1);
  }
  if (status != Error::Ok) {
    throw RunnerError(where + " rejected a " + std::to_string(n) + "-token input (" +
                      executorch::runtime::to_string(status) + ")");
  }
  status = method.execute();
  if (status != Error::Ok) {
    throw RunnerError(where + " failed (" + std::string(executorch::runtime::to_string(status)) + ")");
  }
  const EValue& out = method.get_output(0);
  if (!out.isTensor() || out.toTensor().scalar_type() != ScalarType::Float || out.toTensor().dim() != 3) {
    throw RunnerError(where + " did not return float32 logits [1, T, vocab]; was it made by `edgecpm export`?");
  }
  const Tensor& logits = out.toTensor();
  *vocab = logits.size(2);
  return logits.const_data_ptr<float>() + (logits.size(1) - 1) * *vocab;
}

}  // namespace edgecpm
