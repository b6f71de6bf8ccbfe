// Calls of the exported LLM: forward(tokens int64 [1, T], input_pos int64 [T]) -> logits
// float32 [1, T, vocab]. The KV cache is a mutable buffer of the loaded Method, so successive
// calls on the same ForwardCall continue one sequence. T is at most the program's planned chunk
// (activation memory is planned for the largest call): longer inputs go in several calls.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pte_program.h"
#include "sampler.h"

namespace edgecpm {

class ForwardCall {
 public:
  ForwardCall(std::unique_ptr<LoadedMethod> method, std::string program_path);

  // Feeds `tokens` at positions start_pos, start_pos+1, ... and returns the next token as
  // `sampler` picks it from the last logits row (greedy: the argmax, first index on ties, as
  // torch.argmax).
  int64_t next_token(const std::vector<int64_t>& tokens, int64_t start_pos, Sampler& sampler);

 private:
  // Runs one chunk; returns its last logits row (valid until the next call) and its width.
  const float* run_chunk(const int64_t* tokens, int64_t count, int64_t start_pos, int64_t* vocab);

  std::unique_ptr<LoadedMethod> method_;  // (declared first: chunk_ reads it)
  std::string program_path_;
  int64_t chunk_;                   // the largest T the program was planned for
  std::vector<int64_t> positions_;  // scratch for input_pos, reused across calls
};

}  // namespace edgecpm
