// The quantized linears' one float order, written once for every ISA: each dot_*.cpp includes
// this with its own `Isa` (8-lane int/float vectors and the integer chunk kernels) and gets the
// three table entries from Tiles<Isa>.
//
// The definition. Per output (m, n) and 32-wide sub-block s: the exact integer sum_s of code * xq,
// then  partial_s = w_scale[s] * (x_scale[s] * float(sum_s - w_zero[s] * x_sum[s]))  (multiply
// then add, never fused: these files build with -ffp-contract=off), accumulated into 8 lanes,
// lane s % 8, in increasing s, then ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)). Lane l of
// an 8-wide vector is sub-block 8c + l of chunk c, so the vector code *is* that order.
//
// w_zero undoes the code offset with the activations' integer sums: 1 for ternary (code = trit+1),
// the zero point for int4 (8 when symmetric), none for int8 (signed codes).
//
// Tiles: kRowTile output rows x Isa::kActs activation rows per pass, so each weight chunk is read
// and decoded once per tile; a K tail short of 8 sub-blocks runs through zero-padded copies (a
// zero sub-block adds +-0 to its lane, and a lane is never -0, so the sum is unchanged).
//
// Everything here is in an unnamed namespace: each ISA's file gets its own copy, compiled with
// its own instruction set, never linked into another's.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "act_quant.h"
#include "dot.h"
#include "linear_weights.h"

namespace edgecpm {
namespace {

constexpr int kChunkSubs = 8;  // sub-blocks per vector of partials
constexpr int kChunk = kChunkSubs * kSub;
constexpr int64_t kAhead = 4;  // software prefetch distance, in chunks

// 256 activations of one row with their 8 scales and integer sums.
struct XChunk {
  const int8_t* q;
  const float* scale;
  const int32_t* sum;
};

// A TU-local fp16 -> fp32 (half.h's finite_half_to_float, same bits): see the note above.
inline float tile_half(uint16_t h) {
  uint32_t bits = uint32_t(h & 0x7FFF) << 13;
  float mag;
  std::memcpy(&mag, &bits, 4);
  mag *= 0x1p112f;
  std::memcpy(&bits, &mag, 4);
  bits |= uint32_t(h & 0x8000) << 16;
  std::memcpy(&mag, &bits, 4);
  return mag;
}

// half_to_float's bits for every fp16 (inf and nan too), TU-local like tile_half: side scales
// are read with ScaleView's semantics, not through its inline (shared, possibly foreign-ISA) code.
// Branch-free (a select), so SideScales::convert's loop vectorises.
inline float tile_half_exact(uint16_t h) {
  const float finite = tile_half(h);
  uint32_t bits;
  std::memcpy(&bits, &finite, 4);
  const uint32_t special = (uint32_t(h & 0x8000) << 16) | 0x7F800000u | (uint32_t(h & 0x3FF) << 13);
  bits = (h & 0x7C00) == 0x7C00 ? special : bits;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Ternary side scales [N, K/group] (f32 / f16 / bf16) as the kernels read them: converted to f32
// once per row tile (the shared tiles: convert(); avx512vnni's 16-row tiles: their own), never a
// type switch or a division per element; gidx[s] = s * 32 / group, a table per call.
struct SideScales {
  const void* data = nullptr;  // nullptr: no side scales
  ScaleView::Type type = ScaleView::Type::F16;
  int64_t groups = 0;          // per row
  const int32_t* gidx = nullptr;

  int64_t per_group = 0;        // sub-blocks per group

  // Rows [n, n + rows)'s scales in f32, row-major like the tensor ([rows, groups] is contiguous
  // there): one branch-free, vectorisable loop per type.
  void convert(int64_t n, int rows, float* out) const {
    const int64_t count = rows * groups, first = n * groups;
    switch (type) {
      case ScaleView::Type::F32: std::memcpy(out, static_cast<const float*>(data) + first, count * sizeof(float)); return;
      case ScaleView::Type::F16: {
        const uint16_t* p = static_cast<const uint16_t*>(data) + first;
        for (int64_t e = 0; e < count; ++e) out[e] = tile_half_exact(p[e]);
        return;
      }
      default: {
        const uint16_t* p = static_cast<const uint16_t*>(data) + first;
        for (int64_t e = 0; e < count; ++e) {
          const uint32_t bits = uint32_t(p[e]) << 16;
          std::memcpy(out + e, &bits, 4);
        }
      }
    }
  }
};

// A row tile's side scales in f32 (SideScales::convert), per thread.
struct SideRows {
  std::vector<float> v;  // [rows, groups]
  int64_t n0 = 0;
};

// w's side scales with this thread's group table (rebuilt only when K or the group changes).
inline SideScales side_scales(const TernaryWeights& w) {
  SideScales s;
  if (!w.side_scales.data) return s;
  thread_local std::vector<int32_t> table;
  thread_local int64_t table_group = 0;
  const int64_t nsub = w.k / kSub, per_group = w.group / kSub;
  if (int64_t(table.size()) != nsub || table_group != w.group) {
    table.resize(nsub);
    int32_t g = 0;
    int64_t in_group = 0;
    for (int64_t i = 0; i < nsub; ++i) {
      table[i] = g;
      if (++in_group == per_group) in_group = 0, ++g;
    }
    table_group = w.group;
  }
  s.data = w.side_scales.data;
  s.type = w.side_scales.type;
  s.groups = w.k / w.group;
  s.per_group = per_group;
  s.gidx = table.data();
  return s;
}

inline uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);  // little-endian on every target we build for
  return v;
}

inline float reduce_lanes(const float* l) {
  return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

// Zero-padded copy of chunk c of activation row m, for the K tail.
struct XPad {
  alignas(64) int8_t q[kChunk];
  float scale[kChunkSubs];
  int32_t sum[kChunkSubs];
};

template <class Isa>
struct Tiles {
  using F8 = typename Isa::F8;
  using I8 = typename Isa::I8;
  static constexpr int R = kRowTile;
  static constexpr int T = Isa::kActs;

  // Row n's side scales of chunk c's 8 sub-blocks, from the row tile's f32 copy.
  static F8 side_lanes(const SideScales& side, const SideRows& rows, int64_t n, int64_t c) {
    const float* g = rows.v.data() + (n - rows.n0) * side.groups;
    const int64_t s0 = c * kChunkSubs;
    if (side.per_group == 4) return Isa::fdup4(g + side.gidx[s0]);  // g128, the default scheme
    if (side.per_group % kChunkSubs == 0) return Isa::fset(g[side.gidx[s0]]);
    if (side.per_group == 1) return Isa::fload(g + s0);
    float t[kChunkSubs];
    for (int i = 0; i < kChunkSubs; ++i) t[i] = g[side.gidx[s0 + i]];
    return Isa::fload(t);
  }

  // ---- formats: the chunk's integer sums and each row's weight scale / zero vectors ----

  // What TQ2_0 and TQ1_0 share: blocks of 256 weights with their fp16 d in the last two bytes,
  // optional side scales per group (d * side), and code = trit + 1 (zero point 1).
  template <int BlockBytes>
  struct TernaryBlocks {
    const TernaryWeights& w;
    int64_t row_bytes;
    SideScales side;
    SideRows* exp;
    void begin_rows(int64_t n, int rows) const {
      if (!side.data) return;
      exp->n0 = n;
      side.convert(n, rows, exp->v.data());
    }
    static constexpr bool kZero = true;
    static constexpr int kChunkBytes = BlockBytes;
    const uint8_t* block(int64_t n, int64_t c) const { return w.packed + n * row_bytes + c * BlockBytes; }
    const uint8_t* at(int64_t n, int64_t c) const { return block(n, c); }
    void scales(int64_t n, int64_t c, int, F8& ws, I8& wz) const {
      const float d = tile_half(load_u16(block(n, c) + BlockBytes - 2));
      // d * side, per lane, where there are side scales.
      ws = side.data ? Isa::fmul(Isa::fset(d), side_lanes(side, *exp, n, c)) : Isa::fset(d);
      wz = Isa::iset(1);
    }
  };

  struct Tq2 : TernaryBlocks<66> {
    template <int RR, int TT>
    void sums(int64_t n, int64_t c, int, const XChunk* x, I8 (*out)[TT]) const {
      const uint8_t* p[RR];
      for (int r = 0; r < RR; ++r) p[r] = this->block(n + r, c);
      Isa::template tq2<RR, TT>(p, x, out);
    }
  };

  struct Tq1 : TernaryBlocks<54> {
    template <int RR, int TT>
    void sums(int64_t n, int64_t c, int, const XChunk* x, I8 (*out)[TT]) const {
      alignas(64) uint8_t codes[RR][kChunk];
      const uint8_t* p[RR];
      for (int r = 0; r < RR; ++r) {
        decode_tq1_block(this->block(n + r, c), codes[r]);
        p[r] = codes[r];
      }
      Isa::template u8<RR, TT>(p, x, out);
    }
  };

  struct Int4 {
    const Int4Weights& w;
    int64_t groups;
    static constexpr bool kZero = true;
    void begin_rows(int64_t, int) const {}
    const uint8_t* at(int64_t n, int64_t c) const { return w.qweight + n * (w.k / 2) + c * (kChunk / 2); }
    static constexpr int kChunkBytes = kChunk / 2;
    // 8 sub-blocks of nibbles = 128 bytes; `valid` sub-blocks of them are real (tail: < 8).
    template <int RR, int TT>
    void sums(int64_t n, int64_t c, int valid, const XChunk* x, I8 (*out)[TT]) const {
      const uint8_t* p[RR];
      alignas(64) uint8_t pad[RR][kChunk / 2];
      for (int r = 0; r < RR; ++r) {
        p[r] = w.qweight + (n + r) * (w.k / 2) + c * (kChunk / 2);
        if (valid < kChunkSubs) {
          std::memset(pad[r], 0, sizeof pad[r]);
          std::memcpy(pad[r], p[r], valid * 16);
          p[r] = pad[r];
        }
      }
      Isa::template int4<RR, TT>(p, x, out);
    }
    void scales(int64_t n, int64_t c, int valid, F8& ws, I8& wz) const {
      const int64_t s0 = c * kChunkSubs;
      if (w.group == kSub && valid == kChunkSubs) {
        ws = Isa::half8(w.scales + n * groups + s0);
        wz = w.zeros ? Isa::u8x8(w.zeros + n * groups + s0) : Isa::iset(8);
        return;
      }
      float s[kChunkSubs] = {0, 0, 0, 0, 0, 0, 0, 0};
      int32_t z[kChunkSubs] = {0, 0, 0, 0, 0, 0, 0, 0};
      for (int i = 0; i < valid; ++i) {
        const int64_t g = n * groups + (s0 + i) * kSub / w.group;
        s[i] = tile_half(w.scales[g]);
        z[i] = w.zeros ? w.zeros[g] : 8;
      }
      ws = Isa::fload(s);
      wz = Isa::iload(z);
    }
  };

  struct Int8 {
    const Int8Weights& w;
    static constexpr bool kZero = false;
    void begin_rows(int64_t, int) const {}
    const uint8_t* at(int64_t n, int64_t c) const {
      return reinterpret_cast<const uint8_t*>(w.qweight + n * w.k + c * kChunk);
    }
    static constexpr int kChunkBytes = kChunk;
    template <int RR, int TT>
    void sums(int64_t n, int64_t c, int valid, const XChunk* x, I8 (*out)[TT]) const {
      const int8_t* p[RR];
      alignas(64) int8_t pad[RR][kChunk];
      for (int r = 0; r < RR; ++r) {
        p[r] = w.qweight + (n + r) * w.k + c * kChunk;
        if (valid < kChunkSubs) {
          std::memset(pad[r], 0, sizeof pad[r]);
          std::memcpy(pad[r], p[r], valid * kSub);
          p[r] = pad[r];
        }
      }
      Isa::template s8<RR, TT>(p, x, out);
    }
    void scales(int64_t n, int64_t c, int valid, F8& ws, I8& wz) const {
      const uint16_t* sc = w.scales + n * (w.k / kSub) + c * kChunkSubs;
      if (valid == kChunkSubs) {
        ws = Isa::half8(sc);
      } else {
        float s[kChunkSubs] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (int i = 0; i < valid; ++i) s[i] = tile_half(sc[i]);
        ws = Isa::fload(s);
      }
      wz = Isa::iset(0);
    }
  };

  // ---- the tile: RR output rows from n, TT activation rows from m, over the whole K ----

  template <int RR, int TT, class Fmt>
  static void tile(const Fmt& f, const QuantizedActs& x, int64_t n_total, int64_t n, int64_t m, float* out) {
    const int64_t nsub = x.cols / kSub, nchunks = (nsub + kChunkSubs - 1) / kChunkSubs;
    F8 acc[RR][TT];
    for (int r = 0; r < RR; ++r)
      for (int t = 0; t < TT; ++t) acc[r][t] = Isa::fset(0.f);
    XPad pad[TT];
    for (int64_t c = 0; c < nchunks; ++c) {
      const int valid = int(nsub - c * kChunkSubs < kChunkSubs ? nsub - c * kChunkSubs : kChunkSubs);
      XChunk xc[TT];
      for (int t = 0; t < TT; ++t) {
        xc[t] = {x.row(m + t) + c * kChunk, x.row_scale(m + t) + c * kChunkSubs, x.row_sum(m + t) + c * kChunkSubs};
        if (valid < kChunkSubs) {
          std::memset(&pad[t], 0, sizeof pad[t]);
          std::memcpy(pad[t].q, xc[t].q, valid * kSub);
          std::memcpy(pad[t].scale, xc[t].scale, valid * sizeof(float));
          std::memcpy(pad[t].sum, xc[t].sum, valid * sizeof(int32_t));
          xc[t] = {pad[t].q, pad[t].scale, pad[t].sum};
        }
      }
      if (c + kAhead < nchunks)  // the rows' chunk kAhead on, while this one computes
        for (int r = 0; r < RR; ++r)
          for (int b = 0; b < Fmt::kChunkBytes; b += 64) __builtin_prefetch(f.at(n + r, c + kAhead) + b);
      I8 sums[RR][TT];
      f.template sums<RR, TT>(n, c, valid, xc, sums);
      for (int r = 0; r < RR; ++r) {
        F8 ws;
        I8 wz;
        f.scales(n + r, c, valid, ws, wz);
        for (int t = 0; t < TT; ++t) {
          I8 v = sums[r][t];
          if (Fmt::kZero) v = Isa::isub(v, Isa::imul(wz, Isa::iload(xc[t].sum)));
          acc[r][t] = Isa::fadd(acc[r][t], Isa::fmul(ws, Isa::fmul(Isa::fload(xc[t].scale), Isa::cvt(v))));
        }
      }
    }
    for (int r = 0; r < RR; ++r)
      for (int t = 0; t < TT; ++t) {
        alignas(32) float l[kChunkSubs];
        Isa::fstore(l, acc[r][t]);
        out[(m + t) * n_total + n + r] = reduce_lanes(l);
      }
  }

  template <int RR, class Fmt>
  static void rows(const Fmt& f, const QuantizedActs& x, int64_t n_total, int64_t n, float* out) {
    f.begin_rows(n, RR);
    int64_t m = 0;
    for (; m + T <= x.rows; m += T) tile<RR, T>(f, x, n_total, n, m, out);
    for (; m < x.rows; ++m) tile<RR, 1>(f, x, n_total, n, m, out);
  }

  template <class Fmt>
  static void run(const Fmt& f, const QuantizedActs& x, int64_t n_total, int64_t n0, int64_t n1, float* out) {
    int64_t n = n0;
    for (; n + R <= n1; n += R) rows<R>(f, x, n_total, n, out);
    for (; n < n1; ++n) rows<1>(f, x, n_total, n, out);
  }

  static void ternary(const TernaryWeights& w, const QuantizedActs& x, int64_t n0, int64_t n1, float* out) {
    const int64_t row_bytes = w.k / kChunk * ternary_block_bytes(w.layout);
    thread_local SideRows exp;
    const SideScales side = side_scales(w);
    if (side.data && exp.v.size() < size_t(R * side.groups)) exp.v.resize(R * side.groups);
    if (w.layout == TernaryLayout::TQ2_0)
      run(Tq2{{w, row_bytes, side, &exp}}, x, w.n, n0, n1, out);
    else
      run(Tq1{{w, row_bytes, side, &exp}}, x, w.n, n0, n1, out);
  }
  static void int4(const Int4Weights& w, const QuantizedActs& x, int64_t n0, int64_t n1, float* out) {
    run(Int4{w, w.k / w.group}, x, w.n, n0, n1, out);
  }
  static void int8(const Int8Weights& w, const QuantizedActs& x, int64_t n0, int64_t n1, float* out) {
    run(Int8{w}, x, w.n, n0, n1, out);
  }

  static DotKernels table(const char* name) { return {name, ternary, int4, int8}; }
};

}  // namespace
}  // namespace edgecpm
