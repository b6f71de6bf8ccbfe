// Command line of edgecpm-runner.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sampler.h"

namespace edgecpm {

struct CliOptions {
  std::string model_path;   // --model DIR/model.pte
  std::string vocab_path;   // --vocab DIR/vocab.bin (may be empty with --stats-only)
  std::vector<int64_t> prompt_ids;   // --prompt-ids / --prompt-ids-file
  bool text_prompt = false;          // --prompt TEXT: encoded with the bundle's tokenizer, BOS first
  std::string prompt_text;
  bool serve = false;                // --serve: a long-lived chat process (chat_session.h)
  bool chat = false;                 // --chat: the prompt as one ChatML user turn (Python's --chat)
  std::string tokenizer_dir;         // --tokenizer DIR; default: the program's directory
  std::string tokenize_path;         // --tokenize FILE: print each line's ids and exit (no program run)
  SamplingSettings sampling;         // --temperature/--top-p/--top-k/--seed; greedy by default
  int max_new_tokens = 32;  // -n
  bool stats_only = false;  // no streamed text, only the final JSON line
  int threads = 0;          // -t N: every op's thread count; 0 = ExecuTorch's default (one per core)
  bool verify = true;       // manifest.json's arch and sha256 checks (bundle_manifest.h); --no-verify
  // Speculative decoding over the program's verify/draft methods (`edgecpm export --draft`).
  std::string spec;         // --spec chain|tree; empty = plain decoding with forward
  int chain_len = 3;        // --chain-len K
  int tree_num_iter = 2;    // --tree I/K/N (EAGLE-2; MiniCPM4's 2/10/12)
  int tree_topk = 10;
  int tree_size = 12;
  std::string draft_vocab_path;  // --draft-vocab FILE (FR-Spec ids); default DIR/draft_vocab.bin when needed
  // --replay-accept A: benchmarks only (spec_replay.h); a plain greedy run first, then --spec with
  // its tokens as proposals, each kept with probability A. Negative = off.
  double replay_accept = -1;
};

// More threads than this is a typo, not a configuration (each costs a stack and a pool slot).
constexpr int kMaxThreads = 256;

// Throws RunnerError for a bad command line; prints usage and exits 0 for --help.
CliOptions parse_cli(int argc, char** argv);

// "1,604, 322" or whitespace/newline separated ids (a --prompt-ids-file may hold either).
std::vector<int64_t> parse_id_list(const std::string& text, const std::string& where);

}  // namespace edgecpm
