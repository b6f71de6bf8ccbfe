#include "spec_decode.h"

#include <algorithm>
#include <chrono>

#include "runner_error.h"

namespace edgecpm {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The draft's output at the last row of a call: what proposes the next token.
DraftState last_row(const SpecOutput& out) {
  const int64_t last = out.rows - 1;
  return {std::vector<float>(out.hidden_row(last), out.hidden_row(last) + out.hidden_size),
          std::vector<float>(out.logits_row(last), out.logits_row(last) + out.width)};
}

// Draft catch-up over committed pairs (hidden_j, x_{j+1}) at slots/positions first, first+1, ...
DraftState catch_up(SpecMethods& methods, int64_t max_seq_len, const std::vector<int64_t>& next_tokens,
                    std::vector<float> hidden, int64_t first) {
  SpecRows rows;
  for (size_t j = 0; j < next_tokens.size(); ++j) {
    const int64_t pos = first + static_cast<int64_t>(j);
    rows.add(next_tokens[j], pos, pos, max_seq_len, /*causal=*/true);
  }
  return last_row(methods.draft(rows, hidden));
}

// Greedy acceptance: from the root, follow the child whose token is the base's argmax at its
// parent (the first such child in node order). Returns the path and the base's next token.
std::vector<int> accept_greedy(const SpecTree& tree, const SpecOutput& verified, int64_t& bonus) {
  const auto children = tree.children();
  std::vector<int> path{0};
  int node = 0;
  while (true) {
    const int64_t best = verified.argmax[node];
    int next = -1;
    for (int c : children[node]) {
      if (tree.tokens[c] == best) {
        next = c;
        break;
      }
    }
    if (next < 0) {
      bonus = best;
      return path;
    }
    path.push_back(next);
    node = next;
  }
}

// Verify every node of a drafted tree in one base call: slots committed.., rope positions
// committed + depth, each node seeing the committed slots and its ancestors.
SpecOutput verify_tree(SpecMethods& methods, const SpecTree& tree, int64_t committed, int64_t max_seq_len,
                       SpecRows& rows) {
  const size_t nodes = tree.size();
  const std::vector<uint8_t> anc = ancestor_rows(tree.parents);
  rows.clear();
  for (size_t i = 0; i < nodes; ++i) {
    rows.add(tree.tokens[i], committed + tree.depths[i], committed + static_cast<int64_t>(i), max_seq_len,
             /*causal=*/false);
    uint8_t* mask = rows.mask.data() + i * max_seq_len;
    std::fill(mask, mask + committed, 1);
    std::copy(anc.begin() + i * nodes, anc.begin() + (i + 1) * nodes, mask + committed);
  }
  return methods.verify(rows);
}

// What a verify step keeps: the accepted path of tree nodes (root first) and the tokens it
// commits (the path's drafted tokens, then the base's own next token).
struct Accepted {
  std::vector<int> path;
  std::vector<int64_t> tokens;
};

// Greedy acceptance, and the accepted path's K/V scheduled to move to contiguous slots (inside
// the next verify call) when the path is not already in place.
Accepted accept(SpecMethods& methods, const SpecTree& tree, const SpecOutput& verified, int64_t committed) {
  Accepted kept;
  int64_t bonus = 0;
  kept.path = accept_greedy(tree, verified, bonus);
  bool in_place = true;
  for (size_t i = 0; i < kept.path.size(); ++i) {
    in_place = in_place && kept.path[i] == static_cast<int>(i);
  }
  if (!in_place) {
    std::vector<int64_t> src, dst;
    for (size_t i = 0; i < kept.path.size(); ++i) {
      src.push_back(committed + kept.path[i]);
      dst.push_back(committed + static_cast<int64_t>(i));
    }
    methods.move_on_next_verify(std::move(src), std::move(dst));
  }
  for (size_t i = 1; i < kept.path.size(); ++i) {
    kept.tokens.push_back(tree.tokens[kept.path[i]]);
  }
  kept.tokens.push_back(bonus);
  return kept;
}

}  // namespace

void check_spec_headroom(const SpecSettings& settings, size_t prompt_len, int max_new_tokens, int64_t max_seq_len,
                         const std::string& pte) {
  const int64_t headroom = std::max(settings.max_nodes(), settings.max_draft_slots() + 1);
  if (static_cast<int64_t>(prompt_len) + max_new_tokens + headroom > max_seq_len) {
    throw RunnerError("prompt (" + std::to_string(prompt_len) + " tokens) + " + std::to_string(max_new_tokens) +
                      " new tokens + " + std::to_string(headroom) + " draft slots exceeds the KV cache of " + pte +
                      " (max_seq_len " + std::to_string(max_seq_len) + "); pass a smaller -n, a smaller " +
                      "--chain-len/--tree, or re-export with a larger --max-seq-len");
  }
}

void speculative_generate(SpecMethods& methods, const DraftVocab& vocab, int64_t max_seq_len,
                          const std::vector<int64_t>& prompt, int max_new_tokens, const std::set<int64_t>& eos_ids,
                          const SpecSettings& settings, const std::function<void(int64_t)>& on_token,
                          RunStats& stats, ReplayDraft* replay) {
  SpecRunStats& spec = stats.spec;
  spec.used = true;
  auto emit = [&](const std::vector<int64_t>& tokens) {
    for (int64_t t : tokens) {
      stats.tokens.push_back(t);
      on_token(t);
      if (eos_ids.count(t)) {
        stats.stopped_on_eos = true;
        return true;
      }
      if (static_cast<int>(stats.tokens.size()) >= max_new_tokens) {
        return true;
      }
    }
    return false;
  };

  // Prefill: verify over the prompt with the causal mask (chunked inside verify).
  auto start = Clock::now();
  const int64_t n = static_cast<int64_t>(prompt.size());
  SpecRows rows;
  for (int64_t i = 0; i < n; ++i) {
    rows.add(prompt[i], i, i, max_seq_len, /*causal=*/true);
  }
  SpecOutput verified = methods.verify(rows);
  int64_t root = verified.argmax[n - 1];
  stats.prefill_s = seconds_since(start);

  const auto decode_start = Clock::now();
  // Draft catch-up over the prompt's pairs (hidden_j, x_{j+1}), j = 0..n-1.
  start = Clock::now();
  std::vector<int64_t> next_tokens(prompt.begin() + 1, prompt.end());
  next_tokens.push_back(root);
  DraftState state = catch_up(methods, max_seq_len, next_tokens, std::move(verified.hidden), 0);
  spec.draft_s += seconds_since(start);
  int64_t committed = n;
  bool done = emit({root});
  while (!done) {
    start = Clock::now();
    SpecTree tree = settings.tree
                        ? draft_tree(methods, vocab, max_seq_len, committed, state, root, settings.shape)
                        : draft_chain(methods, vocab, max_seq_len, committed, state, root, settings.chain_len);
    if (replay != nullptr) {
      replay->propose(tree, stats.tokens.size());
    }
    const auto verify_start = Clock::now();
    spec.draft_s += std::chrono::duration<double>(verify_start - start).count();
    verified = verify_tree(methods, tree, committed, max_seq_len, rows);
    const Accepted kept = accept(methods, tree, verified, committed);
    spec.verify_s += seconds_since(verify_start);
    spec.verify_steps += 1;
    spec.accepted_tokens += kept.tokens.size();
    done = emit(kept.tokens);
    if (done) {
      break;
    }
    // Draft catch-up over the committed pairs (the base's hidden at each path node, next token).
    start = Clock::now();
    std::vector<float> path_hidden;
    for (int node : kept.path) {
      path_hidden.insert(path_hidden.end(), verified.hidden_row(node), verified.hidden_row(node) + verified.hidden_size);
    }
    state = catch_up(methods, max_seq_len, kept.tokens, std::move(path_hidden), committed);
    spec.draft_s += seconds_since(start);
    committed += static_cast<int64_t>(kept.path.size());
    root = kept.tokens.back();
  }
  stats.decode_s = seconds_since(decode_start);
  spec.verify_calls = methods.verify_times();
  spec.verify_in_place_calls = methods.verify_in_place_times();
  spec.draft_calls = methods.draft_times();
}

}  // namespace edgecpm
