#include "act_quant.h"

#include <cmath>

#include "dot.h"

namespace edgecpm {

void quantize_acts(const float* x, int64_t rows, int64_t cols, ActOrder order, QuantizedActs& out) {
  const int64_t nsub = cols / kSub;
  out.rows = rows;
  out.cols = cols;
  out.q.resize(rows * cols);
  out.scale.resize(rows * nsub);
  out.sum.resize(rows * nsub);
  for (int64_t m = 0; m < rows; ++m) {
    for (int64_t s = 0; s < nsub; ++s) {
      const float* src = x + m * cols + s * kSub;
      float amax = 0.f;
      for (int i = 0; i < kSub; ++i) amax = std::fmax(amax, std::fabs(src[i]));
      const float scale = amax / 127.f;
      const float inv = scale > 0.f ? 1.f / scale : 0.f;
      int8_t* dst = out.q.data() + m * cols + s * kSub;
      int32_t total = 0;
      for (int i = 0; i < kSub; ++i) {
        const long r = std::lrintf(src[i] * inv);
        const int8_t v = int8_t(r > 127 ? 127 : (r < -127 ? -127 : r));
        const int pos = order == ActOrder::Int4 ? (i % 2) * 16 + i / 2 : i;
        dst[pos] = v;
        total += v;
      }
      out.scale[m * nsub + s] = scale;
      out.sum[m * nsub + s] = total;
    }
  }
}

}  // namespace edgecpm
