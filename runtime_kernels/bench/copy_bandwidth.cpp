// The machine's memory copy bandwidth, the ceiling that `edgecpm bench` sets decode's weight GB/s
// against (its bw_pct column): a decode step streams every weight once, so a memory-bound decode
// can at best approach what memcpy reaches on buffers far larger than the last-level cache.
//
// Each thread copies its own slice of a --mib MiB source into a destination of the same size
// (all threads, as the runner's decode uses all cores); the best of --reps copies counts, after
// one untimed copy that faults every page in. GB/s counts the bytes read plus the bytes written
// (STREAM's convention for Copy), because both cross the memory bus.
//
// Usage: edgecpm_copy_bandwidth [--mib N] [--reps N] [-t THREADS]
// Prints one JSON line: {"copy_gb_s":..,"buffer_mib":..,"threads":..,"reps":..,"best_s":..}
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
  long mib = 128;  // far beyond any edge or desktop CPU's last-level cache
  int reps = 5;
  int threads = 0;  // 0: one per core
};

[[noreturn]] void usage_error(const std::string& what) {
  std::fprintf(stderr, "edgecpm_copy_bandwidth: %s\nusage: edgecpm_copy_bandwidth [--mib N] [--reps N] [-t THREADS]\n",
               what.c_str());
  std::exit(2);
}

long positive(const char* flag, const char* text, long most) {
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || value < 1 || value > most) {
    usage_error(std::string(flag) + " " + text + ": expected a whole number from 1 to " + std::to_string(most));
  }
  return value;
}

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) usage_error(flag + " needs a value");
    const char* value = argv[++i];
    if (flag == "--mib") {
      options.mib = positive("--mib", value, 1 << 16);
    } else if (flag == "--reps") {
      options.reps = static_cast<int>(positive("--reps", value, 1000));
    } else if (flag == "-t") {
      options.threads = static_cast<int>(positive("-t", value, 256));
    } else {
      usage_error("unknown flag " + flag);
    }
  }
  if (options.threads == 0) options.threads = std::max(1u, std::thread::hardware_concurrency());
  return options;
}

// One copy of src into dst, split into a contiguous slice per thread; seconds of wall time.
double timed_copy(char* dst, const char* src, size_t bytes, int threads) {
  const size_t slice = (bytes + threads - 1) / threads;
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    const size_t begin = std::min(bytes, t * slice);
    const size_t end = std::min(bytes, begin + slice);
    workers.emplace_back([=] { std::memcpy(dst + begin, src + begin, end - begin); });
  }
  for (auto& worker : workers) worker.join();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  const size_t bytes = static_cast<size_t>(options.mib) << 20;
  std::vector<char> src(bytes), dst(bytes);
  for (size_t i = 0; i < bytes; i += 4096) src[i] = static_cast<char>(i >> 12);
  timed_copy(dst.data(), src.data(), bytes, options.threads);  // first touch of dst's pages
  double best = 1e30;
  for (int r = 0; r < options.reps; ++r) best = std::min(best, timed_copy(dst.data(), src.data(), bytes, options.threads));
  // The copy's result is read, so no compiler may drop it as dead.
  if (std::memcmp(dst.data(), src.data(), bytes) != 0) {
    std::fprintf(stderr, "edgecpm_copy_bandwidth: the copy differs from its source\n");
    return 1;
  }
  std::printf("{\"copy_gb_s\":%.3f,\"buffer_mib\":%ld,\"threads\":%d,\"reps\":%d,\"best_s\":%.6f}\n",
              2.0 * bytes / best / 1e9, options.mib, options.threads, options.reps, best);
  return 0;
}
