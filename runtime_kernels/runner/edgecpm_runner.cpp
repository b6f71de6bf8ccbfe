// edgecpm-runner: text generation from an `edgecpm export` bundle with the ExecuTorch runtime
// alone (no libtorch, no Python), for the host and for aarch64 boards.
//
//   edgecpm-runner BUNDLE --prompt TEXT [--chat] [-n 32] [--temperature T --top-p P --top-k K --seed S]
//   edgecpm-runner BUNDLE --serve [--chat]   (a long-lived chat process: chat_session.h)
//   edgecpm-runner --model DIR/model.pte --vocab DIR/vocab.bin --prompt-ids 1,604,322
//                  [--spec chain|tree ...]   (speculative decoding: spec_decode.h)
//
// A text prompt is encoded with the bundle's own tokenizer (text_tokenizer.h), BOS first, as
// `edgecpm generate` does. Output text is decoded with vocab.bin (per-id bytes), streamed as
// tokens arrive. The last stdout line is a JSON object with the generated ids and timings
// (see run_stats.h).
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <new>
#include <set>
#include <string>

#include <executorch/runtime/platform/runtime.h>

#include "bundle_manifest.h"
#include "chat_session.h"
#include "cli_options.h"
#include "draft_vocab.h"
#include "forward_call.h"
#include "pte_program.h"
#include "quiet_log.h"
#include "run_stats.h"
#include "runtime_abort.h"
#include "threads.h"
#include "spec_decode.h"
#include "spec_replay.h"
#include "runner_error.h"
#include "sampler.h"
#include "text_tokenizer.h"
#include "tokenize_lines.h"
#include "utf8_stream.h"
#include "vocab.h"

namespace edgecpm {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int64_t single_value(const PteProgram& program, const char* method) {
  auto values = program.constant_ints(method);
  if (values.size() != 1) {
    throw RunnerError(program.path() + ": method '" + method + "' should return one value");
  }
  return values[0];
}

// The directory holding `path` (a program's bundle).
std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

std::unique_ptr<TextTokenizer> bundle_tokenizer(const CliOptions& options) {
  return load_text_tokenizer(options.tokenizer_dir.empty() ? directory_of(options.model_path) : options.tokenizer_dir);
}

// --prompt as `edgecpm generate` encodes it: BOS, then the text (or its ChatML turn with --chat).
std::vector<int64_t> text_prompt_ids(const CliOptions& options, const PteProgram& program) {
  const auto tokenizer = bundle_tokenizer(options);
  std::vector<int64_t> ids{single_value(program, "get_bos_id")};
  const auto text = tokenizer->encode(options.chat ? chat_prompt(options.prompt_text) : options.prompt_text,
                                      "--prompt");
  ids.insert(ids.end(), text.begin(), text.end());
  return ids;
}

void check_prompt(const std::vector<int64_t>& prompt_ids, const CliOptions& options, int64_t max_seq_len,
                  int64_t vocab_size, const std::string& pte) {
  const auto prompt_len = static_cast<int64_t>(prompt_ids.size());
  if (prompt_len > max_seq_len) {
    throw RunnerError("the prompt has " + std::to_string(prompt_len) + " tokens but " + pte +
                      " was exported with max_seq_len " + std::to_string(max_seq_len) +
                      "; shorten the prompt or re-export with a larger --max-seq-len");
  }
  // Same budget as the Python generate(): every generated token needs a KV-cache slot.
  if (prompt_len + options.max_new_tokens > max_seq_len) {
    throw RunnerError("prompt (" + std::to_string(prompt_len) + " tokens) + " +
                      std::to_string(options.max_new_tokens) + " new tokens exceeds the KV cache of " + pte +
                      " (max_seq_len " + std::to_string(max_seq_len) + "); pass a smaller -n or re-export " +
                      "with a larger --max-seq-len");
  }
  if (options.sampling.top_k > vocab_size) {
    throw RunnerError("--top-k " + std::to_string(options.sampling.top_k) + ": " + pte + " has a vocabulary of " +
                      std::to_string(vocab_size) + " tokens; pass at most that");
  }
  for (int64_t id : prompt_ids) {
    if (id < 0 || id >= vocab_size) {
      throw RunnerError("prompt token id " + std::to_string(id) + " is outside the vocabulary of " + pte +
                        " (" + std::to_string(vocab_size) + " ids)");
    }
  }
}

void write_text(const std::string& text) {
  if (!text.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);  // stream: show each token as soon as it exists
  }
}

// Plain decoding: the prompt (in chunks of the planned size), then one call per token, each
// next token greedy or sampled (sampler.h).
void plain_generate(ForwardCall& forward, const std::vector<int64_t>& prompt_ids, const CliOptions& options,
                    const std::set<int64_t>& eos_ids, const std::function<void(int64_t)>& emit, RunStats& stats) {
  Sampler sampler(options.sampling);
  auto start = Clock::now();
  int64_t token = forward.next_token(prompt_ids, 0, sampler);
  stats.prefill_s = seconds_since(start);

  int64_t position = static_cast<int64_t>(prompt_ids.size());
  start = Clock::now();
  std::vector<int64_t> step(1);
  while (true) {
    stats.tokens.push_back(token);
    emit(token);
    if (eos_ids.count(token)) {
      stats.stopped_on_eos = true;
      break;
    }
    if (static_cast<int>(stats.tokens.size()) >= options.max_new_tokens) {
      break;
    }
    step[0] = token;
    token = forward.next_token(step, position++, sampler);
  }
  stats.decode_s = seconds_since(start);
}

// --replay-accept: plain greedy decoding (the baseline, and the tokens to replay), then the
// speculative run proposing them (spec_replay.h). Both share the base KV cache; each run writes
// the slots it reads and masks the rest, so the first leaves nothing the second can see.
void replay_generate(ForwardCall& forward, SpecMethods& spec, const DraftVocab& draft_vocab, int64_t max_seq_len,
                     int64_t vocab_size, const std::vector<int64_t>& prompt_ids, const CliOptions& options,
                     const std::set<int64_t>& eos_ids, const SpecSettings& settings,
                     const std::function<void(int64_t)>& emit, RunStats& stats) {
  RunStats plain;
  plain_generate(forward, prompt_ids, options, eos_ids, [](int64_t) {}, plain);
  stats.replay.used = true;
  stats.replay.accept = options.replay_accept;
  stats.replay.plain_prefill_s = plain.prefill_s;
  stats.replay.plain_decode_s = plain.decode_s;
  stats.replay.plain_tokens = plain.tokens.size();
  ReplayDraft replay(plain.tokens, options.replay_accept, vocab_size,
                     options.sampling.seeded ? options.sampling.seed : 0);
  speculative_generate(spec, draft_vocab, max_seq_len, prompt_ids, options.max_new_tokens, eos_ids, settings, emit,
                       stats, &replay);
  // Verification is real, so the tokens should be plain greedy's; where verify's arithmetic
  // differs from forward's (a near-tie decided the other way), the stats say from which token,
  // and stderr says so: the timings of such a run still stand, its acceptance does not.
  size_t at = 0;
  while (at < stats.tokens.size() && at < plain.tokens.size() && stats.tokens[at] == plain.tokens[at]) ++at;
  stats.replay.tokens_equal = stats.tokens == plain.tokens;
  stats.replay.first_difference = stats.replay.tokens_equal ? -1 : static_cast<int64_t>(at);
  if (!stats.replay.tokens_equal) {
    std::fprintf(stderr, "edgecpm-runner: warning: %s: speculative decoding gave different tokens from plain "
                 "greedy decoding from generated token %zu (verify and forward disagree there)\n",
                 options.model_path.c_str(), at);
  }
}

int run(const CliOptions& options) {
  if (!options.tokenize_path.empty()) {
    tokenize_lines(*bundle_tokenizer(options), options.tokenize_path);
    return 0;
  }
  RunStats stats;

  if (options.threads > 0) set_thread_count(options.threads);
  stats.threads = thread_count();
  // Python's PteModel order: the manifest (architecture, then checksums) before the program.
  const auto verify_start = Clock::now();
  PteProgram::require_file(options.model_path);
  BundleManifest manifest;
  if (options.verify) {
    manifest = read_bundle_manifest(options.model_path);
    check_bundle_arch(manifest);
    verify_bundle_checksums(manifest, options.model_path);
  }
  stats.verify_s = seconds_since(verify_start);
  const auto load_start = Clock::now();
  set_runner_abort_subject(options.model_path, options.verify);
  auto program = PteProgram::open(options.model_path);
  const int64_t max_seq_len = single_value(*program, "get_max_seq_len");
  const int64_t vocab_size = single_value(*program, "get_vocab_size");
  if (max_seq_len < 1 || vocab_size < 1) {
    throw RunnerError(options.model_path + ": says max_seq_len " + std::to_string(max_seq_len) + " and vocab_size " +
                      std::to_string(vocab_size) + "; the program is damaged: re-run `edgecpm export`");
  }
  if (options.verify) {
    check_manifest_matches_program(manifest, max_seq_len, vocab_size, options.model_path);
  }
  const auto eos_list = program->constant_ints("get_eos_ids");
  const std::set<int64_t> eos_ids(eos_list.begin(), eos_list.end());
  // --serve reads its prompts later, from stdin (chat_session.h).
  std::unique_ptr<TextTokenizer> serve_tokenizer = options.serve ? bundle_tokenizer(options) : nullptr;
  const std::vector<int64_t> prompt_ids =
      options.serve ? std::vector<int64_t>{} : options.text_prompt ? text_prompt_ids(options, *program) : options.prompt_ids;
  stats.prompt_tokens = prompt_ids.size();
  if (!options.serve) check_prompt(prompt_ids, options, max_seq_len, vocab_size, options.model_path);

  Vocab vocab;
  if (!options.vocab_path.empty()) {
    vocab = Vocab::load(options.vocab_path);
    if (static_cast<int64_t>(vocab.size()) != vocab_size) {
      throw RunnerError(options.vocab_path + ": has " + std::to_string(vocab.size()) + " ids but " +
                        options.model_path + " has a vocabulary of " + std::to_string(vocab_size) +
                        "; use the vocab.bin of the same bundle");
    }
  }
  // Speculative decoding runs on verify/draft alone; plain decoding on forward.
  std::unique_ptr<SpecMethods> spec;
  std::unique_ptr<ForwardCall> forward;  // plain decoding; with --replay-accept, its baseline run
  DraftVocab draft_vocab;
  SpecSettings settings;
  if (!options.spec.empty()) {
    settings.tree = options.spec == "tree";
    settings.chain_len = options.chain_len;
    settings.shape = {options.tree_num_iter, options.tree_topk, options.tree_size};
    if (!options.serve) {
      check_spec_headroom(settings, prompt_ids.size(), options.max_new_tokens, max_seq_len, options.model_path);
    }
    spec = std::make_unique<SpecMethods>(*program, max_seq_len);
    draft_vocab = DraftVocab::for_program(options.draft_vocab_path, options.model_path, spec->draft_width(), vocab_size);
  }
  if (options.spec.empty() || options.replay_accept >= 0) {
    // forward_last (edgecpm export writes it) runs the LM head on the last row only; older
    // programs have forward alone, which gives every row's logits.
    const char* method = program->has_method("forward_last") ? "forward_last" : "forward";
    forward = std::make_unique<ForwardCall>(program->load_method(method), options.model_path);
  }
  stats.load_s = seconds_since(load_start);

  if (options.serve) {
    ServeModel model;
    model.forward = forward.get();
    model.spec = spec.get();
    model.draft_vocab = &draft_vocab;
    model.spec_settings = settings;
    model.tokenizer = serve_tokenizer.get();
    model.vocab = &vocab;
    model.eos_ids = eos_ids;
    model.bos_id = single_value(*program, "get_bos_id");
    model.max_seq_len = max_seq_len;
    model.vocab_size = vocab_size;
    model.chat = options.chat;
    model.program_path = options.model_path;
    return serve(model, "\"verify_ms\":" + std::to_string(stats.verify_s * 1e3) + ",\"load_ms\":" +
                            std::to_string(stats.load_s * 1e3) + ",\"threads\":" + std::to_string(stats.threads));
  }

  const bool print_text = !options.stats_only;
  Utf8Stream text;
  bool text_ends_with_newline = true;  // nothing printed yet counts as "at a line start"
  auto emit = [&](int64_t token) {
    // The eos token ends the answer; its text ("</s>", "<|im_end|>") is not part of it.
    if (!print_text || eos_ids.count(token)) {
      return;
    }
    std::string ready = text.push(vocab.bytes_of(token));
    write_text(ready);
    if (!ready.empty()) {
      text_ends_with_newline = ready.back() == '\n';
    }
  };

  if (spec && options.replay_accept >= 0) {
    replay_generate(*forward, *spec, draft_vocab, max_seq_len, vocab_size, prompt_ids, options, eos_ids, settings, emit, stats);
  } else if (spec) {
    speculative_generate(*spec, draft_vocab, max_seq_len, prompt_ids, options.max_new_tokens, eos_ids,
                         settings, emit, stats);
  } else {
    plain_generate(*forward, prompt_ids, options, eos_ids, emit, stats);
  }

  if (print_text) {
    std::string rest = text.flush();
    write_text(rest);
    if (!rest.empty()) {
      text_ends_with_newline = rest.back() == '\n';
    }
    if (!text_ends_with_newline) {
      write_text("\n");  // so the JSON line is a line of its own
    }
  }
  std::printf("%s\n", stats_json(stats, peak_rss_mb()).c_str());
  return 0;
}

}  // namespace
}  // namespace edgecpm

int main(int argc, char** argv) {
  edgecpm::install_quiet_log();
  executorch::runtime::runtime_init();
  try {
    return edgecpm::run(edgecpm::parse_cli(argc, argv));
  } catch (const edgecpm::RunnerError& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "edgecpm-runner: error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    // A damaged program can plan more memory than exists; the size came from the file.
    std::fflush(stdout);
    std::fprintf(stderr, "edgecpm-runner: error: out of memory (a damaged program can plan more memory than "
                 "exists: re-run `edgecpm export`, and keep checksum verification on)\n");
    return 1;
  }
}
