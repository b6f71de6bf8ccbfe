// Draws from the runner's sampler (sampler.h) over fixed logits, for
// tests/runner/test_runner_sampling.py to compare with Python's sampling_weights:
//
//   edgecpm_sampling_check LOGITS_FILE TEMPERATURE TOP_P TOP_K SEED DRAWS
//
// LOGITS_FILE holds whitespace-separated floats. Prints two lines: the normalised weights
// (sampling_weights / their sum, %.9g) and how often each index was drawn in DRAWS calls of
// Sampler::next with that seed.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "sampler.h"

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: %s LOGITS_FILE TEMPERATURE TOP_P TOP_K SEED DRAWS\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[1]);
  std::vector<float> logits;
  for (float v; in >> v;) logits.push_back(v);
  if (logits.empty()) {
    std::fprintf(stderr, "error: no logits in %s\n", argv[1]);
    return 1;
  }
  edgecpm::SamplingSettings settings;
  settings.temperature = std::strtod(argv[2], nullptr);
  settings.top_p = std::strtod(argv[3], nullptr);
  settings.top_k = std::strtoll(argv[4], nullptr, 10);
  settings.seeded = true;
  settings.seed = std::strtoull(argv[5], nullptr, 10);
  const long draws = std::strtol(argv[6], nullptr, 10);
  const auto n = static_cast<int64_t>(logits.size());

  const auto weights = edgecpm::sampling_weights(logits.data(), n, settings);
  double total = 0;
  for (float w : weights) total += w;
  for (int64_t i = 0; i < n; ++i) std::printf("%s%.9g", i ? " " : "", weights[i] / total);
  std::printf("\n");

  edgecpm::Sampler sampler(settings);
  std::vector<long> counts(n, 0);
  for (long d = 0; d < draws; ++d) ++counts[sampler.next(logits.data(), n)];
  for (int64_t i = 0; i < n; ++i) std::printf("%s%ld", i ? " " : "", counts[i]);
  std::printf("\n");
  return 0;
}
