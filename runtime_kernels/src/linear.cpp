#include "linear.h"

#include <cstring>
#include <vector>

namespace edgecpm {
namespace {

constexpr int64_t kTqBlock = 256;
constexpr int kSubsPerTqBlock = kTqBlock / kSub;

inline uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);  // little-endian on every target we build for
  return v;
}

}  // namespace

int64_t ternary_block_bytes(TernaryLayout layout) { return layout == TernaryLayout::TQ2_0 ? 66 : 54; }

void decode_tq1_block(const uint8_t* block, uint8_t* codes) {
  static const uint8_t pow3[5] = {1, 3, 9, 27, 81};
  auto trit = [](uint8_t byte, int n) { return uint8_t((uint16_t(uint8_t(byte * pow3[n])) * 3) >> 8); };
  for (int n = 0; n < 5; ++n)
    for (int m = 0; m < 32; ++m) codes[32 * n + m] = trit(block[m], n);
  for (int n = 0; n < 5; ++n)
    for (int m = 0; m < 16; ++m) codes[160 + 16 * n + m] = trit(block[32 + m], n);
  for (int n = 0; n < 4; ++n)
    for (int m = 0; m < 4; ++m) codes[240 + 4 * n + m] = trit(block[48 + m], n);
}

void ternary_linear_rows(const DotKernels& dot, const TernaryWeights& w, const QuantizedActs& x,
                         int64_t n0, int64_t n1, float* out) {
  const int64_t nblocks = w.k / kTqBlock, block_bytes = ternary_block_bytes(w.layout);
  const int64_t groups = w.side_scales.data ? w.k / w.group : 0;
  int32_t sums[kSubsPerTqBlock];
  uint8_t codes[kTqBlock];
  std::vector<float> acc(x.rows);
  for (int64_t n = n0; n < n1; ++n) {
    std::fill(acc.begin(), acc.end(), 0.f);
    const uint8_t* row = w.packed + n * nblocks * block_bytes;
    for (int64_t b = 0; b < nblocks; ++b) {
      const uint8_t* block = row + b * block_bytes;
      const float d = half_to_float(load_u16(block + block_bytes - 2));
      if (w.layout == TernaryLayout::TQ1_0) decode_tq1_block(block, codes);
      for (int64_t m = 0; m < x.rows; ++m) {
        const int64_t s0 = b * kSubsPerTqBlock;
        if (w.layout == TernaryLayout::TQ2_0)
          dot.tq2_block(block, x.row(m) + b * kTqBlock, sums);
        else
          dot.u8_subs(codes, x.row(m) + b * kTqBlock, kSubsPerTqBlock, sums);
        const float* xs = x.row_scale(m) + s0;
        const int32_t* xsum = x.row_sum(m) + s0;
        float block_acc = 0.f;
        for (int s = 0; s < kSubsPerTqBlock; ++s) {
          // code = trit + 1, so sum(trit * xq) = sum(code * xq) - sum(xq).
          float v = xs[s] * float(sums[s] - xsum[s]);
          if (groups) v *= w.side_scales[n * groups + (s0 + s) * kSub / w.group];
          block_acc += v;
        }
        acc[m] += d * block_acc;
      }
    }
    for (int64_t m = 0; m < x.rows; ++m) out[m * w.n + n] = acc[m];
  }
}

void int4_linear_rows(const DotKernels& dot, const Int4Weights& w, const QuantizedActs& x,
                      int64_t n0, int64_t n1, float* out) {
  const int64_t groups = w.k / w.group, subs = w.group / kSub;
  std::vector<int32_t> sums(w.k / kSub);
  for (int64_t n = n0; n < n1; ++n) {
    const uint8_t* row = w.qweight + n * (w.k / 2);
    for (int64_t m = 0; m < x.rows; ++m) {
      // The whole row in one call (the SIMD tables reduce eight sub-blocks at a time), then scales.
      dot.int4_subs(row, x.row(m), int(w.k / kSub), sums.data());
      const float* xs = x.row_scale(m);
      const int32_t* xsum = x.row_sum(m);
      float acc = 0.f;
      for (int64_t g = 0; g < groups; ++g) {
        const int32_t zero = w.zeros ? w.zeros[n * groups + g] : 8;
        float group_acc = 0.f;
        for (int64_t s = g * subs; s < (g + 1) * subs; ++s) group_acc += xs[s] * float(sums[s] - zero * xsum[s]);
        acc += half_to_float(w.scales[n * groups + g]) * group_acc;
      }
      out[m * w.n + n] = acc;
    }
  }
}

void int8_linear_rows(const DotKernels& dot, const Int8Weights& w, const float* x, int64_t m,
                      int64_t n0, int64_t n1, float* out) {
  const int64_t subs = w.k / kSub;
  std::vector<float> sums(subs);
  for (int64_t n = n0; n < n1; ++n) {
    for (int64_t r = 0; r < m; ++r) {
      dot.s8f32_subs(w.qweight + n * w.k, x + r * w.k, int(subs), sums.data());
      float acc = 0.f;
      for (int64_t s = 0; s < subs; ++s) acc += half_to_float(w.scales[n * subs + s]) * sums[s];
      out[r * w.n + n] = acc;
    }
  }
}

}  // namespace edgecpm
