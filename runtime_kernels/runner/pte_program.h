// An ExecuTorch program (.pte) and its loaded methods, through the runtime's low-level API.
//
// The executorch wheel ships libexecutorch.so without a usable extension::Module, so the runner
// does what Module(share_memory_arenas=true) would: map the file, load the Program, give every
// Method the program's one set of planned arenas plus its own malloc-backed method/temp allocators.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <executorch/extension/data_loader/mmap_data_loader.h>
#include <executorch/extension/memory_allocator/malloc_memory_allocator.h>
#include <executorch/runtime/core/hierarchical_allocator.h>
#include <executorch/runtime/executor/memory_manager.h>
#include <executorch/runtime/executor/method.h>
#include <executorch/runtime/executor/program.h>

namespace edgecpm {

// A Method and the memory it points into; not movable, since the Method keeps those pointers.
class LoadedMethod {
 public:
  LoadedMethod() = default;
  LoadedMethod(const LoadedMethod&) = delete;
  LoadedMethod& operator=(const LoadedMethod&) = delete;

  executorch::runtime::Method& method() { return *method_; }

 private:
  friend class PteProgram;
  executorch::extension::MallocMemoryAllocator method_allocator_;
  executorch::extension::MallocMemoryAllocator temp_allocator_;  // kernels' scratch, reset per op
  std::unique_ptr<executorch::runtime::MemoryManager> memory_manager_;  // points at the program's arenas
  std::unique_ptr<executorch::runtime::Method> method_;
};

class PteProgram {
 public:
  // Throws RunnerError naming `path` when it is not a regular file (checked first, before any
  // other file of the bundle is looked at: that is the mistake to report).
  static void require_file(const std::string& path);

  // Throws RunnerError naming `path` when it is missing, unreadable or not a program.
  static std::unique_ptr<PteProgram> open(const std::string& path);

  // Throws RunnerError; for a missing operator the message says which library to build/load.
  // The method points into this program's arenas: it must not outlive the PteProgram, and two
  // methods' calls must not interleave (each call's outputs are overwritten by the next call's
  // activations, so callers copy what they keep).
  std::unique_ptr<LoadedMethod> load_method(const char* name) const;

  bool has_method(const char* name) const;

  // Executes a metadata method (get_bos_id, get_eos_ids, ...) and returns its int/bool outputs.
  std::vector<int64_t> constant_ints(const char* name) const;

  const std::string& path() const { return path_; }

 private:
  void plan_shared_arenas();

  std::string path_;
  std::unique_ptr<executorch::extension::MmapDataLoader> loader_;  // must outlive program_
  std::unique_ptr<executorch::runtime::Program> program_;
  // One buffer per memory id, sized to the largest any method plans for it, shared by all
  // methods. A program with speculative methods plans its KV caches as shared mutable buffers
  // (mem_id 2): `forward` and `verify` must see the same base cache, and `draft` its own slot of
  // the same arena; per-method buffers would give each method a private, inconsistent cache
  // (and the draft's writes would land in nobody's). Allocated once at open so that the
  // pointers loaded methods hold stay valid.
  struct FreeDeleter {
    void operator()(uint8_t* p) const;
  };
  std::vector<std::unique_ptr<uint8_t[], FreeDeleter>> planned_buffers_;
  std::vector<executorch::runtime::Span<uint8_t>> planned_spans_;
  std::unique_ptr<executorch::runtime::HierarchicalAllocator> planned_memory_;
};

}  // namespace edgecpm
