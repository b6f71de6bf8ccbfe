#include "act_quant.h"

#include <cstring>

#include "dot.h"

namespace edgecpm {

// Written so the compiler vectorises every loop (no libm calls through the PLT):
//  * absmax as the max of |x|'s bits: for non-negative floats the integer order is the float
//    order, so it equals fmax(|x|) on finite values (a NaN wins here, as torch's amax lets it);
//  * round-half-to-even as (v + 1.5 * 2^23) - 1.5 * 2^23: exact for |v| < 2^22 in the default
//    rounding mode, i.e. lrintf's result (|v| <= 127 here, by construction of the scale). The
//    file builds without -ffast-math, so the compiler may not fold the two additions away.
void quantize_acts(const float* x, int64_t rows, int64_t cols, ActOrder order, QuantizedActs& out) {
  const int64_t nsub = cols / kSub;
  out.rows = rows;
  out.cols = cols;
  out.q.resize(rows * cols);
  out.scale.resize(rows * nsub);
  out.sum.resize(rows * nsub);
  constexpr float kRound = 0x1.8p23f;
  for (int64_t m = 0; m < rows; ++m) {
    for (int64_t s = 0; s < nsub; ++s) {
      const float* src = x + m * cols + s * kSub;
      int32_t bits[kSub];
      std::memcpy(bits, src, sizeof bits);
      int32_t amax_bits = 0;
      for (int i = 0; i < kSub; ++i) {
        const int32_t a = bits[i] & 0x7FFFFFFF;
        amax_bits = a > amax_bits ? a : amax_bits;
      }
      float amax;
      std::memcpy(&amax, &amax_bits, sizeof amax);
      const float scale = amax / 127.f;
      const float inv = scale > 0.f ? 1.f / scale : 0.f;
      int8_t q[kSub];
      int32_t total = 0;
      for (int i = 0; i < kSub; ++i) {
        float r = (src[i] * inv + kRound) - kRound;
        // Written so that NaN (an Inf or NaN activation: a damaged program's weights) lands on
        // -127 like any other out-of-range value; converting NaN to int is undefined behaviour.
        r = r > 127.f ? 127.f : r;
        r = r >= -127.f ? r : -127.f;
        const int32_t v = int32_t(r);
        q[i] = int8_t(v);
        total += v;
      }
      int8_t* dst = out.q.data() + m * cols + s * kSub;
      if (order == ActOrder::Int4) {
        for (int i = 0; i < kSub / 2; ++i) {
          dst[i] = q[2 * i];
          dst[kSub / 2 + i] = q[2 * i + 1];
        }
      } else {
        std::memcpy(dst, q, kSub);
      }
      out.scale[m * nsub + s] = scale;
      out.sum[m * nsub + s] = total;
    }
  }
}

}  // namespace edgecpm
