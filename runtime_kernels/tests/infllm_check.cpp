// InfLLM-v2 attention (infllm_attention.cpp) in the standalone checker, natively and under qemu:
//  1. scalar against a double-precision definition written straight from the op contract
//     (/tmp/spec/infllm_op.md; the Python reference is toolchain/edgecpm/attention/infllm_v2.py):
//     the same selected blocks, outputs within 1e-5;
//  2. every SIMD table this CPU supports against scalar: the same selected blocks, outputs within
//     1e-5 (lane-order sums and a polynomial exp: equal to rounding, not to the bit).
// Shapes are the awkward ones: D not a multiple of 8 (nor 4), groups of 1, 3 and 8 heads (partial
// 4-head tiles), T = 1 and T > 1 with positions straddling block boundaries, prefixes shorter than a
// window, dense and sparse calls (the switch is per call: rows below dense_len in a long call are
// sparse), and exact ties (q = 0: every window scores the same, so the lower block indices must win).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "attn_kernels.h"
#include "infllm_attention.h"
#include "isa.h"

using namespace edgecpm;

namespace {

std::mt19937 rng(4321);

struct Case {
  std::string name;
  int64_t B, Hq, Hkv, S, D;
  InfllmConfig cfg;
  std::vector<int64_t> pos;
  bool zero_q = false;  // the tie case
};

struct Data {
  std::vector<float> q, k, v, ck;
  int64_t C;
};

Data make_data(const Case& c) {
  std::normal_distribution<float> dist(0.f, 1.f);
  Data d;
  const int64_t T = int64_t(c.pos.size());
  d.q.resize(c.B * c.Hq * T * c.D);
  for (auto& x : d.q) x = c.zero_q ? 0.f : dist(rng);
  d.k.resize(c.B * c.Hkv * c.S * c.D);
  d.v.resize(d.k.size());
  for (auto& x : d.k) x = dist(rng);
  for (auto& x : d.v) x = dist(rng);
  // ck as the model keeps it: window means of k (C a little larger than needed, as allowed).
  const int64_t K = c.cfg.kernel_size, s = c.cfg.kernel_stride;
  d.C = (c.S >= K ? (c.S - K) / s + 1 : 0) + 2;
  d.ck.assign(c.B * c.Hkv * d.C * c.D, 0.f);
  for (int64_t bg = 0; bg < c.B * c.Hkv; ++bg)
    for (int64_t j = 0; j < d.C; ++j)
      for (int64_t e = 0; e < c.D; ++e) {
        double acc = 0;
        int64_t n = 0;
        for (int64_t i = s * j; i < s * j + K && i < c.S; ++i, ++n) acc += d.k[(bg * c.S + i) * c.D + e];
        d.ck[(bg * d.C + j) * c.D + e] = n ? float(acc / n) : 0.f;
      }
  return d;
}

// The contract, in double, one item at a time.
void definition(const InfllmProblem& pr, int64_t b, int64_t g, int64_t t, std::vector<int32_t>& blocks,
                std::vector<double>& out /* [G, D] */) {
  const InfllmConfig& c = pr.cfg;
  const int64_t G = pr.Hq / pr.Hkv, D = pr.D, p = pr.pos[t], qb = p / c.block_size, nb = qb + 1;
  const double scale = 1.0 / std::sqrt(double(D));
  auto qrow = [&](int64_t h) { return pr.q + ((b * pr.Hq + g * G + h) * pr.T + t) * D; };
  blocks.clear();
  // The switch is one decision per call, from the largest position (the official code's KV length).
  const int64_t last = *std::max_element(pr.pos, pr.pos + pr.T);
  if ((c.dense_len >= 0 && last + 1 < c.dense_len) || nb <= c.topk) {
    for (int64_t i = 0; i < nb; ++i) blocks.push_back(int32_t(i));
  } else {
    const int64_t nw = std::max<int64_t>(0, (p + 1 - c.kernel_size) >= 0 ? (p + 1 - c.kernel_size) / c.kernel_stride + 1 : 0);
    std::vector<double> S(nw, 0.0), logit(nw);
    for (int64_t h = 0; h < G; ++h) {
      double mx = -INFINITY, sum = 0;
      for (int64_t j = 0; j < nw; ++j) {
        double acc = 0;
        for (int64_t e = 0; e < D; ++e) acc += double(qrow(h)[e]) * pr.ck[((b * pr.Hkv + g) * pr.C + j) * D + e];
        logit[j] = acc * scale;
        mx = std::max(mx, logit[j]);
      }
      for (int64_t j = 0; j < nw; ++j) sum += std::exp(logit[j] - mx);
      for (int64_t j = 0; j < nw; ++j) S[j] += std::exp(logit[j] - mx) / sum;
    }
    std::vector<double> score(nb);
    for (int64_t bk = 0; bk < nb; ++bk) {
      double best = -INFINITY;
      for (int64_t j = 0; j < nw; ++j) {
        const int64_t w0 = c.kernel_stride * j;
        if (w0 < c.block_size * (bk + 1) && w0 + c.kernel_size > c.block_size * bk) best = std::max(best, S[j]);
      }
      const bool forced = bk < c.init_blocks || (qb - c.local_blocks <= bk && bk <= qb);
      score[bk] = forced ? INFINITY : best;
    }
    std::vector<int32_t> order(nb);
    for (int64_t i = 0; i < nb; ++i) order[i] = int32_t(i);
    std::stable_sort(order.begin(), order.end(), [&](int32_t x, int32_t y) { return score[x] > score[y]; });
    blocks.assign(order.begin(), order.begin() + c.topk);
    std::sort(blocks.begin(), blocks.end());
  }
  out.assign(G * D, 0.0);
  for (int64_t h = 0; h < G; ++h) {
    std::vector<int64_t> slots;
    for (int32_t bk : blocks)
      for (int64_t i = bk * c.block_size; i < (bk + 1) * c.block_size && i <= p; ++i) slots.push_back(i);
    std::vector<double> w(slots.size());
    double mx = -INFINITY, sum = 0;
    for (size_t n = 0; n < slots.size(); ++n) {
      double acc = 0;
      for (int64_t e = 0; e < D; ++e) acc += double(qrow(h)[e]) * pr.k[((b * pr.Hkv + g) * pr.S + slots[n]) * D + e];
      w[n] = acc * scale;
      mx = std::max(mx, w[n]);
    }
    for (auto& x : w) sum += (x = std::exp(x - mx));
    for (size_t n = 0; n < slots.size(); ++n)
      for (int64_t e = 0; e < D; ++e) out[h * D + e] += w[n] / sum * pr.v[((b * pr.Hkv + g) * pr.S + slots[n]) * D + e];
  }
}

std::string fmt_blocks(const std::vector<int32_t>& b) {
  std::string s;
  for (int32_t x : b) s += (s.empty() ? "" : ",") + std::to_string(x);
  return s;
}

// Runs one ISA over every item (in two ranges, as two threads would) and compares with `want`.
void run_isa(const AttnKernels& ak, InfllmProblem pr, std::vector<float>& out) {
  out.assign(pr.B * pr.Hq * pr.T * pr.D, std::nanf(""));
  pr.out = out.data();
  const int64_t n = infllm_items(pr);
  InfllmScratch s0, s1;
  infllm_attention_items(ak, pr, 0, n / 2, s0);
  infllm_attention_items(ak, pr, n / 2, n, s1);
}

void check_case(const Case& c, int& checks, int& failures, double& worst) {
  const Data d = make_data(c);
  const int64_t T = int64_t(c.pos.size());
  InfllmProblem pr{d.q.data(), d.k.data(), d.v.data(), d.ck.data(), c.pos.data(), nullptr,
                   c.B, c.Hq, c.Hkv, T, c.S, d.C, c.D, c.cfg};
  if (const char* bad = infllm_validate(pr)) {
    ++failures;
    std::printf("FAIL infllm %s: invalid problem: %s\n", c.name.c_str(), bad);
    return;
  }
  const int64_t G = c.Hq / c.Hkv;
  std::vector<float> scalar;
  run_isa(scalar_attn_kernels(), pr, scalar);
  std::vector<const AttnKernels*> tables;
  for (const DotKernels* dk : available_kernels()) tables.push_back(&attn_kernels_for(*dk));
  std::vector<std::vector<float>> outs(tables.size());
  for (size_t i = 0; i < tables.size(); ++i) run_isa(*tables[i], pr, outs[i]);
  InfllmScratch sc;
  std::vector<int32_t> want, got;
  std::vector<double> ref;
  for (int64_t b = 0; b < c.B; ++b)
    for (int64_t g = 0; g < c.Hkv; ++g)
      for (int64_t t = 0; t < T; ++t) {
        definition(pr, b, g, t, want, ref);
        for (size_t i = 0; i < tables.size(); ++i) {
          infllm_select_blocks(*tables[i], pr, b, g, t, sc, got);
          ++checks;
          if (got != want) {
            ++failures;
            std::printf("FAIL infllm %s [%s] b=%lld g=%lld t=%lld p=%lld: blocks {%s}, definition {%s}\n", c.name.c_str(),
                        tables[i]->name, (long long)b, (long long)g, (long long)t, (long long)c.pos[t],
                        fmt_blocks(got).c_str(), fmt_blocks(want).c_str());
          }
        }
        for (int64_t h = 0; h < G; ++h)
          for (size_t i = 0; i <= tables.size(); ++i) {
            const std::vector<float>& o = i == 0 ? scalar : outs[i - 1];
            const char* who = i == 0 ? "scalar vs definition" : tables[i - 1]->name;
            double err = 0;
            for (int64_t e = 0; e < c.D; ++e) {
              const int64_t at = ((b * c.Hq + g * G + h) * T + t) * c.D + e;
              // SIMD against scalar, scalar against the definition (a NaN fails both ways).
              const double diff = std::fabs(double(o[at]) - (i == 0 ? ref[h * c.D + e] : double(scalar[at])));
              err = std::isnan(diff) ? INFINITY : std::max(err, diff);
            }
            ++checks;
            worst = std::max(worst, err);
            if (!(err <= 1e-5)) {
              ++failures;
              std::printf("FAIL infllm %s: %s, b=%lld h=%lld t=%lld: max |diff| %.3g\n", c.name.c_str(), who,
                          (long long)b, (long long)(g * G + h), (long long)t, err);
            }
          }
      }
}

// A score must not depend on where its key sits in a tile (equal keys must tie exactly): every
// table, equal key rows, head and key counts that leave partial tiles.
void tile_independence(int& checks, int& failures) {
  std::normal_distribution<float> dist(0.f, 1.f);
  for (int d : {13, 64, 67})
    for (int nh : {1, 3, 6, 16})
      for (int nk : {1, 7, 64}) {
        std::vector<float> q(nh * d), k(nk * d), out(nh * nk);
        for (auto& x : q) x = dist(rng);
        for (int e = 0; e < d; ++e) k[e] = dist(rng);
        for (int j = 1; j < nk; ++j) std::copy(k.begin(), k.begin() + d, k.begin() + j * d);
        for (const DotKernels* dk : available_kernels()) {
          const AttnKernels& ak = attn_kernels_for(*dk);
          ak.qk(q.data(), nh, k.data(), nk, d, 0.125f, out.data(), nk);
          ++checks;
          for (int h = 0; h < nh; ++h)
            for (int j = 1; j < nk; ++j)
              if (out[h * nk + j] != out[h * nk]) {
                ++failures;
                std::printf("FAIL infllm qk [%s] d=%d nh=%d nk=%d: equal keys score differently\n", ak.name, d, nh, nk);
                h = nh;
                break;
              }
        }
      }
}

}  // namespace

void infllm_cases(int& checks, int& failures) {
  const int before = checks, failed_before = failures;
  double worst = 0;
  // Scaled-down geometry (window 8, stride 4, block 16): many blocks at a small S.
  InfllmConfig small{8, 4, 16, 1, 1, 4, -1};
  // MiniCPM4's geometry (window 32, stride 16, block 64) with a small budget.
  InfllmConfig real{32, 16, 64, 1, 2, 5, -1};
  std::vector<Case> cases;
  for (int64_t D : {13, 64, 67})
    for (auto heads : {std::pair<int64_t, int64_t>{6, 2}, {8, 1}, {3, 3}}) {
      const std::string tag = " D=" + std::to_string(D) + " Hq=" + std::to_string(heads.first) +
                              " Hkv=" + std::to_string(heads.second);
      // Decode rows at and around block boundaries, before the first full window, and far out.
      for (int64_t p : {3, 15, 16, 17, 47, 64, 130, 199})
        cases.push_back({"decode small p=" + std::to_string(p) + tag, 1, heads.first, heads.second, 200, D, small, {p}});
      // Prefill rows straddling a block boundary; and scattered rows in one call.
      cases.push_back({"prefill small" + tag, 1, heads.first, heads.second, 200, D, small, {94, 95, 96, 97, 98}});
      cases.push_back({"scattered small" + tag, 2, heads.first, heads.second, 200, D, small, {199, 0, 63, 120, 7}});
    }
  for (int64_t D : {64, 67}) {
    cases.push_back({"decode real p=767 D=" + std::to_string(D), 1, 4, 2, 768, D, real, {767}});
    cases.push_back({"decode real p=640 D=" + std::to_string(D), 1, 4, 2, 768, D, real, {640}});
    cases.push_back({"prefill real D=" + std::to_string(D), 1, 4, 2, 768, D, real, {637, 638, 639, 640, 641, 700}});
    InfllmConfig switched = real;
    switched.dense_len = 500;
    // The call reaches 768 >= 500: every row is sparse, rows 100 and 498 (below dense_len) too.
    cases.push_back({"sparse call D=" + std::to_string(D), 1, 4, 2, 768, D, switched, {100, 498, 499, 500, 767}});
    // The call reaches 499 < 500: every row dense, though row 498 sees more blocks than topk.
    cases.push_back({"dense call D=" + std::to_string(D), 1, 4, 2, 768, D, switched, {100, 497, 498}});
  }
  // Ties: q = 0 gives every window the same stage-1 score, so blocks tie exactly.
  cases.push_back({"ties small", 1, 6, 2, 200, 13, small, {199, 150, 96}, true});
  cases.push_back({"ties real", 1, 4, 2, 768, 64, real, {767, 700}, true});
  for (const Case& c : cases) check_case(c, checks, failures, worst);
  tile_independence(checks, failures);
  std::printf("kernel_check: infllm_attention %zu cases, %d checks, %d failures, worst |diff| %.3g\n", cases.size(),
              checks - before, failures - failed_before, worst);
}
