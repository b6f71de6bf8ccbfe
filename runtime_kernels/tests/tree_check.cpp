// Speculative verification in the standalone checker, natively and under qemu: each row of a
// verification call is a decode step over its own sequence (the committed prefix, then its tree
// path, in slots that are not its positions), to the bit. For EAGLE-shaped trees after a prefix,
// with every ISA table:
//  - edgecpm::infllm_tree_attention: every row equals infllm_attention on a fresh cache holding that
//    row's sequence at slots = positions (with that cache's compressed keys), bit for bit; the ck rows
//    past the prefix's windows are NaN (reading them would fail); one tree straddles dense_len (the
//    switch is per row, as a decode step takes it);
//  - edgecpm::cached_attention with a tree mask: every row equals the maskless decode step over the
//    same fresh cache, bit for bit (the chunks a row reads are cut by position, gathered where the
//    path's slots are not consecutive).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "attn_kernels.h"
#include "cached_attention.h"
#include "infllm_tree_attention.h"
#include "isa.h"

using namespace edgecpm;

namespace {

std::mt19937 tree_rng(98765);

struct TreeCase {
  std::string name;
  int64_t Hq, Hkv, S, D, p0;
  std::vector<int> parents;
  InfllmConfig cfg;
};

std::vector<float> normal(size_t n) {
  std::normal_distribution<float> dist(0.f, 1.f);
  std::vector<float> x(n);
  for (auto& v : x) v = dist(tree_rng);
  return x;
}

// Window means of k ([Hkv, S, D]) over the first `length` positions, C rows (NaN past them).
std::vector<float> window_means(const std::vector<float>& k, int64_t Hkv, int64_t S, int64_t D, int64_t length,
                                int64_t C, const InfllmConfig& c) {
  std::vector<float> ck(Hkv * C * D, std::nanf(""));
  const int64_t n = length < c.kernel_size ? 0 : (length - c.kernel_size) / c.kernel_stride + 1;
  for (int64_t g = 0; g < Hkv; ++g)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t e = 0; e < D; ++e) {
        float acc = 0.f;
        for (int64_t i = c.kernel_stride * j; i < c.kernel_stride * j + c.kernel_size; ++i) acc += k[(g * S + i) * D + e];
        ck[(g * C + j) * D + e] = acc / float(c.kernel_size);
      }
  return ck;
}

// max |a[i] - b[i]| over n values; a NaN on either side is infinite.
double max_diff(const float* a, const float* b, int64_t n) {
  double err = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double diff = std::fabs(double(a[i]) - double(b[i]));
    err = std::isnan(diff) ? INFINITY : std::max(err, diff);
  }
  return err;
}

// cached_attention over caches already holding K/V (rotation by the identity: cos 1, sin 0): q is
// [T, Hq, D]; mask [T, S] or nullptr.
std::vector<float> cached_rows(const AttnKernels& ak, const std::vector<float>& q, std::vector<float>& k,
                               std::vector<float>& v, const std::vector<int64_t>& slots, const bool* mask, int64_t Hq,
                               int64_t Hkv, int64_t S, int64_t D) {
  const int64_t T = int64_t(slots.size());
  std::vector<float> out(T * Hq * D, std::nanf("")), cos(T * D, 1.f), sin(T * D, 0.f);
  const CachedAttentionProblem pr{q.data(), nullptr, nullptr, k.data(), v.data(), cos.data(), sin.data(),
                                  slots.data(), mask, out.data(), 1, T, Hq, Hkv, S, D};
  CachedAttentionScratch sc;
  cached_attention_items(ak, pr, 0, cached_attention_items(pr), sc);
  return out;
}

void check_tree(const TreeCase& c, int& checks, int& failures, double& worst) {
  const int64_t T = int64_t(c.parents.size()), D = c.D, S = c.S;
  const int64_t C = (S - c.cfg.kernel_size) / c.cfg.kernel_stride + 2;
  std::vector<float> q = normal(c.Hq * T * D), k = normal(c.Hkv * S * D), v = normal(c.Hkv * S * D);
  const std::vector<float> ck = window_means(k, c.Hkv, S, D, c.p0, C, c.cfg);
  std::vector<int64_t> pos(T);
  std::vector<std::vector<int64_t>> seq(T);  // each row's slots, position order
  std::unique_ptr<bool[]> mask(new bool[T * S]());
  for (int64_t t = 0; t < T; ++t) {
    const int parent = c.parents[t];
    pos[t] = parent < 0 ? c.p0 : pos[parent] + 1;
    if (parent < 0) {
      for (int64_t i = 0; i < c.p0; ++i) seq[t].push_back(i);
    } else {
      seq[t] = seq[parent];
    }
    seq[t].push_back(c.p0 + t);
    for (int64_t slot : seq[t]) mask[t * S + slot] = true;
  }
  const InfllmTreeProblem tp{{q.data(), k.data(), v.data(), ck.data(), pos.data(), nullptr, 1, c.Hq, c.Hkv, T, S, C, D,
                              c.cfg},
                             mask.get()};
  TreeRows rows;
  if (const char* bad = infllm_tree_prepare(tp, rows)) {
    ++failures;
    std::printf("FAIL infllm_tree %s: invalid problem: %s\n", c.name.c_str(), bad);
    return;
  }
  for (const DotKernels* dk : available_kernels()) {
    const AttnKernels& ak = attn_kernels_for(*dk);
    std::vector<float> out(c.Hq * T * D, std::nanf(""));
    InfllmTreeProblem run = tp;
    run.pr.out = out.data();
    InfllmScratch sc;
    infllm_tree_items(ak, run, rows, 0, infllm_items(run.pr), sc);
    std::vector<float> q_rows(T * c.Hq * D);  // [T, Hq, D], cached_attention's layout
    for (int64_t t = 0; t < T; ++t)
      for (int64_t h = 0; h < c.Hq; ++h)
        std::copy(q.begin() + (h * T + t) * D, q.begin() + (h * T + t + 1) * D, q_rows.begin() + (t * c.Hq + h) * D);
    std::vector<int64_t> tree_slots(T);
    for (int64_t t = 0; t < T; ++t) tree_slots[t] = c.p0 + t;
    const std::vector<float> cached_tree = cached_rows(ak, q_rows, k, v, tree_slots, mask.get(), c.Hq, c.Hkv, S, D);
    for (int64_t t = 0; t < T; ++t) {
      // The plain op on a fresh cache holding row t's sequence at slots = positions.
      const int64_t L = int64_t(seq[t].size());
      std::vector<float> k1(c.Hkv * L * D), v1(c.Hkv * L * D), q1(c.Hq * D), want(c.Hq * D);
      for (int64_t g = 0; g < c.Hkv; ++g)
        for (int64_t i = 0; i < L; ++i)
          for (int64_t e = 0; e < D; ++e) {
            k1[(g * L + i) * D + e] = k[(g * S + seq[t][i]) * D + e];
            v1[(g * L + i) * D + e] = v[(g * S + seq[t][i]) * D + e];
          }
      for (int64_t h = 0; h < c.Hq; ++h)
        for (int64_t e = 0; e < D; ++e) q1[h * D + e] = q[(h * T + t) * D + e];
      const int64_t C1 = L < c.cfg.kernel_size ? 1 : (L - c.cfg.kernel_size) / c.cfg.kernel_stride + 1;
      const std::vector<float> ck1 = window_means(k1, c.Hkv, L, D, L, C1, c.cfg);
      const int64_t p = L - 1;
      const InfllmProblem plain{q1.data(), k1.data(), v1.data(), ck1.data(), &p, want.data(), 1, c.Hq, c.Hkv, 1, L, C1,
                                D, c.cfg};
      InfllmScratch sc1;
      infllm_attention_items(ak, plain, 0, infllm_items(plain), sc1);
      double err = 0;
      for (int64_t h = 0; h < c.Hq; ++h) err = std::max(err, max_diff(&out[(h * T + t) * D], &want[h * D], D));
      // cached_attention: the maskless decode step at slot L - 1 of the same fresh cache.
      const std::vector<float> plain_cached = cached_rows(ak, q1, k1, v1, {L - 1}, nullptr, c.Hq, c.Hkv, L, D);
      const double cached_err = max_diff(&cached_tree[t * c.Hq * D], plain_cached.data(), c.Hq * D);
      checks += 2;
      worst = std::max({worst, err, cached_err});
      for (const auto& [op, e] : {std::pair<const char*, double>{"infllm_tree_attention", err}, {"cached_attention", cached_err}}) {
        if (e != 0) {
          ++failures;
          std::printf("FAIL tree %s %s [%s] row %lld (position %lld): max |diff| %.3g from its decode step\n", op,
                      c.name.c_str(), ak.name, (long long)t, (long long)pos[t], e);
        }
      }
    }
  }
}

}  // namespace

void tree_cases(int& checks, int& failures) {
  const int before = checks, failed_before = failures;
  double worst = 0;
  const std::vector<int> eagle{-1, 0, 0, 1, 1, 2, 2, 5, 7};
  const std::vector<int> chain{-1, 0, 1, 2, 3};
  InfllmConfig small{8, 4, 16, 1, 1, 4, -1};
  InfllmConfig real{32, 16, 64, 1, 2, 5, -1};
  InfllmConfig switched = real;
  switched.dense_len = 502;
  std::vector<TreeCase> cases;
  for (int64_t D : {13, 64}) {
    const std::string tag = " D=" + std::to_string(D);
    cases.push_back({"small tree" + tag, 6, 2, 200, D, 141, eagle, small});
    cases.push_back({"small tree before the first window" + tag, 6, 2, 40, D, 2, eagle, small});
    cases.push_back({"small chain" + tag, 8, 1, 200, D, 150, chain, small});
    cases.push_back({"real tree across a block" + tag, 4, 2, 800, D, 765, eagle, real});
    cases.push_back({"real tree across dense_len" + tag, 4, 2, 800, D, 499, eagle, switched});
  }
  for (const TreeCase& c : cases) check_tree(c, checks, failures, worst);
  std::printf("kernel_check: tree verification %zu cases, %d checks, %d failures, worst |diff| %.3g\n",
              cases.size(), checks - before, failures - failed_before, worst);
}
