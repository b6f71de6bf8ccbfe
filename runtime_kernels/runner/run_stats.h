// The runner's result line: one JSON object, the last line of stdout, for scripts and tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace edgecpm {

struct RunStats {
  size_t prompt_tokens = 0;
  std::vector<int64_t> tokens;  // generated ids, the eos id included when generation stopped on it
  bool stopped_on_eos = false;
  double load_s = 0;     // program + method load, before the prompt
  double prefill_s = 0;  // the prompt's forward call and its argmax (= time to first token)
  double decode_s = 0;   // the one-token calls after it
};

// Conventions as toolchain/edgecpm/generate.py: decode_tok_s counts the tokens made by decode
// calls (the first generated token comes out of prefill).
std::string stats_json(const RunStats& stats, double peak_rss_mb);

// Peak resident set size of this process so far, in MiB (getrusage ru_maxrss).
double peak_rss_mb();

}  // namespace edgecpm
