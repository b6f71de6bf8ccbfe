#include "pte_program.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>

#include <executorch/runtime/core/error.h>

#include "runner_error.h"

namespace edgecpm {

using executorch::runtime::Error;
using executorch::runtime::to_string;

namespace {

std::string describe(Error error) {
  return std::string(to_string(error)) + " (ExecuTorch error " + std::to_string(static_cast<int>(error)) + ")";
}

}  // namespace

void PteProgram::require_file(const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
    throw RunnerError(path + ": no such program file (export one with `edgecpm export MODEL -o DIR`)");
  }
}

std::unique_ptr<PteProgram> PteProgram::open(const std::string& path) {
  require_file(path);
  auto program = std::unique_ptr<PteProgram>(new PteProgram());
  program->path_ = path;
  // mmap rather than read: weights that stay in the program (those our custom kernels use, not
  // XNNPACK's repacked copies) are then shared page cache, not a private heap copy: less RSS.
  auto loader = executorch::extension::MmapDataLoader::from(
      path.c_str(), executorch::extension::MmapDataLoader::MlockConfig::NoMlock);
  if (!loader.ok()) {
    throw RunnerError(path + ": cannot open (" + describe(loader.error()) + ")");
  }
  program->loader_ = std::make_unique<executorch::extension::MmapDataLoader>(std::move(loader.get()));
  // InternalConsistency: the flatbuffer's offsets and sizes are checked before anything reads
  // through them (Minimal lets a corrupted program crash the runner instead of failing to load).
  auto loaded = executorch::runtime::Program::load(program->loader_.get(),
                                                   executorch::runtime::Program::Verification::InternalConsistency);
  if (!loaded.ok()) {
    throw RunnerError(path + ": not a readable ExecuTorch program (" + describe(loaded.error()) +
                      "); the file may be truncated: re-run `edgecpm export`");
  }
  program->program_ = std::make_unique<executorch::runtime::Program>(std::move(loaded.get()));
  program->plan_shared_arenas();
  return program;
}

void PteProgram::plan_shared_arenas() {
  std::vector<size_t> sizes;  // per planned buffer index (memory id - 1), the max over methods
  for (size_t m = 0; m < program_->num_methods(); ++m) {
    auto name = program_->get_method_name(m);
    auto meta = name.ok() ? program_->method_meta(name.get()) : executorch::runtime::Result<
        executorch::runtime::MethodMeta>(name.error());
    if (!meta.ok()) {
      throw RunnerError(path_ + ": cannot read the metadata of method " + std::to_string(m) + " (" +
                        describe(meta.error()) + ")");
    }
    for (size_t i = 0; i < meta->num_memory_planned_buffers(); ++i) {
      auto size = meta->memory_planned_buffer_size(i);
      if (!size.ok()) {
        throw RunnerError(path_ + ": bad planned buffer " + std::to_string(i) + " of method '" + name.get() + "'");
      }
      if (sizes.size() <= i) {
        sizes.resize(i + 1, 0);
      }
      sizes[i] = std::max(sizes[i], static_cast<size_t>(size.get()));
    }
  }
  for (size_t size : sizes) {
    // Zeroed: the KV caches live here, and slots never written are still read (with zero
    // attention weight) by masked attention; 0 * NaN from stale heap bytes would be NaN.
    // calloc, not new[]: a size read from a damaged program can be terabytes, which must come
    // back as nullptr and a message (operator new throws, and under ASan aborts), and calloc's
    // large blocks are zero pages that cost memory only once touched.
    auto* buffer = static_cast<uint8_t*>(std::calloc(size > 0 ? size : 1, 1));
    if (buffer == nullptr) {
      throw RunnerError(path_ + ": plans " + std::to_string(size) + " bytes for one memory arena, more than this "
                        "machine can allocate; if the program is damaged, re-run `edgecpm export`");
    }
    planned_buffers_.emplace_back(buffer);
    planned_spans_.emplace_back(buffer, size);
  }
  planned_memory_ = std::make_unique<executorch::runtime::HierarchicalAllocator>(
      executorch::runtime::Span<executorch::runtime::Span<uint8_t>>(planned_spans_.data(), planned_spans_.size()));
}

void PteProgram::FreeDeleter::operator()(uint8_t* p) const { std::free(p); }

bool PteProgram::has_method(const char* name) const {
  // By the names: method_meta() of a missing method would log an ExecuTorch error line.
  for (size_t m = 0; m < program_->num_methods(); ++m) {
    auto method = program_->get_method_name(m);
    if (method.ok() && std::string(method.get()) == name) {
      return true;
    }
  }
  return false;
}

std::unique_ptr<LoadedMethod> PteProgram::load_method(const char* name) const {
  auto meta = program_->method_meta(name);
  if (!meta.ok()) {
    throw RunnerError(path_ + ": has no method '" + name + "' (" + describe(meta.error()) +
                      "); was it made by `edgecpm export`?");
  }
  auto loaded = std::make_unique<LoadedMethod>();
  loaded->memory_manager_ = std::make_unique<executorch::runtime::MemoryManager>(
      &loaded->method_allocator_, planned_memory_.get(), &loaded->temp_allocator_);
  auto method = program_->load_method(name, loaded->memory_manager_.get());
  if (method.error() == Error::OperatorMissing) {
    // ExecuTorch has logged "Missing operator: ..." above. Ours are edgecpm::*; aten::* ones
    // would mean the runner was linked without the wheel's kernel libraries.
    throw RunnerError(path_ + ": method '" + name + "' needs an operator that no loaded kernel library "
                      "registers (see 'Missing operator' above). For edgecpm::* operators build/load "
                      "libedgecpm_kernels.so (make kernels, or make kernels-aarch64) and keep it next to "
                      "edgecpm-runner or on LD_LIBRARY_PATH");
  }
  if (!method.ok()) {
    throw RunnerError(path_ + ": cannot load method '" + name + "' (" + describe(method.error()) + ")");
  }
  loaded->method_ = std::make_unique<executorch::runtime::Method>(std::move(method.get()));
  return loaded;
}

std::vector<int64_t> PteProgram::constant_ints(const char* name) const {
  auto loaded = load_method(name);
  auto& method = loaded->method();
  Error status = method.execute();
  if (status != Error::Ok) {
    throw RunnerError(path_ + ": method '" + name + "' failed (" + describe(status) + ")");
  }
  std::vector<int64_t> values;
  for (size_t i = 0; i < method.outputs_size(); ++i) {
    const auto& out = method.get_output(i);
    if (out.isInt()) {
      values.push_back(out.toInt());
    } else if (out.isBool()) {
      values.push_back(out.toBool() ? 1 : 0);
    } else {
      throw RunnerError(path_ + ": method '" + name + "' output " + std::to_string(i) + " is not an integer");
    }
  }
  return values;
}

}  // namespace edgecpm
