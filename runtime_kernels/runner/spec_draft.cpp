#include "spec_draft.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include "argmax.h"

namespace edgecpm {
namespace {

// log_softmax in float32, as torch's (the scores EAGLE-2 ranks by are sums of these).
std::vector<float> log_softmax(const float* row, int64_t n) {
  const float top = *std::max_element(row, row + n);
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    sum += std::exp(row[i] - top);
  }
  const float log_sum = std::log(sum);
  std::vector<float> out(n);
  for (int64_t i = 0; i < n; ++i) {
    out[i] = row[i] - top - log_sum;
  }
  return out;
}

// The k best (index, value) pairs, best first; equal values in index order.
std::vector<std::pair<int64_t, float>> top_k(const std::vector<float>& values, int k) {
  std::vector<int64_t> idx(values.size());
  std::iota(idx.begin(), idx.end(), 0);
  const size_t take = std::min(static_cast<size_t>(k), values.size());
  std::partial_sort(idx.begin(), idx.begin() + take, idx.end(), [&](int64_t a, int64_t b) {
    return values[a] > values[b] || (values[a] == values[b] && a < b);
  });
  std::vector<std::pair<int64_t, float>> out;
  for (size_t i = 0; i < take; ++i) {
    out.emplace_back(idx[i], values[idx[i]]);
  }
  return out;
}

// The scored nodes of an EAGLE-2 round: draft-vocabulary token, parent (pool index, -1 = the
// root), depth, cumulative log-probability (double, as Python floats).
struct Pool {
  std::vector<int64_t> tokens;
  std::vector<int> parents;
  std::vector<int64_t> depths;
  std::vector<double> scores;

  int add(int64_t token, int parent, int64_t depth, double score) {
    tokens.push_back(token);
    parents.push_back(parent);
    depths.push_back(depth);
    scores.push_back(score);
    return static_cast<int>(tokens.size()) - 1;
  }
};

}  // namespace

SpecTree draft_chain(SpecMethods& methods, const DraftVocab& vocab, int64_t max_seq_len, int64_t committed,
                     const DraftState& state, int64_t root, int chain_len) {
  SpecTree tree;
  tree.add(root, -1, 0);
  std::vector<float> hidden = state.hidden;
  std::vector<float> logits = state.logits;
  SpecRows rows;
  for (int i = 0; i < chain_len; ++i) {
    const int64_t token = vocab.to_full(argmax(logits.data(), static_cast<int64_t>(logits.size())));
    tree.add(token, i, i + 1);
    if (i + 1 < chain_len) {
      rows.clear();
      rows.add(token, committed + i, committed + i, max_seq_len, /*causal=*/true);
      SpecOutput out = methods.draft(rows, hidden);
      hidden.swap(out.hidden);
      logits.swap(out.logits);
    }
  }
  return tree;
}

SpecTree draft_tree(SpecMethods& methods, const DraftVocab& vocab, int64_t max_seq_len, int64_t committed,
                    const DraftState& state, int64_t root, const TreeShape& shape) {
  const int k = shape.topk_per_iter;
  Pool pool;
  std::vector<int> frontier;  // pool indices of the newest depth, to expand
  for (const auto& [token, logp] : top_k(log_softmax(state.logits.data(), state.logits.size()), k)) {
    frontier.push_back(pool.add(token, -1, 1, logp));
  }
  std::map<int, std::vector<float>> parent_hidden{{-1, state.hidden}};  // the hidden a node's children pair with
  std::map<int, int> slot_of;            // pool index -> draft cache slot (committed + it), expanded nodes
  std::vector<int> expanded_parents;     // per slot: its parent's slot, -1 for the root's children
  const int64_t hidden_size = static_cast<int64_t>(state.hidden.size());
  SpecRows rows;
  for (int iter = 0; iter < shape.num_iter; ++iter) {
    // Python's sorted() is stable: equal scores keep frontier order.
    std::stable_sort(frontier.begin(), frontier.end(),
                     [&](int a, int b) { return pool.scores[a] > pool.scores[b]; });
    if (static_cast<int>(frontier.size()) > k) {
      frontier.resize(k);
    }
    if (frontier.empty()) {
      break;
    }
    const size_t base_slot = expanded_parents.size();
    for (size_t j = 0; j < frontier.size(); ++j) {
      slot_of[frontier[j]] = static_cast<int>(base_slot + j);
      auto parent = slot_of.find(pool.parents[frontier[j]]);
      expanded_parents.push_back(parent == slot_of.end() ? -1 : parent->second);
    }
    // Draft on the frontier's pairs, each seeing the committed slots and its ancestors.
    const size_t n_exp = expanded_parents.size();
    const std::vector<uint8_t> anc = ancestor_rows(expanded_parents);
    rows.clear();
    std::vector<float> hidden_in;
    for (size_t j = 0; j < frontier.size(); ++j) {
      const int node = frontier[j];
      rows.add(vocab.to_full(pool.tokens[node]), committed + pool.depths[node] - 1, committed + slot_of[node],
               max_seq_len, /*causal=*/false);
      uint8_t* mask = rows.mask.data() + j * max_seq_len;
      std::fill(mask, mask + committed, 1);
      std::copy(anc.begin() + (base_slot + j) * n_exp, anc.begin() + (base_slot + j + 1) * n_exp, mask + committed);
      const std::vector<float>& h = parent_hidden.at(pool.parents[node]);
      hidden_in.insert(hidden_in.end(), h.begin(), h.end());
    }
    SpecOutput out = methods.draft(rows, hidden_in);
    std::vector<int> next;
    for (size_t j = 0; j < frontier.size(); ++j) {
      const int node = frontier[j];
      parent_hidden[node].assign(out.hidden_row(j), out.hidden_row(j) + hidden_size);
      for (const auto& [token, logp] : top_k(log_softmax(out.logits_row(j), out.width), k)) {
        next.push_back(pool.add(token, node, pool.depths[node] + 1, pool.scores[node] + logp));
      }
    }
    frontier.swap(next);
  }
  // The best tree_size - 1 nodes; a child never outscores its parent (log-probs <= 0) and ties
  // go to the shallower node, so the selection is closed under ancestors.
  const size_t want = static_cast<size_t>(std::max(shape.tree_size - 1, 0));
  std::vector<int> order(pool.tokens.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    if (pool.scores[a] != pool.scores[b]) return pool.scores[a] > pool.scores[b];
    if (pool.depths[a] != pool.depths[b]) return pool.depths[a] < pool.depths[b];
    return a < b;
  });
  order.resize(std::min(want, order.size()));
  std::set<int> chosen(order.begin(), order.end());
  for (int i : order) {  // belt and braces against float ties, as tree.py
    for (int p = pool.parents[i]; p >= 0 && !chosen.count(p); p = pool.parents[p]) {
      chosen.insert(p);
    }
  }
  std::vector<int> keep(chosen.begin(), chosen.end());
  std::sort(keep.begin(), keep.end(), [&](int a, int b) {
    if (pool.depths[a] != pool.depths[b]) return pool.depths[a] < pool.depths[b];
    if (pool.scores[a] != pool.scores[b]) return pool.scores[a] > pool.scores[b];
    return a < b;
  });
  keep.resize(std::min(want, keep.size()));
  std::map<int, int> index;
  for (size_t n = 0; n < keep.size(); ++n) {
    index[keep[n]] = static_cast<int>(n) + 1;
  }
  SpecTree tree;
  tree.add(root, -1, 0);
  for (int node : keep) {
    auto parent = index.find(pool.parents[node]);
    tree.add(vocab.to_full(pool.tokens[node]), parent == index.end() ? 0 : parent->second, pool.depths[node]);
  }
  return tree;
}

}  // namespace edgecpm
