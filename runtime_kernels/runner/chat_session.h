// The serving runner (`edgecpm-runner BUNDLE --serve [--chat]`): one process per conversation
// that loads the program once and keeps its KV cache between turns, so a second message prefills
// only its own tokens. The Android demo app runs it; any program can, over stdin/stdout:
//
// stdin, one JSON object per line:
//   {"prompt": TEXT, "max_new_tokens": N, "temperature": T, "top_p": P, "top_k": K, "seed": S}
//       a turn (all but "prompt" optional: 128 tokens, greedy); with --chat, TEXT is the user's
//       message and goes in as a ChatML user turn followed by the assistant's opening.
//       max_new_tokens is cut to what the cache has left (the answer then ends with reason
//       "length" at a full context); a prompt that leaves no room is refused
//   {"command": "stop"}    while an answer streams: end it after the current token
//   {"command": "reset"}   a new conversation (the cache is overwritten from position 0)
// stdout, one JSON object per line:
//   {"event":"ready", "pid", "max_seq_len", "vocab_size", "chat", "spec", "verify_ms", "load_ms", "threads"}
//   {"event":"token", "id": ID, "text": TEXT}   per generated token; TEXT is "" for the eos token
//       and while an incomplete UTF-8 character is held back (the turn's last line carries it)
//   {"event":"done", "reason": "eos"|"length"|"stop", "position": P, "max_seq_len": M, stats}
//       stats as run_stats.h's line: prompt_tokens counts only this turn's new tokens (verify_ms
//       and load_ms are 0 there: the ready line has the one load)
//   {"event":"error", "message": TEXT}   a refused line (bad JSON, a full conversation):
//       nothing changed, the next line is read as usual
// The process ends at the end of stdin; a failure of the program itself is the usual stderr line
// and exit status 1.
//
// What the cache holds: every turn's ids and the answers' tokens as generated (not re-encoded
// from their text), so a conversation equals one greedy run over their concatenation. An answer's
// last token is fed at the start of the next turn; with --chat an answer that did not end with
// "<|im_end|>" (stopped, or out of tokens) is closed with one before the next user turn.
//
// With --spec, turns run speculative decoding over the whole conversation each time (the
// speculative path starts at position 0: its draft head needs the base model's features for
// every position), so they re-prefill it; the done line's prompt_tokens says how many.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "draft_vocab.h"
#include "forward_call.h"
#include "spec_decode.h"
#include "spec_methods.h"
#include "text_tokenizer.h"
#include "vocab.h"

namespace edgecpm {

struct ServeModel {
  ForwardCall* forward = nullptr;  // plain decoding; null with --spec
  SpecMethods* spec = nullptr;     // --spec
  const DraftVocab* draft_vocab = nullptr;
  SpecSettings spec_settings;
  const TextTokenizer* tokenizer = nullptr;
  const Vocab* vocab = nullptr;
  std::set<int64_t> eos_ids;
  int64_t bos_id = 0;
  int64_t max_seq_len = 0;
  int64_t vocab_size = 0;
  bool chat = false;
  std::string program_path;
};

// Writes the ready line (`ready_fields`: its timing members, as `"verify_ms":1.0,...`), then
// answers stdin's lines until it ends. Returns the exit status.
int serve(const ServeModel& model, const std::string& ready_fields);

}  // namespace edgecpm
