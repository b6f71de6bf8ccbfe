// GEMV / GEMM speed of the quantized linears at MiniCPM4-0.5B shapes, on the drivers themselves
// (no program, no input copies): GB/s of weight bytes streamed per call, median of the repeats (and the 90th percentile: a slow thread shows there).
//
// Weights cycle through enough copies to leave L2 (a whole 0.5B model fits this VM's L3, so does
// a decode step's weights: that is the regime to measure). Two threads split the output rows as
// the ops do (RowTasks: ~4 tasks per thread from a shared counter; --split even: one half each,
// the old one-task-per-thread parallel_for split); the helper spins between calls so a wake-up is
// not timed.
//
// Usage: edgecpm_linear_bench [--isa NAME] [--threads 1|2] [--reps N] [--m M] [--hot 1] [--shape NxK] [--cpu 1]
//                             [--group G --side f16|bf16|f32] [--split tasks|even] [--only FORMAT]
// --group: ternary side scales [N, K/G] of type --side (f16 by default), as `edgecpm quantize
// --scheme ternary` writes them (G = 128); without it the TQ2_0 blocks' own d only.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "act_quant.h"
#include "isa.h"
#include "linear.h"

using namespace edgecpm;

namespace {

std::mt19937 rng(7);
int cpu_clock = 0;  // --cpu 1: this thread's CPU time, not wall time (one thread, busy machine)

template <typename T>
std::vector<T> random_bytes(size_t n) {
  std::vector<T> v(n);
  std::uniform_int_distribution<int> d(0, 255);
  for (auto& b : v) b = T(d(rng));
  return v;
}

std::vector<uint16_t> random_scales(size_t n) {
  std::vector<uint16_t> v(n);
  std::uniform_int_distribution<int> d(0, 1023);
  for (auto& h : v) h = uint16_t((11 << 10) | d(rng));  // ~[2^-4, 2^-3]
  return v;
}

// Runs fn(n0, n1) over [0, n) on `threads` threads (1 or 2); the helper spins on a generation count.
class Splitter {
 public:
  explicit Splitter(int threads) : threads_(threads) {
    if (threads_ > 1) helper_ = std::thread([this] { loop(); });
  }
  ~Splitter() {
    if (threads_ > 1) {
      stop_ = true;
      gen_.fetch_add(1);
      helper_.join();
    }
  }
  // even: one half each, as ExecuTorch's parallel_for cuts a range; else the op's RowTasks.
  void run(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
    if (threads_ == 1) return fn(0, n);
    if (!even_split) {
      RowTasks tasks(n, threads_);
      if (tasks.tasks == 1) return fn(0, n);
      tasks_ = &tasks;
      fn_ = &fn;
      done_ = false;
      gen_.fetch_add(1);
      tasks.work(fn);
      while (!done_.load()) std::this_thread::yield();
      return;
    }
    const int64_t half = (n / 2 + grain - 1) / grain * grain;
    tasks_ = nullptr;
    fn_ = &fn;
    lo_ = half;
    hi_ = n;
    done_ = false;
    gen_.fetch_add(1);
    fn(0, std::min(half, n));
    while (!done_.load()) std::this_thread::yield();
  }
  static inline int even_split = 0;

 private:
  void loop() {
    uint64_t seen = 0;
    for (;;) {
      while (gen_.load() == seen) std::this_thread::yield();
      seen = gen_.load();
      if (stop_) return;
      if (tasks_)
        tasks_->work(*fn_);
      else if (lo_ < hi_)
        (*fn_)(lo_, hi_);
      done_ = true;
    }
  }
  int threads_;
  std::thread helper_;
  std::atomic<uint64_t> gen_{0};
  std::atomic<bool> done_{true}, stop_{false};
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  RowTasks* tasks_ = nullptr;
  int64_t lo_ = 0, hi_ = 0;
};

double now() {
  if (cpu_clock) {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Result {
  double seconds, gbs, p90;
};

// copies: weight copies cycled through; call(c, n0, n1) runs rows [n0, n1) of copy c.
Result time_calls(Splitter& sp, int64_t n, size_t bytes, int copies, int reps,
                  const std::function<void()>& prepare, const std::function<void(int, int64_t, int64_t)>& call) {
  std::vector<double> t;
  for (int r = -2; r < reps; ++r) {
    const int c = (r + 2) % copies;
    const double t0 = now();
    prepare();  // activation quantization: once per call, as the op does
    sp.run(n, 16, [&](int64_t n0, int64_t n1) { call(c, n0, n1); });
    const double s = now() - t0;
    if (r >= 0) t.push_back(s);
  }
  std::sort(t.begin(), t.end());
  const double med = t[t.size() / 2];
  return {med, double(bytes) / med / 1e9, t[t.size() * 9 / 10]};
}

int hot = 0;  // --hot 1: one copy of the weights (cache-resident: the compute-bound rate)
int copies_for(size_t bytes) { return hot ? 1 : int(std::max<size_t>(1, (96u << 20) / bytes + 1)); }

}  // namespace

int main(int argc, char** argv) {
  int threads = 1, reps = 31, m = 1;
  int64_t only_n = 0, only_k = 0;  // --shape NxK: that one shape instead of the 0.5B ones
  int64_t group = 0;                // --group G: ternary side scales per G
  std::string only;                 // --only read|tq2_0|int4_g32|int8: that format alone (for perf)
  ScaleView::Type side = ScaleView::Type::F16;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--isa") && !set_active_kernels(argv[i + 1])) {
      std::fprintf(stderr, "ISA %s not available (%s)\n", argv[i + 1], edgecpm_kernels_available());
      return 2;
    }
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--m")) m = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--hot")) hot = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--cpu")) cpu_clock = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--shape")) std::sscanf(argv[i + 1], "%ldx%ld", &only_n, &only_k);
    if (!std::strcmp(argv[i], "--group")) group = std::atol(argv[i + 1]);
    if (!std::strcmp(argv[i], "--only")) only = argv[i + 1];
    if (!std::strcmp(argv[i], "--split")) Splitter::even_split = !std::strcmp(argv[i + 1], "even");
    if (!std::strcmp(argv[i], "--side"))
      side = !std::strcmp(argv[i + 1], "f32") ? ScaleView::Type::F32
             : !std::strcmp(argv[i + 1], "bf16") ? ScaleView::Type::BF16 : ScaleView::Type::F16;
  }
  const DotKernels& dot = active_kernels();
  Splitter sp(threads);
  struct Shape { const char* name; int64_t n, k; };
  const Shape shapes[] = {{"q/o 1024->1024", 1024, 1024}, {"up 1024->4096", 4096, 1024},
                          {"down 4096->1024", 1024, 4096}, {"head 1024->73448", 73448, 1024}};
  std::printf("# isa=%s threads=%d%s M=%d reps=%d (median)", dot.name, threads,
              threads > 1 ? (Splitter::even_split ? " split=even" : " split=tasks") : "", m, reps);
  if (group) std::printf(" ternary side scales g%ld %s", long(group),
                         side == ScaleView::Type::F32 ? "f32" : side == ScaleView::Type::BF16 ? "bf16" : "f16");
  std::printf("\n");
  std::printf("%-10s %-18s %10s %10s %10s\n", "format", "shape", "us", "GB/s", "p90 us");
  std::vector<Shape> run(std::begin(shapes), std::end(shapes));
  if (only_n) run = {{"custom", only_n, only_k}};
  for (const Shape& s : run) {
    const bool head = s.n > 10000;
    std::normal_distribution<float> nd(0.f, 1.f);
    std::vector<float> x(m * s.k);
    for (auto& v : x) v = nd(rng);
    QuantizedActs acts;
    std::vector<float> out(m * s.n);
    auto report = [&](const char* fmt, Result r) {
      std::printf("%-10s %-18s %10.1f %10.2f %10.1f\n", fmt, s.name, r.seconds * 1e6, r.gbs, r.p90 * 1e6);
      std::fflush(stdout);
    };
    auto want = [&](const char* f) { return only.empty() || only == f; };
    if (!head && want("read")) {  // the roof: libc's vectorised memchr over as many bytes as the int4 weights
      const size_t bytes = s.n * s.k / 2 + s.n * s.k / 32 * 2;
      const int copies = copies_for(bytes);
      std::vector<std::vector<uint8_t>> w(copies, std::vector<uint8_t>(bytes, 1));
      volatile const void* sink = nullptr;
      report("read", time_calls(sp, s.n, bytes, copies, reps, [] {}, [&](int c, int64_t n0, int64_t n1) {
        const size_t b0 = bytes * n0 / s.n, b1 = bytes * n1 / s.n;
        sink = std::memchr(w[c].data() + b0, 2, b1 - b0);
      }));
    }
    if (!head && m <= 64 && want("tq2_0")) {
      const size_t row = s.k / 256 * 66, elem = side == ScaleView::Type::F32 ? 4 : 2;
      const size_t side_bytes = group ? s.n * (s.k / group) * elem : 0, bytes = s.n * row + side_bytes;
      const int copies = copies_for(bytes);
      std::vector<std::vector<uint8_t>> w(copies), sw(copies);
      for (int i = 0; i < copies; ++i) {
        auto& c = w[i];
        c = random_bytes<uint8_t>(s.n * row);
        const auto d = random_scales(s.n * s.k / 256);
        for (size_t b = 0; b < d.size(); ++b) std::memcpy(&c[b * 66 + 64], &d[b], 2);
        if (group) {  // fp16-range values whatever the type: ~[2^-4, 2^-3]
          const auto h = random_scales(s.n * (s.k / group));
          sw[i].resize(side_bytes);
          for (size_t e = 0; e < h.size(); ++e) {
            if (side == ScaleView::Type::F32) {
              const float f = half_to_float(h[e]);
              std::memcpy(&sw[i][4 * e], &f, 4);
            } else {
              const float f = half_to_float(h[e]);
              uint32_t b;
              std::memcpy(&b, &f, 4);
              const uint16_t v = side == ScaleView::Type::BF16 ? uint16_t(b >> 16) : h[e];
              std::memcpy(&sw[i][2 * e], &v, 2);
            }
          }
        }
      }
      report(group ? "tq2_0+side" : "tq2_0",
             time_calls(sp, s.n, bytes, copies, reps, [&] { quantize_acts(x.data(), m, s.k, ActOrder::Natural, acts); },
                        [&](int c, int64_t n0, int64_t n1) {
                          TernaryWeights tw{w[c].data(), s.n, s.k, TernaryLayout::TQ2_0, {}, 256};
                          if (group) tw = {w[c].data(), s.n, s.k, TernaryLayout::TQ2_0, {sw[c].data(), side}, group};
                          ternary_linear_rows(dot, tw, acts, n0, n1, out.data());
                        }));
    }
    if (!head && want("int4_g32")) {
      const size_t bytes = s.n * s.k / 2 + s.n * s.k / 32 * 2;
      const int copies = copies_for(bytes);
      std::vector<std::vector<uint8_t>> q(copies);
      std::vector<std::vector<uint16_t>> sc(copies);
      for (int c = 0; c < copies; ++c) {
        q[c] = random_bytes<uint8_t>(s.n * s.k / 2);
        sc[c] = random_scales(s.n * s.k / 32);
      }
      report("int4_g32", time_calls(sp, s.n, bytes, copies, reps,
                                    [&] { quantize_acts(x.data(), m, s.k, ActOrder::Int4, acts); },
                                    [&](int c, int64_t n0, int64_t n1) {
                                      const Int4Weights iw{q[c].data(), sc[c].data(), nullptr, s.n, s.k, 32};
                                      int4_linear_rows(dot, iw, acts, n0, n1, out.data());
                                    }));
    }
    if (head && m == 1 && want("int8")) {
      const size_t bytes = s.n * s.k + s.n * s.k / 32 * 2;
      const int copies = copies_for(bytes);
      std::vector<std::vector<int8_t>> q(copies);
      std::vector<std::vector<uint16_t>> sc(copies);
      for (int c = 0; c < copies; ++c) {
        q[c] = random_bytes<int8_t>(s.n * s.k);
        sc[c] = random_scales(s.n * s.k / 32);
      }
      report("int8", time_calls(sp, s.n, bytes, copies, reps,
                                [&] { quantize_acts(x.data(), m, s.k, ActOrder::Natural, acts); },
                                [&](int c, int64_t n0, int64_t n1) {
                                  const Int8Weights w8{q[c].data(), sc[c].data(), s.n, s.k};
                                  int8_linear_rows(dot, w8, acts, n0, n1, out.data());
                                }));
    }
  }
  return 0;
}
