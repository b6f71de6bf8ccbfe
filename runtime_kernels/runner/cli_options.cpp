#include "cli_options.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "bounded_file.h"
#include "runner_error.h"

namespace edgecpm {
namespace {

const char* kUsage =
    "usage: edgecpm-runner (BUNDLE | --model DIR/model.pte [--vocab DIR/vocab.bin])\n"
    "                      (--prompt TEXT [--chat] | --prompt-ids 1,604,322 | --prompt-ids-file F)\n"
    "                      [-n 32] [-t THREADS] [--stats-only] [--no-verify] [--tokenizer DIR]\n"
    "                      [--temperature T [--top-p P] [--top-k K]] [--seed S]\n"
    "                      [--spec chain|tree [--chain-len 3] [--tree 2/10/12] [--draft-vocab F]\n"
    "                       [--replay-accept A]]\n"
    "       edgecpm-runner (BUNDLE | --model DIR/model.pte | --tokenizer DIR) --tokenize FILE\n"
    "       edgecpm-runner BUNDLE --serve [--chat] [-t THREADS] [--no-verify] [--spec chain|tree ...]\n"
    "\n"
    "Text generation from an `edgecpm export` bundle (BUNDLE = --model BUNDLE/model.pte --vocab\n"
    "BUNDLE/vocab.bin). --prompt is encoded with the bundle's tokenizer (tokenizer.json, or\n"
    "SentencePiece tokenizer.model with its added tokens; --tokenizer DIR reads another directory's),\n"
    "BOS first, as `edgecpm generate`; --chat wraps it in the ChatML user turn of `generate --chat`.\n"
    "Output is streamed as text through vocab.bin; the last stdout line is a JSON object with the\n"
    "tokens and timings.\n"
    "Decoding is greedy unless --temperature > 0: then temperature -> --top-k -> --top-p (nucleus)\n"
    "-> a draw, as `edgecpm generate`; --seed makes the draws reproducible.\n"
    "--tokenize FILE: FILE holds one JSON string per line; prints each one's ids (no BOS) as a JSON\n"
    "array per line, and runs nothing.\n"
    "--serve: one process per conversation; prompts as JSON lines on stdin, tokens and stats as JSON\n"
    "lines on stdout; the KV cache is kept between turns (protocol: runner/chat_session.h).\n"
    "-t: threads for every op (edgecpm kernels and XNNPACK share one pool); default one per core.\n"
    "Before loading, the bundle's manifest.json is checked: the architecture it was exported for,\n"
    "and the sha256 of every file (model.pte included). --no-verify skips both (hashing a large\n"
    "program takes seconds); the program's own consistency checks stay on.\n"
    "\n"
    "--spec: greedy speculative decoding (same tokens, fewer base-model calls) with the draft head\n"
    "of a program exported with `edgecpm export MODEL --draft DRAFT_DIR`: a chain of --chain-len\n"
    "draft tokens, or an EAGLE-2 tree of --tree NUM_ITER/TOPK_PER_ITER/TREE_SIZE. --draft-vocab:\n"
    "the FR-Spec ids of a `--frspec` export (default: draft_vocab.bin beside the program).\n"
    "--replay-accept A (0..1): FOR PRICING SPECULATION ONLY, never a quality figure. Decodes plainly\n"
    "first (timed: the plain_* stats), then with --spec where the draft head still runs every call\n"
    "but each drafted token is replaced by the plain run's token at that position with probability A\n"
    "(else by another id; --seed seeds the draws), so the mean accepted length is set (a chain of c:\n"
    "(1-A^(c+1))/(1-A)). Verification is real, so the tokens should be the plain run's:\n"
    "replay_tokens_equal says whether they are (a warning on stderr if not). The stats add each\n"
    "method's calls by rows (verify_calls, verify_in_place_calls, draft_calls: [calls, total ms]).\n";

// A prompt longer than any KV cache is refused later anyway; this only bounds the read.
constexpr uint64_t kMaxPromptFileBytes = 16u << 20;

int parse_positive_int(const std::string& text, const std::string& flag) {
  char* end = nullptr;
  errno = 0;
  long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || value < 1 || value > 1000000) {
    throw RunnerError(flag + " expects a positive integer, got '" + text + "'");
  }
  return static_cast<int>(value);
}

int parse_int(const std::string& text, const std::string& flag, long min) {
  char* end = nullptr;
  errno = 0;
  long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || value < min || value > 1000000) {
    throw RunnerError(flag + " expects an integer >= " + std::to_string(min) + ", got '" + text + "'");
  }
  return static_cast<int>(value);
}

double parse_number(const std::string& text, const std::string& flag, double min, double max) {
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno != 0 || !std::isfinite(value) || value < min || value > max) {
    throw RunnerError(flag + " expects a number from " + std::to_string(min) + " to " + std::to_string(max) +
                      ", got '" + text + "'");
  }
  return value;
}

// --seed: 0..2^63-1, the range `edgecpm generate --seed` takes.
uint64_t parse_seed(const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || value < 0 || text[0] == '-') {
    throw RunnerError("--seed expects an integer from 0 to 2^63-1, got '" + text + "'");
  }
  return static_cast<uint64_t>(value);
}

// "2/10/12": EAGLE-2's num_iter (>= 0), topk_per_iter and tree_size (>= 1).
void parse_tree(const std::string& text, CliOptions& options) {
  const auto a = text.find('/');
  const auto b = a == std::string::npos ? a : text.find('/', a + 1);
  if (b == std::string::npos || text.find('/', b + 1) != std::string::npos) {
    throw RunnerError("--tree expects NUM_ITER/TOPK_PER_ITER/TREE_SIZE (MiniCPM4: 2/10/12), got '" + text + "'");
  }
  options.tree_num_iter = parse_int(text.substr(0, a), "--tree NUM_ITER", 0);
  options.tree_topk = parse_int(text.substr(a + 1, b - a - 1), "--tree TOPK_PER_ITER", 1);
  options.tree_size = parse_int(text.substr(b + 1), "--tree TREE_SIZE", 1);
}

// --serve reads prompts and their sampling settings from stdin, line by line.
CliOptions serve_options(CliOptions options, bool have_prompt, const std::string& sampling_flag) {
  if (have_prompt || options.sampling.temperature != 0 || options.sampling.seeded || !sampling_flag.empty() ||
      options.stats_only) {
    throw RunnerError("--serve reads each prompt and its settings from stdin (runner/chat_session.h): drop "
                      "--prompt/--prompt-ids, the sampling flags and --stats-only");
  }
  if (options.vocab_path.empty()) {
    throw RunnerError("--serve streams text: pass a BUNDLE directory (or --vocab)");
  }
  return options;
}

}  // namespace

std::vector<int64_t> parse_id_list(const std::string& text, const std::string& where) {
  std::vector<int64_t> ids;
  std::string token;
  auto flush = [&]() {
    if (token.empty()) {
      return;
    }
    char* end = nullptr;
    errno = 0;
    long long value = std::strtoll(token.c_str(), &end, 10);
    if (*end != '\0' || errno != 0 || value < 0) {
      throw RunnerError(where + ": '" + token + "' is not a token id (non-negative integer)");
    }
    ids.push_back(static_cast<int64_t>(value));
    token.clear();
  };
  for (char c : text) {
    if (c == ',' || c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      flush();
    } else {
      token.push_back(c);
    }
  }
  flush();
  if (ids.empty()) {
    throw RunnerError(where + ": no prompt token ids");
  }
  return ids;
}

CliOptions parse_cli(int argc, char** argv) {
  CliOptions options;
  bool have_prompt = false;
  std::string spec_flag;      // a drafting flag given, which only --spec uses
  std::string sampling_flag;  // --top-p/--top-k given, which only sampling uses
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        throw RunnerError(arg + " needs a value\n" + kUsage);
      }
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (arg == "--model") {
      options.model_path = value();
    } else if (!arg.empty() && arg[0] != '-' && options.model_path.empty()) {
      options.model_path = arg + "/model.pte";  // a bundle directory
      if (options.vocab_path.empty()) options.vocab_path = arg + "/vocab.bin";
    } else if (arg == "--vocab") {
      options.vocab_path = value();
    } else if (arg == "--prompt-ids") {
      options.prompt_ids = parse_id_list(value(), "--prompt-ids");
      have_prompt = true;
    } else if (arg == "--prompt-ids-file") {
      std::string path = value();
      options.prompt_ids = parse_id_list(
          read_bounded_file(path, kMaxPromptFileBytes, "the prompt ids file", "pass a file of token ids"), path);
      have_prompt = true;
    } else if (arg == "--prompt" || arg == "-p") {
      options.prompt_text = value();
      options.text_prompt = true;
      have_prompt = true;
    } else if (arg == "--serve") {
      options.serve = true;
    } else if (arg == "--chat") {
      options.chat = true;
    } else if (arg == "--tokenizer") {
      options.tokenizer_dir = value();
    } else if (arg == "--tokenize") {
      options.tokenize_path = value();
    } else if (arg == "--temperature") {
      options.sampling.temperature = parse_number(value(), arg, 0, 1e6);
    } else if (arg == "--top-p") {
      sampling_flag = arg;
      options.sampling.top_p = parse_number(value(), arg, 0, 1);
      if (options.sampling.top_p == 0) {
        throw RunnerError("--top-p 0: must be above 0 (it is the probability mass kept)");
      }
    } else if (arg == "--top-k") {
      sampling_flag = arg;
      options.sampling.top_k = parse_int(value(), arg, 0);
    } else if (arg == "--seed") {
      options.sampling.seed = parse_seed(value());
      options.sampling.seeded = true;
    } else if (arg == "-n" || arg == "--max-new-tokens") {
      options.max_new_tokens = parse_positive_int(value(), arg);
    } else if (arg == "-t" || arg == "--threads") {
      options.threads = parse_positive_int(value(), arg);
      if (options.threads > kMaxThreads) {
        throw RunnerError(arg + " " + std::to_string(options.threads) + ": at most " + std::to_string(kMaxThreads) +
                          " threads (one per core is the useful most)");
      }
    } else if (arg == "--no-verify") {
      options.verify = false;
    } else if (arg == "--stats-only") {
      options.stats_only = true;
    } else if (arg == "--spec") {
      options.spec = value();
      if (options.spec != "chain" && options.spec != "tree") {
        throw RunnerError("--spec expects chain or tree, got '" + options.spec + "'");
      }
    } else if (arg == "--chain-len") {
      spec_flag = arg;
      options.chain_len = parse_positive_int(value(), arg);
    } else if (arg == "--tree") {
      spec_flag = arg;
      parse_tree(value(), options);
    } else if (arg == "--replay-accept") {
      spec_flag = arg;
      options.replay_accept = parse_number(value(), arg, 0, 1);
    } else if (arg == "--draft-vocab") {
      spec_flag = arg;
      options.draft_vocab_path = value();
    } else {
      throw RunnerError("unknown argument '" + arg + "'\n" + kUsage);
    }
  }
  if (!options.tokenize_path.empty()) {
    if (options.model_path.empty() && options.tokenizer_dir.empty()) {
      throw RunnerError(std::string("--tokenize needs a tokenizer: pass BUNDLE, --model or --tokenizer DIR\n") + kUsage);
    }
    return options;  // nothing is generated
  }
  if (options.model_path.empty()) {
    throw RunnerError(std::string("a bundle directory or --model is required\n") + kUsage);
  }
  if (!spec_flag.empty() && options.spec.empty()) {
    throw RunnerError(spec_flag + " sets up speculative decoding: pass --spec chain or --spec tree with it");
  }
  if (options.serve) {
    if (options.replay_accept >= 0) {
      throw RunnerError("--replay-accept prices one run against plain decoding; it does not apply to --serve");
    }
    return serve_options(options, have_prompt, sampling_flag);
  }
  if (!have_prompt) {
    throw RunnerError(std::string("--prompt, --prompt-ids or --prompt-ids-file is required\n") + kUsage);
  }
  if (options.text_prompt && !options.prompt_ids.empty()) {
    throw RunnerError("--prompt and --prompt-ids/--prompt-ids-file both give the prompt: pass one");
  }
  if (options.chat && !options.text_prompt) {
    throw RunnerError("--chat wraps a text prompt: pass --prompt TEXT with it");
  }
  if (!sampling_flag.empty() && options.sampling.temperature == 0) {
    throw RunnerError(sampling_flag + " applies only when sampling (--temperature > 0); at 0 decoding is greedy");
  }
  if (options.sampling.temperature > 0 && !options.spec.empty()) {
    throw RunnerError("--spec decodes greedily in the runner; drop --temperature or --spec");
  }
  if (!spec_flag.empty() && options.spec.empty()) {
    throw RunnerError(spec_flag + " sets up speculative decoding: pass --spec chain or --spec tree with it");
  }
  if (options.vocab_path.empty() && !options.stats_only) {
    throw RunnerError(std::string("--vocab is required to print text (or pass --stats-only)\n") + kUsage);
  }
  return options;
}

}  // namespace edgecpm
