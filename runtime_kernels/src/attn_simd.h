// The attention primitives written once over a vector type (Ops: AVX2 in attn_avx2.cpp, NEON in
// attn_neon.cpp, each compiled with its own flags). Everything lives in the namespace
// EDGECPM_ATTN_NS so no inline function compiled with -mavx2 can stand in for another file's.
//
// qk: tiles of 4 heads x 2 keys (8 independent accumulators: enough to hide FMA latency, few
// enough for 16 AVX2 registers); every dot is the same lane-wise FMA chain over d, one fixed
// horizontal tree, then the d % W tail in index order, whatever tile it falls in.
// pv: tiles of 2 heads x 4 vectors of the value row; p is broadcast, each acc element is a
// sequential FMA chain over the keys.
#pragma once

#include "attn_kernels.h"

namespace edgecpm {
namespace EDGECPM_ATTN_NS {

using V = Ops::V;
constexpr int W = Ops::W;

// The d % W tail of a dot product, in index order. Not inlined: one copy, so every tile rounds alike.
__attribute__((noinline)) float tail_dot(const float* q, const float* k, int c0, int d, float acc) {
  for (int c = c0; c < d; ++c) acc += q[c] * k[c];
  return acc;
}

template <int NH, int NK>
inline void qk_tile(const float* q, const float* k, int d, int dv, float scale, float* out, int ld) {
  V acc[NH][NK];
  for (int h = 0; h < NH; ++h)
    for (int j = 0; j < NK; ++j) acc[h][j] = Ops::zero();
  for (int c = 0; c < dv; c += W) {
    V kv[NK];
    for (int j = 0; j < NK; ++j) kv[j] = Ops::load(k + j * d + c);
    for (int h = 0; h < NH; ++h) {
      const V qv = Ops::load(q + h * d + c);
      for (int j = 0; j < NK; ++j) acc[h][j] = Ops::fma(qv, kv[j], acc[h][j]);
    }
  }
  float r[NH * NK];
  if (NH * NK == 8) {
    Ops::reduce_add8(&acc[0][0], r);  // the same tree per accumulator as reduce_add, 8 at once
  } else {
    for (int h = 0; h < NH; ++h)
      for (int j = 0; j < NK; ++j) r[h * NK + j] = Ops::reduce_add(acc[h][j]);
  }
  for (int h = 0; h < NH; ++h)
    for (int j = 0; j < NK; ++j) {
      const float x = dv < d ? tail_dot(q + h * d, k + j * d, dv, d, r[h * NK + j]) : r[h * NK + j];
      out[h * ld + j] = x * scale;
    }
}

template <int NK>
inline void qk_heads(const float* q, int nh, const float* k, int d, int dv, float scale, float* out, int ld) {
  int h = 0;
  for (; h + 4 <= nh; h += 4) qk_tile<4, NK>(q + h * d, k, d, dv, scale, out + h * ld, ld);
  switch (nh - h) {
    case 3: qk_tile<3, NK>(q + h * d, k, d, dv, scale, out + h * ld, ld); break;
    case 2: qk_tile<2, NK>(q + h * d, k, d, dv, scale, out + h * ld, ld); break;
    case 1: qk_tile<1, NK>(q + h * d, k, d, dv, scale, out + h * ld, ld); break;
    default: break;
  }
}

void qk(const float* q, int nh, const float* k, int nk, int d, float scale, float* out, int ld) {
  const int dv = d / W * W;
  int j = 0;
  for (; j + 2 <= nk; j += 2) qk_heads<2>(q, nh, k + j * d, d, dv, scale, out + j, ld);
  if (j < nk) qk_heads<1>(q, nh, k + j * d, d, dv, scale, out + j, ld);
}

float max(const float* x, int n) {
  int i = 0;
  float m = x[0];
  if (n >= W) {
    V mv = Ops::load(x);
    for (i = W; i + W <= n; i += W) mv = Ops::max(mv, Ops::load(x + i));
    m = Ops::reduce_max(mv);
  }
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

float exp_sum(float* x, int n, float m) {
  const V mv = Ops::set1(m);
  V sum = Ops::zero();
  int i = 0;
  for (; i + W <= n; i += W) {
    const V e = Ops::exp(Ops::sub(Ops::load(x + i), mv));
    Ops::store(x + i, e);
    sum = Ops::add(sum, e);
  }
  if (i < n) {
    // The tail through the same vector exp (padding exps to 0), so a score's probability does not
    // depend on its position.
    float buf[W];
    for (int l = 0; l < W; ++l) buf[l] = i + l < n ? x[i + l] : -__builtin_inff();
    const V e = Ops::exp(Ops::sub(Ops::load(buf), mv));
    Ops::store(buf, e);
    for (int l = 0; i + l < n; ++l) x[i + l] = buf[l];
    sum = Ops::add(sum, e);
  }
  return Ops::reduce_add(sum);
}

template <int NH, int NV>
inline void pv_tile(const float* p, int ldp, const float* v, int nk, int d, int c, float* acc) {
  V a[NH][NV];
  for (int h = 0; h < NH; ++h)
    for (int i = 0; i < NV; ++i) a[h][i] = Ops::load(acc + h * d + c + i * W);
  for (int j = 0; j < nk; ++j) {
    V vv[NV];
    for (int i = 0; i < NV; ++i) vv[i] = Ops::load(v + j * d + c + i * W);
    for (int h = 0; h < NH; ++h) {
      const V w = Ops::set1(p[h * ldp + j]);
      for (int i = 0; i < NV; ++i) a[h][i] = Ops::fma(w, vv[i], a[h][i]);
    }
  }
  for (int h = 0; h < NH; ++h)
    for (int i = 0; i < NV; ++i) Ops::store(acc + h * d + c + i * W, a[h][i]);
}

template <int NV>
inline void pv_heads(const float* p, int ldp, int nh, const float* v, int nk, int d, int c, float* acc) {
  int h = 0;
  for (; h + 2 <= nh; h += 2) pv_tile<2, NV>(p + h * ldp, ldp, v, nk, d, c, acc + h * d);
  if (h < nh) pv_tile<1, NV>(p + h * ldp, ldp, v, nk, d, c, acc + h * d);
}

void pv(const float* p, int ldp, int nh, const float* v, int nk, int d, float* acc) {
  int c = 0;
  for (; c + 4 * W <= d; c += 4 * W) pv_heads<4>(p, ldp, nh, v, nk, d, c, acc);
  for (; c + W <= d; c += W) pv_heads<1>(p, ldp, nh, v, nk, d, c, acc);
  for (; c < d; ++c)
    for (int h = 0; h < nh; ++h) {
      float a = acc[h * d + c];
      for (int j = 0; j < nk; ++j) a += p[h * ldp + j] * v[j * d + c];
      acc[h * d + c] = a;
    }
}

void scale(float* y, int n, float a) {
  const V av = Ops::set1(a);
  int i = 0;
  for (; i + W <= n; i += W) Ops::store(y + i, Ops::mul(Ops::load(y + i), av));
  for (; i < n; ++i) y[i] *= a;
}

void axpy(float* y, const float* x, int n, float a) {
  const V av = Ops::set1(a);
  int i = 0;
  for (; i + W <= n; i += W) Ops::store(y + i, Ops::fma(av, Ops::load(x + i), Ops::load(y + i)));
  for (; i < n; ++i) y[i] += a * x[i];
}

}  // namespace EDGECPM_ATTN_NS
}  // namespace edgecpm
