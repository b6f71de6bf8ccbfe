#include "isa.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1 << 13)
#endif
#endif

namespace edgecpm {
namespace {

bool cpu_supports(const DotKernels* k) {
  if (k == nullptr) return false;
#if defined(__x86_64__)
  if (k == avx2_kernels()) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (k == avx512vnni_kernels())
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
#endif
#if defined(__aarch64__)
  if (k == neon_kernels()) return true;  // Advanced SIMD is mandatory in ARMv8-A
#if defined(__linux__)
  if (k == neon_dotprod_kernels()) return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
  if (k == neon_i8mm_kernels())
    return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0 && (getauxval(AT_HWCAP2) & HWCAP2_I8MM) != 0;
#endif
#endif
  return k == &scalar_kernels();
}

const DotKernels* find(const char* name) {
  for (const DotKernels* k : available_kernels())
    if (std::strcmp(k->name, name) == 0) return k;
  return nullptr;
}

const DotKernels* initial() {
  const char* want = std::getenv("EDGECPM_KERNEL_ISA");
  if (want != nullptr && *want != '\0') {
    if (const DotKernels* k = find(want)) return k;
    std::fprintf(stderr, "edgecpm kernels: EDGECPM_KERNEL_ISA=%s is not available on this CPU/build "
                 "(available: %s); using %s\n", want, edgecpm_kernels_available(),
                 available_kernels().front()->name);
  }
  return available_kernels().front();
}

const DotKernels*& active() {
  static const DotKernels* k = initial();
  return k;
}

}  // namespace

std::vector<const DotKernels*> available_kernels() {
  std::vector<const DotKernels*> out;
  for (const DotKernels* k : {neon_i8mm_kernels(), neon_dotprod_kernels(), neon_kernels(), avx512vnni_kernels(), avx2_kernels()})
    if (cpu_supports(k)) out.push_back(k);
  out.push_back(&scalar_kernels());
  return out;
}

const DotKernels& active_kernels() { return *active(); }

bool set_active_kernels(const char* name) {
  const DotKernels* k = find(name);
  if (k == nullptr) return false;
  active() = k;
  return true;
}

}  // namespace edgecpm

extern "C" {

const char* edgecpm_kernels_isa() { return edgecpm::active_kernels().name; }

const char* edgecpm_kernels_available() {
  static const std::string names = [] {
    std::string s;
    for (const edgecpm::DotKernels* k : edgecpm::available_kernels()) s += (s.empty() ? "" : ",") + std::string(k->name);
    return s;
  }();
  return names.c_str();
}

int edgecpm_kernels_set_isa(const char* name) { return edgecpm::set_active_kernels(name) ? 0 : -1; }

}
