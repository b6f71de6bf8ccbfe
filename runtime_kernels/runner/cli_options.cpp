#include "cli_options.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "bounded_file.h"
#include "runner_error.h"

namespace edgecpm {
namespace {

const char* kUsage =
    "usage: edgecpm-runner --model DIR/model.pte --vocab DIR/vocab.bin\n"
    "                      (--prompt-ids 1,604,322 | --prompt-ids-file F) [-n 32] [-t THREADS] [--stats-only]\n"
    "                      [--no-verify]\n"
    "                      [--spec chain|tree [--chain-len 3] [--tree 2/10/12] [--draft-vocab F]]\n"
    "\n"
    "Greedy generation from an `edgecpm export` bundle. The prompt is given as token ids: this\n"
    "runner has no tokenizer for encoding (the Python CLI tokenizes); it decodes output through\n"
    "vocab.bin. The last stdout line is a JSON object with the tokens and timings.\n"
    "-t: threads for every op (edgecpm kernels and XNNPACK share one pool); default one per core.\n"
    "Before loading, the bundle's manifest.json is checked: the architecture it was exported for,\n"
    "and the sha256 of every file (model.pte included). --no-verify skips both (hashing a large\n"
    "program takes seconds); the program's own consistency checks stay on.\n"
    "\n"
    "--spec: greedy speculative decoding (same tokens, fewer base-model calls) with the draft head\n"
    "of a program exported with `edgecpm export MODEL --draft DRAFT_DIR`: a chain of --chain-len\n"
    "draft tokens, or an EAGLE-2 tree of --tree NUM_ITER/TOPK_PER_ITER/TREE_SIZE. --draft-vocab:\n"
    "the FR-Spec ids of a `--frspec` export (default: draft_vocab.bin beside the program).\n";

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
  std::string spec_flag;  // a drafting flag given, which only --spec uses
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
    } else if (arg == "--draft-vocab") {
      spec_flag = arg;
      options.draft_vocab_path = value();
    } else {
      throw RunnerError("unknown argument '" + arg + "'\n" + kUsage);
    }
  }
  if (options.model_path.empty()) {
    throw RunnerError(std::string("--model is required\n") + kUsage);
  }
  if (!have_prompt) {
    throw RunnerError(std::string("--prompt-ids or --prompt-ids-file is required\n") + kUsage);
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
