#include "quiet_log.h"

#include "runtime_abort.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>
#include <string>

#include <executorch/runtime/platform/platform.h>

namespace edgecpm {
namespace {

bool g_verbose = false;
std::mutex g_mutex;                  // kernels may log from threadpool workers
std::set<std::string>* g_shown;      // leaked on purpose: logging may happen during exit
char g_last_fatal[512];              // a fixed buffer: read on the way to abort, nothing to allocate

void emit_log_message(et_timestamp_t /*timestamp*/, et_pal_log_level_t level, const char* filename,
                      const char* /*function*/, size_t line, const char* message, size_t length) {
  if (!g_verbose && (level == kDebug || level == kInfo)) {
    return;
  }
  std::lock_guard<std::mutex> lock(g_mutex);
  if (level == kFatal) {
    // A failed ET_CHECK; runtime_abort.cpp puts it into the runner's one error line.
    std::snprintf(g_last_fatal, sizeof g_last_fatal, "%.*s", static_cast<int>(length), message);
    if (!g_verbose) {
      return;
    }
  }
  if (!g_verbose && !g_shown->insert(std::string(message, length)).second) {
    return;
  }
  std::fprintf(stderr, "%c executorch:%s:%zu] %.*s\n", static_cast<char>(level), filename, line,
               static_cast<int>(length), message);
}

}  // namespace

const char* last_fatal_log() { return g_last_fatal; }

void install_quiet_log() {
  const char* verbose = std::getenv("EDGECPM_RUNNER_VERBOSE");
  g_verbose = verbose != nullptr && verbose[0] != '\0' && verbose[0] != '0';
  g_shown = new std::set<std::string>();
  // Null entries keep ExecuTorch's defaults (clock, allocation).
  executorch::runtime::register_pal(executorch::runtime::PalImpl::create(
      nullptr, runner_abort, nullptr, nullptr, emit_log_message, nullptr, nullptr, __FILE__));
}

}  // namespace edgecpm
