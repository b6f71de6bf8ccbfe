// The runner's result line: one JSON object, the last line of stdout, for scripts and tests.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace edgecpm {

// Wall time of a method's calls by row count T: what one verify(T) or draft(T) costs.
struct CallTimes {
  struct Entry {
    size_t calls = 0;
    double seconds = 0;
  };
  std::map<int64_t, Entry> by_rows;
  void add(int64_t rows, double seconds) {
    Entry& e = by_rows[rows];
    e.calls += 1;
    e.seconds += seconds;
  }
};

// Speculative decoding (--spec): per-step figures, as toolchain/edgecpm/speculative/decode.py.
struct SpecRunStats {
  bool used = false;
  size_t verify_steps = 0;
  size_t accepted_tokens = 0;  // tokens emitted by verify steps (accepted drafts + the base's own)
  double draft_s = 0;          // draft head calls: catch-up and drafting
  double verify_s = 0;         // verify calls and acceptance
  CallTimes verify_calls;      // verify calls that move cache slots (or every one, on older programs), by rows
  CallTimes verify_in_place_calls;  // verify_in_place calls (prefill chunks included)
  CallTimes draft_calls;
};

// --replay-accept (spec_replay.h): the plain greedy run made first, in the same process, whose
// tokens the replay draft proposes and whose timings are the baseline.
struct ReplayRunStats {
  bool used = false;
  double accept = 0;          // per-token probability a proposal is the reference token
  double plain_prefill_s = 0;
  double plain_decode_s = 0;  // its one-token forward calls
  size_t plain_tokens = 0;
  bool tokens_equal = true;       // the speculative run's tokens are the plain run's
  int64_t first_difference = -1;  // else the first generated index where they differ
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
  ReplayRunStats replay;
};

// Conventions as toolchain/edgecpm/generate.py: decode_tok_s counts the tokens made by decode
// calls (the first generated token comes out of prefill). With spec.used it adds verify_steps,
// mean_accepted (tokens per verify step; plain decoding is 1), draft_s, verify_s and
// verify_calls / verify_in_place_calls / draft_calls ({"T": [calls, total ms]}); with replay.used, replay_accept and the
// plain run's plain_ttft_ms, plain_decode_tok_s and plain_forward_ms (per one-token call), and
// replay_tokens_equal / replay_first_difference (-1 when equal).
std::string stats_json(const RunStats& stats, double peak_rss_mb);

// Peak resident set size of this process so far, in MiB (getrusage ru_maxrss).
double peak_rss_mb();

}  // namespace edgecpm
