#include "spec_methods.h"

#include <algorithm>
#include <chrono>

#include <executorch/runtime/core/evalue.h>
#include <executorch/runtime/core/exec_aten/exec_aten.h>

#include "argmax.h"
#include "runner_error.h"
#include "tensor_view.h"

namespace edgecpm {

using executorch::aten::ScalarType;
using executorch::aten::Tensor;
using executorch::aten::TensorImpl;
using executorch::runtime::Error;
using executorch::runtime::EValue;

namespace {

int64_t planned_size(LoadedMethod& method, bool output, size_t index, size_t dim, const std::string& where) {
  auto meta = method.method().method_meta();
  auto info = output ? meta.output_tensor_meta(index) : meta.input_tensor_meta(index);
  if (!info.ok() || info->sizes().size() <= dim) {
    throw RunnerError(where + ": unexpected signature; was it made by `edgecpm export MODEL --draft DRAFT_DIR`?");
  }
  return info->sizes()[dim];
}

}  // namespace

void SpecRows::clear() {
  tokens.clear();
  input_pos.clear();
  cache_pos.clear();
  mask.clear();
}

void SpecRows::add(int64_t token, int64_t pos, int64_t slot, int64_t max_seq_len, bool causal) {
  tokens.push_back(token);
  input_pos.push_back(pos);
  cache_pos.push_back(slot);
  const size_t row = mask.size();
  mask.resize(row + max_seq_len, 0);
  if (causal) {
    std::fill(mask.begin() + row, mask.begin() + row + std::min(pos + 1, max_seq_len), 1);
  }
}

SpecMethods::SpecMethods(const PteProgram& program, int64_t max_seq_len)
    : path_(program.path()), max_seq_len_(max_seq_len) {
  if (!program.has_method("verify") || !program.has_method("draft")) {
    throw RunnerError(path_ + ": this program has no speculative-decoding methods (verify, draft); re-export it "
                      "with `edgecpm export MODEL --draft DRAFT_DIR`");
  }
  verify_ = program.load_method("verify");
  draft_ = program.load_method("draft");
  // Programs exported before verify_in_place existed move [0] -> [0] on every call instead.
  if (program.has_method("verify_in_place")) {
    verify_in_place_ = program.load_method("verify_in_place");
  }
  // Dynamic dimensions are planned at their upper bound: the tokens input's is the chunk.
  chunk_ = planned_size(*verify_, false, 0, 1, path_ + ": verify");
  hidden_size_ = planned_size(*verify_, true, 0, 2, path_ + ": verify");
  draft_width_ = planned_size(*draft_, true, 1, 2, path_ + ": draft");
  if (planned_size(*verify_, false, 3, 1, path_ + ": verify") != max_seq_len) {
    throw RunnerError(path_ + ": verify's attention mask does not span max_seq_len " + std::to_string(max_seq_len) +
                      "; re-export the program");
  }
}

void SpecMethods::move_on_next_verify(std::vector<int64_t> src, std::vector<int64_t> dst) {
  move_src_ = std::move(src);
  move_dst_ = std::move(dst);
  move_pending_ = true;
}

SpecOutput SpecMethods::verify(const SpecRows& rows) { return run(rows, nullptr); }

SpecOutput SpecMethods::draft(const SpecRows& rows, const std::vector<float>& hidden) { return run(rows, &hidden); }

SpecOutput SpecMethods::run(const SpecRows& rows, const std::vector<float>* hidden) {
  SpecOutput out;
  const int64_t total = static_cast<int64_t>(rows.size());
  for (int64_t a = 0; a < total; a += chunk_) {
    // A pending move goes with the first call only: later chunks see the compacted cache.
    const bool moves = hidden == nullptr && (move_pending_ || !verify_in_place_);
    LoadedMethod& loaded = hidden != nullptr ? *draft_ : moves ? *verify_ : *verify_in_place_;
    const std::string where = path_ + ": " + (hidden != nullptr ? "draft" : moves ? "verify" : "verify_in_place");
    auto& method = loaded.method();
    const int64_t t = std::min(total, a + chunk_) - a;
    const auto n = static_cast<TensorImpl::SizesType>(t);
    const auto s = static_cast<TensorImpl::SizesType>(max_seq_len_);
    std::vector<TensorView> inputs;
    inputs.emplace_back(ScalarType::Long, TensorView::Sizes{1, n}, rows.tokens.data() + a);
    if (hidden != nullptr) {
      const auto h = static_cast<TensorImpl::SizesType>(hidden_size_);
      inputs.emplace_back(ScalarType::Float, TensorView::Sizes{1, n, h}, hidden->data() + a * h);
    }
    inputs.emplace_back(ScalarType::Long, TensorView::Sizes{n}, rows.input_pos.data() + a);
    inputs.emplace_back(ScalarType::Long, TensorView::Sizes{n}, rows.cache_pos.data() + a);
    inputs.emplace_back(ScalarType::Bool, TensorView::Sizes{n, s}, rows.mask.data() + a * s);
    if (moves) {
      const auto m = static_cast<TensorImpl::SizesType>(move_src_.size());
      inputs.emplace_back(ScalarType::Long, TensorView::Sizes{m}, move_src_.data());
      inputs.emplace_back(ScalarType::Long, TensorView::Sizes{m}, move_dst_.data());
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
      Error status = method.set_input(inputs[i].value(), i);
      if (status != Error::Ok) {
        throw RunnerError(where + " rejected input " + std::to_string(i) + " of a " + std::to_string(t) +
                          "-token call (" + executorch::runtime::to_string(status) + ")");
      }
    }
    const auto start = std::chrono::steady_clock::now();
    Error status = method.execute();
    if (status != Error::Ok) {
      throw RunnerError(where + " failed (" + std::string(executorch::runtime::to_string(status)) + ")");
    }
    if (moves) {
      move_src_.assign(1, 0);
      move_dst_.assign(1, 0);
      move_pending_ = false;
    }
    if (method.outputs_size() != 2 || !method.get_output(0).isTensor() || !method.get_output(1).isTensor()) {
      throw RunnerError(where + " did not return (hidden, logits); was it made by `edgecpm export --draft`?");
    }
    const Tensor& h = method.get_output(0).toTensor();
    const Tensor& lg = method.get_output(1).toTensor();
    if (h.scalar_type() != ScalarType::Float || lg.scalar_type() != ScalarType::Float || h.dim() != 3 ||
        lg.dim() != 3 || h.size(1) != t || lg.size(1) != t) {
      throw RunnerError(where + " did not return float32 [1, T, h] and [1, T, N] outputs");
    }
    out.hidden_size = h.size(2);
    out.width = lg.size(2);
    out.hidden.insert(out.hidden.end(), h.const_data_ptr<float>(), h.const_data_ptr<float>() + h.numel());
    if (hidden == nullptr) {
      for (int64_t r = 0; r < t; ++r) {
        out.argmax.push_back(argmax(lg.const_data_ptr<float>() + r * out.width, out.width));
      }
    } else {
      out.logits.insert(out.logits.end(), lg.const_data_ptr<float>(), lg.const_data_ptr<float>() + lg.numel());
    }
    out.rows += t;
    // The call as decoding pays for it: the method, and taking its outputs.
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    (hidden != nullptr ? draft_times_ : moves ? verify_times_ : verify_in_place_times_).add(t, seconds);
  }
  return out;
}

}  // namespace edgecpm
