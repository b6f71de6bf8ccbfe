// An ExecuTorch program (.pte) and its loaded methods, through the runtime's low-level API.
//
// The executorch wheel ships libexecutorch.so without a usable extension::Module, so the runner
// does what Module would: map the file, load the Program, and give each Method its own planned
// memory (sizes from MethodMeta) plus malloc-backed method/temp allocators.
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
  std::vector<std::unique_ptr<uint8_t[]>> planned_buffers_;
  std::vector<executorch::runtime::Span<uint8_t>> planned_spans_;
  std::unique_ptr<executorch::runtime::HierarchicalAllocator> planned_memory_;
  std::unique_ptr<executorch::runtime::MemoryManager> memory_manager_;
  std::unique_ptr<executorch::runtime::Method> method_;
};

class PteProgram {
 public:
  // Throws RunnerError naming `path` when it is missing, unreadable or not a program.
  static std::unique_ptr<PteProgram> open(const std::string& path);

  // Throws RunnerError; for a missing operator the message says which library to build/load.
  std::unique_ptr<LoadedMethod> load_method(const char* name) const;

  // Executes a metadata method (get_bos_id, get_eos_ids, ...) and returns its int/bool outputs.
  std::vector<int64_t> constant_ints(const char* name) const;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::unique_ptr<executorch::extension::MmapDataLoader> loader_;  // must outlive program_
  std::unique_ptr<executorch::runtime::Program> program_;
};

}  // namespace edgecpm
