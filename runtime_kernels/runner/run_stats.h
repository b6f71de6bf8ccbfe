// The runner's result line: one JSON object, the last line of stdout, for scripts and tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace edgecpm {

// Speculative decoding (--spec): per-step figures, as toolchain/edgecpm/speculative/decode.py.
struct SpecRunStats {
  bool used = false;
  size_t verify_steps = 0;
  size_t accepted_tokens = 0;  // tokens emitted by verify steps (accepted drafts + the base's own)
  double draft_s = 0;          // draft head calls: catch-up and drafting
  double verify_s = 0;         // verify calls and acceptance
};

struct RunStats {
  size_t prompt_tokens = 0;
  std::vector<int64_t> tokens;  // generated ids, the eos id included when generation stopped on it
  bool stopped_on_eos = false;
  int threads = 1;       // the thread pool's size during the run (-t)
  double verify_s = 0;   // manifest.json's checks (hashing every file); 0 with --no-verify
  double load_s = 0;     // program + method load, before the prompt
  double prefill_s = 0;  // the prompt's forward call and its argmax (= time to first token)
  double decode_s = 0;   // the one-token calls after it (speculative: everything after prefill)
  SpecRunStats spec;
};

// Conventions as toolchain/edgecpm/generate.py: decode_tok_s counts the tokens made by decode
// calls (the first generated token comes out of prefill). With spec.used it adds verify_steps,
// mean_accepted (tokens per verify step; plain decoding is 1), draft_s and verify_s.
std::string stats_json(const RunStats& stats, double peak_rss_mb);

// Peak resident set size of this process so far, in MiB (getrusage ru_maxrss).
double peak_rss_mb();

}  // namespace edgecpm
