// Greedy choice over a logits row, as torch.argmax: the first index of the maximum on ties
// (the runner's tokens must equal the Python runtime's).
#pragma once

#include <cstdint>

namespace edgecpm {

inline int64_t argmax(const float* row, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i) {
    if (row[i] > row[best]) {
      best = i;
    }
  }
  return best;
}

}  // namespace edgecpm
