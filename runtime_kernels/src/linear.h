// The quantized linears over a range of output rows: y[m, n] = sum_k x[m, k] * w[n, k].
//
// Callers (ops_executorch.cpp, the tests) quantize x once and split the output rows [n0, n1)
// across threads, in multiples of kRowTile; the work runs in the given ISA's table (dot.h), whose
// float order is linear_tiles.h's, the same for every ISA.
#pragma once

#include <atomic>
#include <cstdint>

#include "act_quant.h"
#include "dot.h"
#include "linear_weights.h"

namespace edgecpm {

// x must be quantized in ActOrder::Natural for ternary and int8, ActOrder::Int4 for int4.
// out is [M, N] row-major; rows n0..n1-1 of every m are written.
void ternary_linear_rows(const DotKernels& dot, const TernaryWeights& w, const QuantizedActs& x,
                         int64_t n0, int64_t n1, float* out);
void int4_linear_rows(const DotKernels& dot, const Int4Weights& w, const QuantizedActs& x,
                      int64_t n0, int64_t n1, float* out);
// The LM head: W8A8, activations quantized like the others' (llama.cpp's q8_0 x q8_0).
void int8_linear_rows(const DotKernels& dot, const Int8Weights& w, const QuantizedActs& x,
                      int64_t n0, int64_t n1, float* out);

// The threads' share of a linear's output rows: tasks of whole kRowSplit tiles, about
// kTasksPerThread per thread, that each thread takes from a shared counter until none are left.
// ExecuTorch's parallel_for cuts its range into exactly one task per thread (chunk = range /
// threads; pthreadpool then has nothing to balance), so on a busy machine one descheduled thread
// held up the whole call; here the others take over its remaining tasks.
struct RowTasks {
  static constexpr int64_t kTasksPerThread = 4;
  int64_t n_out, tiles, tasks;
  std::atomic<int64_t> next{0};

  RowTasks(int64_t n_out_, int64_t threads)
      : n_out(n_out_), tiles((n_out_ + kRowSplit - 1) / kRowSplit),
        tasks(threads <= 1 || n_out_ < 64 ? 1 : (tiles < threads * kTasksPerThread ? tiles : threads * kTasksPerThread)) {}

  // Runs fn(n0, n1) on tasks until none are left (call it once from every thread).
  template <typename Fn>
  void work(Fn&& fn) {
    for (int64_t t; (t = next.fetch_add(1, std::memory_order_relaxed)) < tasks;) {
      const int64_t n0 = t * tiles / tasks * kRowSplit, n1 = (t + 1) * tiles / tasks * kRowSplit;
      fn(n0, n1 < n_out ? n1 : n_out);
    }
  }
};

}  // namespace edgecpm
