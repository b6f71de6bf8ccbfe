#include "pte_program.h"

#include <sys/stat.h>

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

std::unique_ptr<PteProgram> PteProgram::open(const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
    throw RunnerError(path + ": no such program file (export one with `edgecpm export MODEL -o DIR`)");
  }
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
  auto loaded = executorch::runtime::Program::load(program->loader_.get());
  if (!loaded.ok()) {
    throw RunnerError(path + ": not a readable ExecuTorch program (" + describe(loaded.error()) +
                      "); the file may be truncated: re-run `edgecpm export`");
  }
  program->program_ = std::make_unique<executorch::runtime::Program>(std::move(loaded.get()));
  return program;
}

std::unique_ptr<LoadedMethod> PteProgram::load_method(const char* name) const {
  auto meta = program_->method_meta(name);
  if (!meta.ok()) {
    throw RunnerError(path_ + ": has no method '" + name + "' (" + describe(meta.error()) +
                      "); was it made by `edgecpm export`?");
  }
  auto loaded = std::make_unique<LoadedMethod>();
  for (size_t i = 0; i < meta->num_memory_planned_buffers(); ++i) {
    size_t size = static_cast<size_t>(meta->memory_planned_buffer_size(i).get());
    loaded->planned_buffers_.emplace_back(new uint8_t[size]);
    loaded->planned_spans_.emplace_back(loaded->planned_buffers_.back().get(), size);
  }
  loaded->planned_memory_ = std::make_unique<executorch::runtime::HierarchicalAllocator>(
      executorch::runtime::Span<executorch::runtime::Span<uint8_t>>(loaded->planned_spans_.data(),
                                                                    loaded->planned_spans_.size()));
  loaded->memory_manager_ = std::make_unique<executorch::runtime::MemoryManager>(
      &loaded->method_allocator_, loaded->planned_memory_.get(), &loaded->temp_allocator_);
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
