// The replay draft, for pricing speculative decoding only (`edgecpm-runner --replay-accept A`).
//
// Speed does not depend on weight values, acceptance does. The replay draft makes acceptance a
// setting: the real draft head still runs every call at its real shapes (its cost is real), then
// each drafted node's token is replaced by the token a plain greedy run of the same program and
// prompt produced at that position, kept with probability A and otherwise replaced by another id.
// Verification stays real, so the output is still plain greedy decoding (the runner compares).
// A chain of c tokens then accepts (1 - A^(c+1)) / (1 - A) tokens per step on average, the base
// model's own token included. It says nothing about any draft's quality.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "spec_tree.h"

namespace edgecpm {

class ReplayDraft {
 public:
  // `reference`: the plain greedy run's generated tokens; `accept` in [0, 1]; `vocab_size` > 1.
  ReplayDraft(std::vector<int64_t> reference, double accept, int64_t vocab_size, uint64_t seed);

  // Rewrites the drafted nodes of `tree` (root excluded) whose root is the `emitted`-th generated
  // token: a node at depth d stands for reference[emitted - 1 + d]. Nodes past the reference's
  // end keep the draft's tokens (generation stops before they could count).
  void propose(SpecTree& tree, size_t emitted);

 private:
  std::vector<int64_t> reference_;
  double accept_;
  int64_t vocab_size_;
  std::mt19937_64 rng_;
};

}  // namespace edgecpm
