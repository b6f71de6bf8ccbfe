// Choosing the next token from a logits row, as toolchain/edgecpm/runtime/sampling.py: greedy at
// temperature 0 (argmax, first index on ties: the runner's tokens stay Python's greedy tokens),
// else temperature -> top-k -> top-p (nucleus) -> one draw. The draws come from a seeded
// mt19937_64, so --seed reproduces a run of the runner (not torch's random stream: the
// distribution is the same, the draws are not).
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace edgecpm {

struct SamplingSettings {
  double temperature = 0;  // 0 = greedy
  double top_p = 1;        // (0, 1]; 1 = off
  int64_t top_k = 0;       // 0 = off
  bool seeded = false;     // false: seeded from std::random_device
  uint64_t seed = 0;
};

// The unnormalised weights a draw is made from (temperature > 0), as sampling_weights(): logits /
// temperature; those below the k-th largest to -inf (ties with it kept); softmax; then, in
// descending order, every token whose preceding mass already reaches top_p set to 0.
std::vector<float> sampling_weights(const float* logits, int64_t n, const SamplingSettings& settings);

class Sampler {
 public:
  explicit Sampler(const SamplingSettings& settings);

  // The next token for one logits row of n entries.
  int64_t next(const float* logits, int64_t n);
  bool greedy() const { return settings_.temperature == 0; }

 private:
  SamplingSettings settings_;
  std::mt19937_64 rng_;
};

}  // namespace edgecpm
