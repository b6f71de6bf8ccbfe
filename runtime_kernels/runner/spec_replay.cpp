#include "spec_replay.h"

#include <utility>

namespace edgecpm {

ReplayDraft::ReplayDraft(std::vector<int64_t> reference, double accept, int64_t vocab_size, uint64_t seed)
    : reference_(std::move(reference)), accept_(accept), vocab_size_(vocab_size), rng_(seed) {}

void ReplayDraft::propose(SpecTree& tree, size_t emitted) {
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  std::uniform_int_distribution<int64_t> other(1, vocab_size_ - 1);
  for (size_t i = 1; i < tree.size(); ++i) {
    const int64_t at = static_cast<int64_t>(emitted) - 1 + tree.depths[i];
    if (at < 0 || at >= static_cast<int64_t>(reference_.size())) {
      continue;
    }
    const int64_t want = reference_[at];
    // Both draws every node, so the stream of draws does not depend on the outcome.
    const bool keep = coin(rng_) < accept_;
    const int64_t shift = other(rng_);
    tree.tokens[i] = keep ? want : (want + shift) % vocab_size_;  // shift in 1..V-1: never `want`
  }
}

}  // namespace edgecpm
