// A verify step's candidates: a tree of tokens whose root is the last committed token (not yet in
// the base KV cache). Nodes are in topological order (a parent before its children); node 0 is
// the root. A chain is the tree where each node's parent is the one before it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace edgecpm {

struct SpecTree {
  std::vector<int64_t> tokens;  // full-vocabulary ids
  std::vector<int> parents;     // -1 for the root
  std::vector<int64_t> depths;  // 0 for the root: a node at depth d stands for x_{committed + d}

  size_t size() const { return tokens.size(); }

  void add(int64_t token, int parent, int64_t depth) {
    tokens.push_back(token);
    parents.push_back(parent);
    depths.push_back(depth);
  }

  std::vector<std::vector<int>> children() const {
    std::vector<std::vector<int>> out(tokens.size());
    for (size_t i = 0; i < parents.size(); ++i) {
      if (parents[i] >= 0) {
        out[parents[i]].push_back(static_cast<int>(i));
      }
    }
    return out;
  }
};

// n x n, row-major: row i marks node i and its ancestors (parents listed before children), as
// tree.py's ancestor_matrix. A node attends to exactly these among the step's new slots.
inline std::vector<uint8_t> ancestor_rows(const std::vector<int>& parents) {
  const size_t n = parents.size();
  std::vector<uint8_t> a(n * n, 0);
  for (size_t i = 0; i < n; ++i) {
    if (parents[i] >= 0) {
      std::copy(a.begin() + parents[i] * n, a.begin() + (parents[i] + 1) * n, a.begin() + i * n);
    }
    a[i * n + i] = 1;
  }
  return a;
}

}  // namespace edgecpm
