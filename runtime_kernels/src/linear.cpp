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

namespace {

// sum_s v[s] in a fixed order of 8 interleaved lanes: the compiler vectorises it, and since every
// ISA shares this code, their outputs stay bit-identical.
float sum_lanes(const float* v, int64_t n) {
  float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t s = 0;
  for (; s + 8 <= n; s += 8)
    for (int l = 0; l < 8; ++l) lane[l] += v[s + l];
  for (; s < n; ++s) lane[s % 8] += v[s];
  return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

// Per 32-wide sub-block s of one output row: weight scale w_scale[s], code offset w_zero[s]
// (the code of a zero weight: 1 for ternary, the zero point for int4), integer sums[s].
// y = sum_s w_scale[s] * x_scale[s] * (sums[s] - w_zero[s] * x_sum[s]).
float combine(const float* w_scale, const int32_t* w_zero, const int32_t* sums, const float* x_scale,
              const int32_t* x_sum, int64_t nsub, float* partial) {
  for (int64_t s = 0; s < nsub; ++s)
    partial[s] = w_scale[s] * (x_scale[s] * float(sums[s] - w_zero[s] * x_sum[s]));
  return sum_lanes(partial, nsub);
}

// Scratch for one thread's rows: per-sub weight scales/offsets, integer sums, products.
struct RowScratch {
  std::vector<float> w_scale, partial;
  std::vector<int32_t> w_zero, sums;
  explicit RowScratch(int64_t nsub) : w_scale(nsub), partial(nsub), w_zero(nsub), sums(nsub) {}
};

}  // namespace

void ternary_linear_rows(const DotKernels& dot, const TernaryWeights& w, const QuantizedActs& x,
                         int64_t n0, int64_t n1, float* out) {
  const int64_t nblocks = w.k / kTqBlock, block_bytes = ternary_block_bytes(w.layout), nsub = w.k / kSub;
  const int64_t groups = w.side_scales.data ? w.k / w.group : 0;
  RowScratch r(nsub);
  std::fill(r.w_zero.begin(), r.w_zero.end(), 1);  // code = trit + 1
  std::vector<uint8_t> codes(w.layout == TernaryLayout::TQ1_0 ? w.k : 0);
  for (int64_t n = n0; n < n1; ++n) {
    const uint8_t* row = w.packed + n * nblocks * block_bytes;
    for (int64_t b = 0; b < nblocks; ++b) {
      const uint8_t* block = row + b * block_bytes;
      const float d = finite_half_to_float(load_u16(block + block_bytes - 2));
      for (int s = 0; s < kSubsPerTqBlock; ++s) {
        const int64_t sub = b * kSubsPerTqBlock + s;
        r.w_scale[sub] = groups ? d * w.side_scales[n * groups + sub * kSub / w.group] : d;
      }
      if (w.layout == TernaryLayout::TQ1_0) decode_tq1_block(block, codes.data() + b * kTqBlock);
    }
    for (int64_t m = 0; m < x.rows; ++m) {
      for (int64_t b = 0; b < nblocks; ++b) {
        int32_t* sums = r.sums.data() + b * kSubsPerTqBlock;
        if (w.layout == TernaryLayout::TQ2_0)
          dot.tq2_block(row + b * block_bytes, x.row(m) + b * kTqBlock, sums);
        else
          dot.u8_subs(codes.data() + b * kTqBlock, x.row(m) + b * kTqBlock, kSubsPerTqBlock, sums);
      }
      out[m * w.n + n] = combine(r.w_scale.data(), r.w_zero.data(), r.sums.data(), x.row_scale(m), x.row_sum(m),
                                 nsub, r.partial.data());
    }
  }
}

void int4_linear_rows(const DotKernels& dot, const Int4Weights& w, const QuantizedActs& x,
                      int64_t n0, int64_t n1, float* out) {
  const int64_t groups = w.k / w.group, subs = w.group / kSub, nsub = w.k / kSub;
  RowScratch r(nsub);
  for (int64_t n = n0; n < n1; ++n) {
    for (int64_t g = 0; g < groups; ++g) {
      const float scale = finite_half_to_float(w.scales[n * groups + g]);
      const int32_t zero = w.zeros ? w.zeros[n * groups + g] : 8;
      for (int64_t s = g * subs; s < (g + 1) * subs; ++s) {
        r.w_scale[s] = scale;
        r.w_zero[s] = zero;
      }
    }
    const uint8_t* row = w.qweight + n * (w.k / 2);
    for (int64_t m = 0; m < x.rows; ++m) {
      // The whole row in one call: the SIMD tables reduce eight sub-blocks at a time.
      dot.int4_subs(row, x.row(m), int(nsub), r.sums.data());
      out[m * w.n + n] = combine(r.w_scale.data(), r.w_zero.data(), r.sums.data(), x.row_scale(m), x.row_sum(m),
                                 nsub, r.partial.data());
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
      for (int64_t s = 0; s < subs; ++s) acc += finite_half_to_float(w.scales[n * subs + s]) * sums[s];
      out[r * w.n + n] = acc;
    }
  }
}

}  // namespace edgecpm
