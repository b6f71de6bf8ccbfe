#include "quiet_log.h"

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

void emit_log_message(et_timestamp_t /*timestamp*/, et_pal_log_level_t level, const char* filename,
                      const char* /*function*/, size_t line, const char* message, size_t length) {
  if (!g_verbose && (level == kDebug || level == kInfo)) {
    return;
  }
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!g_verbose && !g_shown->insert(std::string(message, length)).second) {
    return;
  }
  std::fprintf(stderr, "%c executorch:%s:%zu] %.*s\n", static_cast<char>(level), filename, line,
               static_cast<int>(length), message);
}

}  // namespace

void install_quiet_log() {
  const char* verbose = std::getenv("EDGECPM_RUNNER_VERBOSE");
  g_verbose = verbose != nullptr && verbose[0] != '\0' && verbose[0] != '0';
  g_shown = new std::set<std::string>();
  executorch::runtime::register_pal(executorch::runtime::PalImpl::create(emit_log_message, __FILE__));
}

}  // namespace edgecpm
