// AVX-512 VNNI with 16 output rows in the 16 lanes: no horizontal sums at all.
//
// Per 32 weight bytes of 16 rows, one 16x8 dword transpose turns "row r's bytes" into "column g:
// bytes 4g..4g+3 of every row", so one vpdpbusd against 4 broadcast activation bytes adds 4
// products to each row's own lane; 8 of them give a sub-block's exact sum for all 16 rows. The
// float combination is then the definition's (linear_tiles.h) with lane = output row: lane s % 8
// is one of 8 accumulator registers, summed in the same tree at the end, so outputs equal
// scalar's to the bit (and mixing this with Tiles<> for leftover rows is safe).
//
// Each sub-block's decoded weights are 8 registers: ops[g] holds, per row, the codes (u8) that
// pair with activation bytes 4g..4g + 3 (g < 4) or 16 + 4(g - 4).. (g >= 4) of the sub-block.
//
// Included by dot_avx512vnni.cpp only.
#pragma once

#include <immintrin.h>

#include <vector>

#include "linear_tiles.h"

namespace edgecpm {
namespace {

constexpr int kLanes = 16;

// 32 bytes at p of each of 16 rows (`stride` bytes apart) -> col[g] = dword g of rows 0..15:
// 8 registers in flight, not 16, so a chunk's columns, accumulators and masks stay in registers.
// Register i holds rows (i % 4) + 8 (i / 4) and that + 4, the order in which three shuffle stages
// leave lane r = row r.
// Row a + 4q is at base[a] + q * 4 stride: 4 bases per call and two loop-invariant offsets (4s,
// 12s; 8s is 2 * 4s), so every load is one addressing mode. The bases go through an empty asm so
// the compiler cannot fold them back into 16 loop-invariant row offsets, which it kept in xmm
// registers (a vmovq to a GPR on port 0, beside the vpdpbusds, per row load).
inline void load_columns(const uint8_t* p, int64_t stride, __m512i* col) {
  __m512i z[8], t[8];
  const uint8_t* base[4] = {p, p + stride, p + 2 * stride, p + 3 * stride};
  for (auto& b : base) asm("" : "+r"(b));
  const int64_t s4 = 4 * stride;
  for (int i = 0; i < 8; ++i) {
    const uint8_t* b = base[i % 4] + (i / 4) * 2 * s4;  // rows i % 4 + 8 (i / 4) and that + 4
    z[i] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b))),
                              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + s4)), 1);
  }
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm512_unpacklo_epi32(z[i], z[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(z[i], z[i + 1]);
  }
  // z[4q + e], 128-bit lane L: dword 4 (L % 2) + e of 4 rows.
  for (int i = 0; i < 8; i += 4) {
    z[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
    z[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
    z[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
    z[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  for (int e = 0; e < 4; ++e) {
    col[e] = _mm512_shuffle_i32x4(z[e], z[4 + e], _MM_SHUFFLE(2, 0, 2, 0));
    col[4 + e] = _mm512_shuffle_i32x4(z[e], z[4 + e], _MM_SHUFFLE(3, 1, 3, 1));
  }
}

// 16 fp16 (one per lane) -> fp32; exact.
inline __m512 halves(__m512i h32) { return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(h32)); }

// Row offsets 0, stride, 2 stride, ... (bytes), for gathers.
inline __m512i row_offsets(int64_t stride) {
  return _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                            _mm512_set1_epi32(int32_t(stride)));
}

// Per-sub weight scales of 8 sub-blocks that are 8 consecutive fp16 per row (int8, int4 g32):
// four dword gathers (pairs of scales, never past the row's last one).
inline void scales8_consecutive(const uint16_t* first, int64_t row_elems, __m512* ws) {
  const __m512i off = row_offsets(row_elems * 2);
  for (int i = 0; i < 4; ++i) {
    const __m512i g = _mm512_i32gather_epi32(off, first + 2 * i, 1);
    ws[2 * i] = halves(_mm512_and_si512(g, _mm512_set1_epi32(0xFFFF)));
    ws[2 * i + 1] = halves(_mm512_srli_epi32(g, 16));
  }
}

// A chunk's weight scales and zero points, per sub-block, one lane per row.
struct ChunkScales {
  __m512 ws[8];
  __m512i wz[8];     // per-lane zero points (formats whose zero_vec())
  int32_t zero = 0;  // else the one zero point
};

// Decoded operands of one sub-block: ops[0..3] and ops[4..7] hold codes times 2^lo / 2^hi
// (masking in place instead of shifting down: the sums are shifted once instead).
struct SubOps {
  __m512i ops[8];
  int lo, hi;
};

// Side scales of one 16-row tile, per thread: lanes[16 g + r] = row r's scale of group g (f32).
struct TileSides {
  std::vector<float> lanes, conv;
};

struct Tq2Rows {
  const TernaryWeights& w;
  int64_t row_bytes;
  SideScales side;     // data == nullptr: the blocks' d only
  TileSides* sides;    // side scales: this thread's scratch
  static constexpr int kChunkBytes = 66;
  const uint8_t* at(int64_t n, int64_t c) const { return w.packed + n * row_bytes + c * 66; }
  int64_t stride() const { return row_bytes; }
  bool zero_vec() const { return false; }
  // Rows n..n+15's side scales, once per tile: their [16, groups] block is contiguous, so it is
  // converted to f32 16 at a time (fp16: vcvtph2ps, exact; bf16: a shift), then each group's
  // column gathered from L1 into a lane vector.
  void begin_tile(int64_t n) const {
    if (!side.data) return;
    const int64_t groups = side.groups, count = kLanes * groups;
    const float* src;
    if (side.type == ScaleView::Type::F32) {
      src = static_cast<const float*>(side.data) + n * groups;
    } else {
      const uint16_t* h = static_cast<const uint16_t*>(side.data) + n * groups;
      float* conv = sides->conv.data();
      const bool f16 = side.type == ScaleView::Type::F16;
      for (int64_t e = 0; e < count; e += kLanes) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(h + e));
        _mm512_storeu_ps(conv + e, f16 ? _mm512_cvtph_ps(v) : _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16)));
      }
      src = conv;
    }
    const __m512i off = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                           _mm512_set1_epi32(int32_t(groups)));
    float* lanes = sides->lanes.data();
    for (int64_t g = 0; g < groups; ++g) _mm512_storeu_ps(lanes + kLanes * g, _mm512_i32gather_ps(off, src + g, 4));
  }
  template <typename Sink>
  void decode(int64_t n, int64_t c, ChunkScales& k, Sink&& sink) const {
    const uint8_t* p = w.packed + n * row_bytes + c * 66;
    // d: the top half of the dword at bytes 62..65 (in bounds, unlike 64..67 of the last block).
    const __m512 d = halves(_mm512_srli_epi32(_mm512_i32gather_epi32(row_offsets(row_bytes), p + 62, 1), 16));
    if (side.data) {  // the definition's d * side, per sub-block's group
      const int32_t* g = side.gidx + c * 8;
      const float* lanes = sides->lanes.data();
      for (int s = 0; s < 8; ++s) k.ws[s] = _mm512_mul_ps(d, _mm512_loadu_ps(lanes + kLanes * g[s]));
    } else {
      for (int s = 0; s < 8; ++s) k.ws[s] = d;
    }
    k.zero = 1;
    for (int j = 0; j < 2; ++j) {
      __m512i col[8];
      load_columns(p + 32 * j, row_bytes, col);
      for (int l = 0; l < 4; ++l) {
        SubOps o;
        const __m512i mask = _mm512_set1_epi8(char(3 << (2 * l)));
        for (int g = 0; g < 8; ++g) o.ops[g] = _mm512_and_si512(col[g], mask);
        o.lo = o.hi = 2 * l;
        sink(4 * j + l, o);
      }
    }
  }
};

struct Int4Rows {
  const Int4Weights& w;
  int64_t groups;
  static constexpr int kChunkBytes = 128;
  const uint8_t* at(int64_t n, int64_t c) const { return w.qweight + n * (w.k / 2) + c * 128; }
  int64_t stride() const { return w.k / 2; }
  bool zero_vec() const { return w.zeros != nullptr; }
  void begin_tile(int64_t) const {}
  template <typename Sink>
  void decode(int64_t n, int64_t c, ChunkScales& k, Sink&& sink) const {
    const int64_t s0 = c * 8;
    if (w.group == kSub) {
      scales8_consecutive(w.scales + n * groups + s0, groups, k.ws);
    } else {
      alignas(32) uint16_t h[8][kLanes];
      for (int s = 0; s < 8; ++s)
        for (int r = 0; r < kLanes; ++r) h[s][r] = w.scales[(n + r) * groups + (s0 + s) * kSub / w.group];
      for (int s = 0; s < 8; ++s) k.ws[s] = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(h[s])));
    }
    k.zero = 8;
    if (zero_vec()) {
      alignas(64) int32_t z[8][kLanes];
      for (int s = 0; s < 8; ++s)
        for (int r = 0; r < kLanes; ++r) z[s][r] = w.zeros[(n + r) * groups + (s0 + s) * kSub / w.group];
      for (int s = 0; s < 8; ++s) k.wz[s] = _mm512_load_si512(z[s]);
    }
    const __m512i lo = _mm512_set1_epi8(0x0F), hi = _mm512_set1_epi8(char(0xF0));
    for (int h = 0; h < 4; ++h) {
      __m512i col[8];
      load_columns(at(n, c) + 32 * h, stride(), col);
      // Columns 4b..4b+3: sub-block 2h + b, bytes 4q..; low nibbles are its even k (the first
      // 16 activations), high nibbles the odd k (the next 16).
      for (int b = 0; b < 2; ++b) {
        SubOps o;
        for (int q = 0; q < 4; ++q) {
          o.ops[q] = _mm512_and_si512(col[4 * b + q], lo);
          o.ops[4 + q] = _mm512_and_si512(col[4 * b + q], hi);
        }
        o.lo = 0;
        o.hi = 4;
        sink(2 * h + b, o);
      }
    }
  }
};

struct Int8Rows {
  const Int8Weights& w;
  static constexpr int kChunkBytes = kChunk;
  const uint8_t* at(int64_t n, int64_t c) const { return reinterpret_cast<const uint8_t*>(w.qweight + n * w.k + c * kChunk); }
  int64_t stride() const { return w.k; }
  bool zero_vec() const { return false; }
  void begin_tile(int64_t) const {}
  template <typename Sink>
  void decode(int64_t n, int64_t c, ChunkScales& k, Sink&& sink) const {
    scales8_consecutive(w.scales + n * (w.k / kSub) + c * 8, w.k / kSub, k.ws);
    k.zero = 128;
    const __m512i flip = _mm512_set1_epi8(char(0x80));  // +128: u8 codes, taken back via x_sum
    for (int sub = 0; sub < 8; ++sub) {
      __m512i col[8];
      load_columns(at(n, c) + 32 * sub, stride(), col);
      SubOps o;
      for (int g = 0; g < 8; ++g) o.ops[g] = _mm512_xor_si512(col[g], flip);
      o.lo = o.hi = 0;
      sink(sub, o);
    }
  }
};

// Codes times 2^shift back to codes (bytes masked to their field, so a 16-bit shift is exact per
// byte): done once per prefill tile, so the per-activation-row loop has no shifts left.
inline SubOps normalized(SubOps o) {
  for (int g = 0; g < 4; ++g) o.ops[g] = _mm512_srl_epi16(o.ops[g], _mm_cvtsi32_si128(o.lo));
  for (int g = 4; g < 8; ++g) o.ops[g] = _mm512_srl_epi16(o.ops[g], _mm_cvtsi32_si128(o.hi));
  o.lo = o.hi = 0;
  return o;
}

// Sub-block s against activation row x (chunk-relative): the definition's partial, added to
// lane s of acc. kShifted: o's operands still carry their 2^lo / 2^hi factors.
template <bool kZeroVec, bool kShifted>
inline void rows_sub(const ChunkScales& k, const SubOps& o, int s, const XChunk& x, __m512* acc) {
  __m512i lo = _mm512_setzero_si512(), hi = _mm512_setzero_si512();
  for (int g = 0; g < 4; ++g) {
    int32_t a, b;
    std::memcpy(&a, x.q + 32 * s + 4 * g, 4);
    std::memcpy(&b, x.q + 32 * s + 16 + 4 * g, 4);
    lo = _mm512_dpbusd_epi32(lo, o.ops[g], _mm512_set1_epi32(a));
    hi = _mm512_dpbusd_epi32(hi, o.ops[4 + g], _mm512_set1_epi32(b));
  }
  __m512i sum;
  if (!kShifted)
    sum = _mm512_add_epi32(lo, hi);
  else if (o.lo == o.hi)  // each half is a multiple of its 2^shift: one shift of the sum is exact
    sum = _mm512_srai_epi32(_mm512_add_epi32(lo, hi), o.lo);
  else
    sum = _mm512_add_epi32(_mm512_srai_epi32(lo, o.lo), _mm512_srai_epi32(hi, o.hi));
  const __m512i v = kZeroVec ? _mm512_sub_epi32(sum, _mm512_mullo_epi32(k.wz[s], _mm512_set1_epi32(x.sum[s])))
                             : _mm512_sub_epi32(sum, _mm512_set1_epi32(k.zero * x.sum[s]));
  acc[s] = _mm512_add_ps(acc[s], _mm512_mul_ps(k.ws[s], _mm512_mul_ps(_mm512_set1_ps(x.scale[s]), _mm512_cvtepi32_ps(v))));
}

inline void rows_store(const __m512* a, float* out) {
  _mm512_storeu_ps(out, _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a[0], a[1]), _mm512_add_ps(a[2], a[3])),
                                      _mm512_add_ps(_mm512_add_ps(a[4], a[5]), _mm512_add_ps(a[6], a[7]))));
}

inline XChunk x_chunk(const QuantizedActs& x, int64_t m, int64_t c) {
  return {x.row(m) + c * kChunk, x.row_scale(m) + c * 8, x.row_sum(m) + c * 8};
}

// A decoded chunk kept for every activation row of a prefill.
struct RowsChunk {
  ChunkScales k;
  SubOps sub[8];
};

// Per thread, grown once: a 16-row tile's decoded chunks over the whole K.
struct RowsScratch {
  std::vector<RowsChunk> chunks;
};

// Through asm: GCC 12 silently dropped the builtin's 32 prefetches of a chunk (it kept 16).
inline void prefetch_l1(const uint8_t* p) { asm volatile("prefetcht0 %0" : : "m"(*p)); }

// Chunk c + kAhead of these 16 rows (or of the next tile's, past the row end) into L1 while this
// one computes: 16 interleaved row streams are more than the hardware prefetchers follow.
template <class Fmt>
inline void prefetch_ahead(const Fmt& f, int64_t n, int64_t c, int64_t nchunks, int64_t n_end) {
  constexpr int64_t kAhead = 3;
  for (c += kAhead; c >= nchunks; c -= nchunks) n += kLanes;
  if (n + kLanes > n_end) return;
  const uint8_t* p = f.at(n, c);
  for (int r = 0; r < kLanes; ++r)
    for (int b = 0; b < Fmt::kChunkBytes; b += 64) prefetch_l1(p + r * f.stride() + b);
}

// Rows [n, n + 16) for M (1..kFusedRows) activation rows in one pass, each decoded operand used
// straight from registers by every row: a decode step, and the few rows of a speculative verify
// call, for which decoding the chunks into scratch (below) costs more than the rows' own dot
// products. Same integer sums and float order as the scratch path (shifted operands are exact).
constexpr int kFusedRows = 8;

template <int M, bool kZeroVec, class Fmt>
void rows16_fused(const Fmt& f, const QuantizedActs& x, int64_t n_total, int64_t n, int64_t n_end, float* out) {
  const int64_t nchunks = x.cols / kChunk;
  __m512 acc[M][8];
  for (auto& row : acc)
    for (auto& a : row) a = _mm512_setzero_ps();
  ChunkScales k;
  for (int64_t c = 0; c < nchunks; ++c) {
    prefetch_ahead(f, n, c, nchunks, n_end);
    XChunk xc[M];
    for (int m = 0; m < M; ++m) xc[m] = x_chunk(x, m, c);
    f.decode(n, c, k, [&](int s, const SubOps& o) {
      for (int m = 0; m < M; ++m) rows_sub<kZeroVec, true>(k, o, s, xc[m], acc[m]);
    });
  }
  for (int m = 0; m < M; ++m) rows_store(acc[m], out + m * n_total + n);
}

// Rows [n, n + 16) for every activation row. K must be a multiple of 256.
template <bool kZeroVec, class Fmt>
void rows16_zero(const Fmt& f, const QuantizedActs& x, int64_t n_total, int64_t n, int64_t n_end, float* out) {
  const int64_t nchunks = x.cols / kChunk;
  f.begin_tile(n);
  switch (x.rows) {
    case 1: return rows16_fused<1, kZeroVec>(f, x, n_total, n, n_end, out);
    case 2: return rows16_fused<2, kZeroVec>(f, x, n_total, n, n_end, out);
    case 3: return rows16_fused<3, kZeroVec>(f, x, n_total, n, n_end, out);
    case 4: return rows16_fused<4, kZeroVec>(f, x, n_total, n, n_end, out);
    case 5: return rows16_fused<5, kZeroVec>(f, x, n_total, n, n_end, out);
    case 6: return rows16_fused<6, kZeroVec>(f, x, n_total, n, n_end, out);
    case 7: return rows16_fused<7, kZeroVec>(f, x, n_total, n, n_end, out);
    case kFusedRows: return rows16_fused<kFusedRows, kZeroVec>(f, x, n_total, n, n_end, out);
    default: break;
  }
  thread_local RowsScratch scratch;
  if (int64_t(scratch.chunks.size()) < nchunks) scratch.chunks.resize(nchunks);
  RowsChunk* ks = scratch.chunks.data();
  for (int64_t c = 0; c < nchunks; ++c)
    f.decode(n, c, ks[c].k, [&](int s, const SubOps& o) { ks[c].sub[s] = normalized(o); });
  int64_t m = 0;
  for (; m + 2 <= x.rows; m += 2) {  // two activation rows share each operand load
    __m512 a0[8], a1[8];
    for (int s = 0; s < 8; ++s) a0[s] = a1[s] = _mm512_setzero_ps();
    for (int64_t c = 0; c < nchunks; ++c) {
      const XChunk x0 = x_chunk(x, m, c), x1 = x_chunk(x, m + 1, c);
#pragma GCC unroll 8
      for (int s = 0; s < 8; ++s) {
        rows_sub<kZeroVec, false>(ks[c].k, ks[c].sub[s], s, x0, a0);
        rows_sub<kZeroVec, false>(ks[c].k, ks[c].sub[s], s, x1, a1);
      }
    }
    rows_store(a0, out + m * n_total + n);
    rows_store(a1, out + (m + 1) * n_total + n);
  }
  for (; m < x.rows; ++m) {
    __m512 a[8];
    for (auto& v : a) v = _mm512_setzero_ps();
    for (int64_t c = 0; c < nchunks; ++c) {
      const XChunk xc = x_chunk(x, m, c);
#pragma GCC unroll 8
      for (int s = 0; s < 8; ++s) rows_sub<kZeroVec, false>(ks[c].k, ks[c].sub[s], s, xc, a);
    }
    rows_store(a, out + m * n_total + n);
  }
}

template <class Fmt>
void rows16(const Fmt& f, const QuantizedActs& x, int64_t n_total, int64_t n, int64_t n_end, float* out) {
  if (f.zero_vec())
    rows16_zero<true>(f, x, n_total, n, n_end, out);
  else
    rows16_zero<false>(f, x, n_total, n, n_end, out);
}

// The row-lane kernel over as many whole 16-row tiles of [n0, n1) as fit; returns where it stopped.
template <class Fmt>
int64_t rows16_range(const Fmt& f, const QuantizedActs& x, int64_t n_total, int64_t n0, int64_t n1, float* out) {
  int64_t n = n0;
  for (; n + kLanes <= n1; n += kLanes) rows16(f, x, n_total, n, n1, out);
  return n;
}

}  // namespace
}  // namespace edgecpm
