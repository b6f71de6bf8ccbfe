// The two speculative-decoding methods of a program exported with `edgecpm export MODEL --draft
// DRAFT_DIR` (contract: toolchain/edgecpm/export/spec_methods.py):
//
//   verify(tokens [1,T], input_pos [T], cache_pos [T], attn_mask bool [T,S], move_src [M],
//          move_dst [M]) -> (hidden f32 [1,T,h], logits f32 [1,T,vocab])
//   verify_in_place(tokens, input_pos, cache_pos, attn_mask) -> (hidden, logits): verify with
//          nothing to move (the moves copy every layer's whole cache), used whenever it can be
//   draft(tokens [1,T], hidden f32 [1,T,h], input_pos [T], cache_pos [T], attn_mask [T,S])
//          -> (hidden f32 [1,T,h], logits f32 [1,T,N])
//
// S is max_seq_len, T at most the exported chunk (the tokens input's planned size); longer inputs
// (a prompt) go in chunk-sized calls. Outputs are copied out of the method: all methods share
// the program's planned arenas, so the next call (of either method) overwrites them. Greedy
// verification reads only each row's argmax, so verify copies out the argmax, not the
// [T, vocab] float logits (294 KB a row at MiniCPM4's 73448 ids).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pte_program.h"
#include "run_stats.h"

namespace edgecpm {

// One call's rows: a token, its rope position, the cache slot it writes and the slots it sees.
struct SpecRows {
  std::vector<int64_t> tokens;
  std::vector<int64_t> input_pos;
  std::vector<int64_t> cache_pos;
  std::vector<uint8_t> mask;  // rows x max_seq_len, 1 = may attend to that slot

  size_t size() const { return tokens.size(); }
  void clear();
  // Appends a row; `causal` gives it the causal mask of its position (slots <= input_pos).
  void add(int64_t token, int64_t input_pos, int64_t cache_pos, int64_t max_seq_len, bool causal);
};

// A call's outputs, row-major copies.
struct SpecOutput {
  int64_t rows = 0;
  int64_t hidden_size = 0;
  int64_t width = 0;            // logits per row: vocab (verify), vocab or the FR-Spec subset (draft)
  std::vector<float> hidden;    // rows x hidden_size
  std::vector<float> logits;    // rows x width (draft only)
  std::vector<int64_t> argmax;  // per row, first index on ties as torch.argmax (verify only)

  const float* hidden_row(int64_t i) const { return hidden.data() + i * hidden_size; }
  const float* logits_row(int64_t i) const { return logits.data() + i * width; }
};

class SpecMethods {
 public:
  // Throws RunnerError (naming the program, saying how to re-export) when it lacks the methods.
  SpecMethods(const PteProgram& program, int64_t max_seq_len);

  SpecOutput verify(const SpecRows& rows);
  // `hidden`: rows x hidden_size, the base hidden state paired with each row's token.
  SpecOutput draft(const SpecRows& rows, const std::vector<float>& hidden);

  // The accepted path's cache slots to compact; done by the next verify call, before its forward.
  void move_on_next_verify(std::vector<int64_t> src, std::vector<int64_t> dst);

  int64_t chunk() const { return chunk_; }
  const CallTimes& verify_times() const { return verify_times_; }
  const CallTimes& verify_in_place_times() const { return verify_in_place_times_; }
  const CallTimes& draft_times() const { return draft_times_; }
  int64_t hidden_size() const { return hidden_size_; }
  int64_t draft_width() const { return draft_width_; }

 private:
  // verify (hidden == nullptr: verify_in_place when nothing moves and the program has it) or draft.
  SpecOutput run(const SpecRows& rows, const std::vector<float>* hidden);

  std::string path_;
  int64_t max_seq_len_;
  int64_t chunk_ = 0;
  int64_t hidden_size_ = 0;
  int64_t draft_width_ = 0;
  std::unique_ptr<LoadedMethod> verify_;
  std::unique_ptr<LoadedMethod> draft_;
  std::unique_ptr<LoadedMethod> verify_in_place_;  // null for programs exported without it
  std::vector<int64_t> move_src_{0};
  std::vector<int64_t> move_dst_{0};
  bool move_pending_ = false;
  CallTimes verify_times_;
  CallTimes verify_in_place_times_;
  CallTimes draft_times_;
};

}  // namespace edgecpm
