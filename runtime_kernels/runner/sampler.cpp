#include "sampler.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>

#include "argmax.h"

namespace edgecpm {

std::vector<float> sampling_weights(const float* logits, int64_t n, const SamplingSettings& settings) {
  std::vector<float> scaled(logits, logits + n);
  const auto temperature = static_cast<float>(settings.temperature);
  for (auto& v : scaled) v /= temperature;
  if (settings.top_k > 0) {
    std::vector<float> sorted = scaled;
    const int64_t k = std::min<int64_t>(settings.top_k, n);
    std::nth_element(sorted.begin(), sorted.begin() + (k - 1), sorted.end(), std::greater<float>());
    const float kth = sorted[k - 1];
    for (auto& v : scaled) {
      if (v < kth) v = -std::numeric_limits<float>::infinity();
    }
  }
  const float max = *std::max_element(scaled.begin(), scaled.end());
  double total = 0;
  std::vector<float> probs(n);
  for (int64_t i = 0; i < n; ++i) {
    probs[i] = std::exp(scaled[i] - max);
    total += probs[i];
  }
  for (auto& p : probs) p = static_cast<float>(p / total);
  if (settings.top_p < 1.0) {
    std::vector<int64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return probs[a] > probs[b]; });
    // Keep the smallest prefix whose mass reaches top_p (at least one token), in float32 as torch.
    const auto top_p = static_cast<float>(settings.top_p);
    float cumulative = 0;
    std::vector<bool> drop(n, false);
    for (int64_t i = 0; i < n; ++i) {
      const float p = probs[order[i]];
      cumulative += p;
      drop[order[i]] = cumulative - p >= top_p;
    }
    for (int64_t i = 0; i < n; ++i) {
      if (drop[i]) probs[i] = 0;
    }
  }
  return probs;
}

Sampler::Sampler(const SamplingSettings& settings) : settings_(settings) {
  if (settings.seeded) {
    rng_.seed(settings.seed);
  } else {
    std::random_device device;
    rng_.seed(static_cast<uint64_t>(device()) << 32 | device());
  }
}

int64_t Sampler::next(const float* logits, int64_t n) {
  if (greedy()) {
    return argmax(logits, n);
  }
  const std::vector<float> weights = sampling_weights(logits, n, settings_);
  double total = 0;
  for (float w : weights) total += w;
  // 53 random bits: a uniform double in [0, 1), the same on every platform (std's distributions
  // are implementation-defined).
  const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53 * total;
  double cumulative = 0;
  int64_t last_positive = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (weights[i] <= 0) continue;
    cumulative += weights[i];
    last_positive = i;
    if (u < cumulative) return i;
  }
  return last_positive;  // u within rounding of the total
}

}  // namespace edgecpm
