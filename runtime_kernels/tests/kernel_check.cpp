// Standalone check of the kernels, run natively and under qemu-aarch64 (no ExecuTorch needed):
//  1. the scalar drivers against a double-precision dequantize-then-dot definition, built from
//     the codes *before* packing (so packing and decoding are checked too);
//  2. every SIMD table this CPU supports against scalar: bit-identical outputs (ternary, int4 and
//     the W8A8 int8 head alike);
//  3. InfLLM-v2 attention (infllm_check.cpp): scalar vs a double definition, SIMD vs scalar.
// Shapes are the awkward ones: N = 1 and N not a multiple of the row tile, M = 1 (decode GEMV)
// and M > 1 (prefill GEMM) below, at and past the activation tile, K not a multiple of 256 (the
// padded tail) nor of the int4 group beyond one block, every scale layout.
//
// Usage: edgecpm_kernel_check [--require ISA]...  (fails if a required ISA is not available,
// so a test cannot pass by silently checking scalar against itself)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "act_quant.h"
#include "isa.h"
#include "linear.h"
#include "linear_tiles.h"

using namespace edgecpm;

void infllm_cases(int& checks, int& failures);  // infllm_check.cpp
void tree_cases(int& checks, int& failures);  // tree_check.cpp

namespace {

std::mt19937 rng(1234);
int checks = 0, failures = 0;

int rand_int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

// A random normal fp16 value in about [2^-6, 2^-1], as bits.
uint16_t rand_half() { return uint16_t((rand_int(9, 13) << 10) | rand_int(0, 1023)); }

std::vector<float> rand_acts(int64_t m, int64_t k) {
  std::normal_distribution<float> dist(0.f, 1.f);
  std::vector<float> x(m * k);
  for (auto& v : x) v = dist(rng);
  // An all-zero sub-block (scale 0) and an outlier: both happen in real activations.
  if (k >= 64) {
    for (int i = 0; i < 32; ++i) x[32 + i] = 0.f;
    x[k - 1] = 40.f;
  }
  return x;
}

// x as the kernels see it: the dequantized int8 values, in natural order.
double act(const QuantizedActs& a, ActOrder order, int64_t m, int64_t k) {
  int64_t pos = k;
  if (order == ActOrder::Int4) pos = k / 32 * 32 + (k % 2) * 16 + (k % 32) / 2;
  return double(a.q[m * a.cols + pos]) * a.scale[m * (a.cols / 32) + k / 32];
}

using WeightFn = std::function<double(int64_t n, int64_t k)>;
using RowsFn = std::function<void(const DotKernels&, const QuantizedActs&, int64_t, int64_t, float*)>;

void check_case(const std::string& name, int64_t m, int64_t n, int64_t k, ActOrder order, const WeightFn& weight,
                const RowsFn& rows) {
  const std::vector<float> x = rand_acts(m, k);
  QuantizedActs a;
  quantize_acts(x.data(), m, k, order, a);
  std::vector<float> scalar(m * n), simd(m * n);
  // Two calls over [0, n/2) and [n/2, n): the row split the thread pool uses must not matter.
  rows(scalar_kernels(), a, 0, n / 2, scalar.data());
  rows(scalar_kernels(), a, n / 2, n, scalar.data());
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double ref = 0, mag = 0;
      for (int64_t c = 0; c < k; ++c) {
        const double p = weight(j, c) * act(a, order, i, c);
        ref += p;
        mag += std::fabs(p);
      }
      ++checks;
      // fp32 accumulation over K/32 partial sums: a few ulps of the magnitude.
      if (std::fabs(scalar[i * n + j] - ref) > 1e-5 * mag + 1e-30) {
        ++failures;
        std::printf("FAIL %s scalar vs definition m=%lld n=%lld: %.8g vs %.8g\n", name.c_str(), (long long)i,
                    (long long)j, scalar[i * n + j], ref);
        return;
      }
    }
  for (const DotKernels* k_isa : available_kernels()) {
    if (k_isa == &scalar_kernels()) continue;
    rows(*k_isa, a, 0, n, simd.data());
    ++checks;
    if (std::memcmp(simd.data(), scalar.data(), simd.size() * sizeof(float)) != 0) {
      ++failures;
      std::printf("FAIL %s: %s differs from scalar\n", name.c_str(), k_isa->name);
    }
  }
}

std::string shape(const char* what, int64_t m, int64_t n, int64_t k) {
  return std::string(what) + " M=" + std::to_string(m) + " N=" + std::to_string(n) + " K=" + std::to_string(k);
}

// Packs codes (trit + 1) into TQ2_0 or TQ1_0 blocks, exactly as formats.py describes.
std::vector<uint8_t> pack_ternary(const std::vector<uint8_t>& codes, const std::vector<uint16_t>& d, int64_t n,
                                  int64_t k, TernaryLayout layout) {
  const int64_t nb = k / 256, bb = ternary_block_bytes(layout);
  std::vector<uint8_t> out(n * nb * bb, 0);
  auto tq1_byte = [](const uint8_t* c, int count) {
    int v = 0;
    for (int i = 0; i < 5; ++i) v = v * 3 + (i < count ? c[i] : 0);
    return uint8_t((v * 256 + 242) / 243);
  };
  for (int64_t r = 0; r < n; ++r)
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* c = codes.data() + r * k + b * 256;
      uint8_t* blk = out.data() + (r * nb + b) * bb;
      if (layout == TernaryLayout::TQ2_0) {
        for (int w = 0; w < 256; ++w) blk[32 * (w / 128) + w % 32] |= uint8_t(c[w] << (2 * ((w % 128) / 32)));
      } else {
        uint8_t g[5];
        for (int m = 0; m < 32; ++m) { for (int i = 0; i < 5; ++i) g[i] = c[32 * i + m]; blk[m] = tq1_byte(g, 5); }
        for (int m = 0; m < 16; ++m) { for (int i = 0; i < 5; ++i) g[i] = c[160 + 16 * i + m]; blk[32 + m] = tq1_byte(g, 5); }
        for (int m = 0; m < 4; ++m) { for (int i = 0; i < 4; ++i) g[i] = c[240 + 4 * i + m]; blk[48 + m] = tq1_byte(g, 4); }
      }
      std::memcpy(blk + bb - 2, &d[r * nb + b], 2);
    }
  return out;
}

void ternary_cases() {
  for (TernaryLayout layout : {TernaryLayout::TQ2_0, TernaryLayout::TQ1_0})
    for (int64_t k : {256, 768})
      for (int64_t n : {1, 7, 33, 50})
        for (int64_t m : {1, 3, 6})
          // none, fp16 g32, fp32 g128, bf16 per-channel, fp16 g128 (the default scheme), then on
          // K = 768 groups that are not powers of two or span 256-blocks: fp16 g96, bf16 g384,
          // fp32 g256; the 16-row tiles (avx512vnni) take every one of them.
          for (int side : {0, 1, 2, 3, 4, 5, 6, 7}) {
            if (side >= 5 && k != 768) continue;
            if (n == 50 && m == 6) continue;
            std::vector<uint8_t> codes(n * k);
            for (auto& c : codes) c = uint8_t(rand_int(0, 2));
            std::vector<uint16_t> d(n * k / 256);
            for (auto& v : d) v = rand_half();
            const std::vector<uint8_t> packed = pack_ternary(codes, d, n, k, layout);
            const int64_t group = side == 1 ? 32 : side == 2 || side == 4 ? 128 : side == 5 ? 96 : side == 6 ? 384
                                : side == 7 ? 256 : k;
            const bool f16 = side == 1 || side == 4 || side == 5;
            std::vector<float> f32(n * k / group);
            std::vector<uint16_t> u16(n * k / group);
            for (size_t i = 0; i < u16.size(); ++i) {
              u16[i] = f16 ? rand_half() : uint16_t(0x3C00 + rand_int(0, 127));  // bf16 ~ [2^-7, 2^-6]
              if (f16 && rand_int(0, 9) == 0) u16[i] = uint16_t(rand_int(1, 1023));  // fp16 subnormals
              if (f16 && rand_int(0, 19) == 0) u16[i] |= 0x8000;                    // and negatives
              f32[i] = std::ldexp(float(rand_int(1, 1000)), -12);
            }
            ScaleView sv;
            if (f16) sv = {u16.data(), ScaleView::Type::F16};
            if (side == 2 || side == 7) sv = {f32.data(), ScaleView::Type::F32};
            if (side == 3 || side == 6) sv = {u16.data(), ScaleView::Type::BF16};
            const TernaryWeights w{packed.data(), n, k, layout, sv, group};
            auto weight = [&](int64_t r, int64_t c) {
              double v = (int(codes[r * k + c]) - 1) * double(half_to_float(d[r * (k / 256) + c / 256]));
              return side ? v * sv[r * (k / group) + c / group] : v;
            };
            const char* lname = layout == TernaryLayout::TQ2_0 ? "ternary TQ2_0" : "ternary TQ1_0";
            check_case(shape(lname, m, n, k) + " side=" + std::to_string(side), m, n, k, ActOrder::Natural, weight,
                       [&](const DotKernels& dk, const QuantizedActs& a, int64_t n0, int64_t n1, float* out) {
                         ternary_linear_rows(dk, w, a, n0, n1, out);
                       });
          }
}

void int4_cases() {
  for (int64_t group : {32, 64, 128})
    for (int64_t k : {32, 96, 288, 384, 512, 800})
      for (int64_t n : {1, 5, 35})
        for (int64_t m : {1, 4, 7})
          for (bool asym : {false, true}) {
            if (k % group) continue;
            std::vector<uint8_t> q(n * k / 2), zeros(n * k / group);
            for (auto& v : q) v = uint8_t(rand_int(0, 255));
            for (auto& z : zeros) z = uint8_t(rand_int(0, 15));
            std::vector<uint16_t> scales(n * k / group);
            for (auto& s : scales) s = rand_half();
            const Int4Weights w{q.data(), scales.data(), asym ? zeros.data() : nullptr, n, k, group};
            auto weight = [&](int64_t r, int64_t c) {
              const uint8_t byte = q[r * k / 2 + c / 2];
              const int nib = c % 2 ? byte >> 4 : byte & 15;
              const int64_t g = r * (k / group) + c / group;
              return (nib - (asym ? zeros[g] : 8)) * double(half_to_float(scales[g]));
            };
            check_case(shape("int4", m, n, k) + " g=" + std::to_string(group) + (asym ? " asym" : " sym"), m, n, k,
                       ActOrder::Int4, weight,
                       [&](const DotKernels& dk, const QuantizedActs& a, int64_t n0, int64_t n1, float* out) {
                         int4_linear_rows(dk, w, a, n0, n1, out);
                       });
          }
}

// The int8 head: W8A8, like the others (activations in natural order), so bit-identical too.
void int8_cases() {
  for (int64_t k : {32, 96, 256, 800})
    for (int64_t n : {1, 9, 37})
      for (int64_t m : {1, 2, 6}) {
        std::vector<int8_t> q(n * k);
        for (auto& v : q) v = int8_t(rand_int(-128, 127));
        std::vector<uint16_t> scales(n * k / 32);
        for (auto& s : scales) s = rand_half();
        const Int8Weights w{q.data(), scales.data(), n, k};
        auto weight = [&](int64_t r, int64_t c) {
          return q[r * k + c] * double(half_to_float(scales[(r * k + c) / 32]));
        };
        check_case(shape("int8", m, n, k), m, n, k, ActOrder::Natural, weight,
                   [&](const DotKernels& dk, const QuantizedActs& a, int64_t n0, int64_t n1, float* out) {
                     int8_linear_rows(dk, w, a, n0, n1, out);
                   });
      }
}

// The branch-free fp16 conversion the drivers use equals the exact one on every finite value;
// the side scales' one (linear_tiles.h) on every value, inf and nan included.
void half_cases() {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    ++checks;
    const float a = half_to_float(uint16_t(h)), b = tile_half_exact(uint16_t(h));
    if (std::memcmp(&a, &b, sizeof a) != 0) {
      ++failures;
      std::printf("FAIL tile_half_exact(0x%04x) = %g, expected %g\n", h, b, a);
      return;
    }
  }
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7C00) == 0x7C00) continue;  // inf / nan: not scales
    ++checks;
    const float a = half_to_float(uint16_t(h)), b = finite_half_to_float(uint16_t(h));
    if (std::memcmp(&a, &b, sizeof a) != 0) {
      ++failures;
      std::printf("FAIL finite_half_to_float(0x%04x) = %g, expected %g\n", h, b, a);
      return;
    }
  }
}

// quantize_acts (vectorised: integer-bits absmax, the 1.5 * 2^23 rounding trick) against the
// definition written with libm: fmax of |x|, lrintf (round half to even), both orders. Values
// that land exactly on .5 steps, zeros, subnormals, huge and tiny ranges.
void act_quant_cases() {
  const int64_t k = 256;
  std::vector<float> x(3 * k);
  for (int trial = 0; trial < 400; ++trial) {
    for (int64_t i = 0; i < int64_t(x.size()); ++i) {
      const int kind = rand_int(0, 5);
      const float e = std::ldexp(1.f, rand_int(-30, 30));
      if (kind == 0) x[i] = 0.f;
      else if (kind == 1) x[i] = (rand_int(-254, 254) * 0.5f) * e / 127.f;  // ties after scaling
      else if (kind == 2) x[i] = std::ldexp(float(rand_int(-1000, 1000)), -149 + rand_int(0, 10));
      else x[i] = std::normal_distribution<float>(0.f, 1.f)(rng) * e;
    }
    if (trial % 3 == 0) for (int i = 0; i < 32; ++i) x[64 + i] = (i - 16) * 0.5f;  // max 7.5: x / scale hits .5s
    for (ActOrder order : {ActOrder::Natural, ActOrder::Int4}) {
      QuantizedActs a;
      quantize_acts(x.data(), 3, k, order, a);
      ++checks;
      for (int64_t sb = 0; sb < 3 * k / 32; ++sb) {
        const float* src = x.data() + sb * 32;
        float amax = 0.f;
        for (int i = 0; i < 32; ++i) amax = std::fmax(amax, std::fabs(src[i]));
        const float scale = amax / 127.f, inv = scale > 0.f ? 1.f / scale : 0.f;
        int32_t total = 0;
        bool ok = std::memcmp(&scale, &a.scale[sb], 4) == 0;
        for (int i = 0; i < 32; ++i) {
          const long r = std::lrintf(src[i] * inv);
          const int8_t v = int8_t(r > 127 ? 127 : (r < -127 ? -127 : r));
          const int pos = order == ActOrder::Int4 ? (i % 2) * 16 + i / 2 : i;
          ok &= a.q[sb * 32 + pos] == v;
          total += v;
        }
        ok &= a.sum[sb] == total;
        if (!ok) {
          ++failures;
          std::printf("FAIL quantize_acts differs from the lrintf definition (trial %d, sub-block %lld)\n", trial,
                      (long long)sb);
          return;
        }
      }
    }
  }
}

// The ops' row split (RowTasks): tasks cover [0, n) once, in order, each starting on a kRowSplit
// boundary, and never more than a few per thread.
void row_task_cases() {
  for (int64_t n : {0, 1, 15, 16, 63, 64, 65, 1000, 1024, 4096, 73448})
    for (int64_t threads : {1, 2, 3, 8}) {
      RowTasks tasks(n, threads);
      int64_t end = 0, count = 0;
      bool ok = true;
      tasks.work([&](int64_t n0, int64_t n1) {
        ok &= n0 == end && n0 % kRowSplit == 0 && n1 >= n0 && (n1 > n0 || n == 0);
        end = n1;
        ++count;
      });
      ok &= end == n && count == tasks.tasks && count <= std::max<int64_t>(1, threads * RowTasks::kTasksPerThread);
      ++checks;
      if (!ok) {
        ++failures;
        std::printf("FAIL RowTasks n=%lld threads=%lld\n", (long long)n, (long long)threads);
      }
    }
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--require") != 0) continue;
    bool found = false;
    for (const DotKernels* k : available_kernels()) found |= std::strcmp(k->name, argv[i + 1]) == 0;
    if (!found) {
      std::printf("kernel_check: required ISA %s is not available (available: %s)\n", argv[i + 1],
                  edgecpm_kernels_available());
      return 2;
    }
  }
  std::printf("kernel_check: ISAs available: %s\n", edgecpm_kernels_available());
  half_cases();
  act_quant_cases();
  row_task_cases();
  ternary_cases();
  int4_cases();
  int8_cases();
  infllm_cases(checks, failures);
  tree_cases(checks, failures);
  std::printf("kernel_check: %d checks, %d failures (ISAs: %s)\n", checks, failures, edgecpm_kernels_available());
  return failures ? 1 : 0;
}
