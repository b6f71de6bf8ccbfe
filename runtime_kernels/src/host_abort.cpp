// In a Python process, a failed ExecuTorch ET_CHECK abort()s the interpreter: SIGABRT, a core,
// nothing the user can act on. InternalConsistency verification does not rule these out (a
// damaged program whose plan gives a value of the wrong type loads, then aborts while unboxing an
// argument). edgecpm's PteModel installs this platform layer (PAL) instead: the failed check
// becomes one `error:` line naming the program, and exit status 2, as for any other bad input.
// edgecpm-runner registers its own PAL (runner/quiet_log.cpp) and never calls this.
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include <executorch/runtime/platform/platform.h>

namespace {

char g_subject[1024] = "the program";
char g_last_fatal[512];  // fixed buffers: read on the way out, nothing to allocate
bool g_verbose = false;
std::mutex g_mutex;      // kernels may log from threadpool workers

void emit_log_message(et_timestamp_t /*timestamp*/, et_pal_log_level_t level, const char* filename,
                      const char* /*function*/, size_t line, const char* message, size_t length) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (level == kFatal) {
    std::snprintf(g_last_fatal, sizeof g_last_fatal, "%.*s", static_cast<int>(length), message);
    if (!g_verbose) {
      return;  // it goes into the error line
    }
  }
  if (!g_verbose && (level == kDebug || level == kInfo)) {
    return;
  }
  std::fprintf(stderr, "%c executorch:%s:%zu] %.*s\n", static_cast<char>(level), filename, line,
               static_cast<int>(length), message);
}

[[noreturn]] void abort_with_one_line() {
  std::fflush(stdout);
  std::fprintf(stderr,
               "error: %s: the ExecuTorch runtime stopped on an inconsistent program (%s); the file is "
               "damaged or from another ExecuTorch version: re-run `edgecpm export`\n",
               g_subject, g_last_fatal);
  std::_Exit(2);
}

}  // namespace

// `subject`: the program file the error line names (copied; may be called again for another).
// `verbose`: keep ExecuTorch's Info/Debug lines. Returns 0, or -1 if the runtime refused the PAL.
extern "C" int edgecpm_install_host_abort(const char* subject, int verbose) {
  static bool installed = false;
  std::lock_guard<std::mutex> lock(g_mutex);
  std::snprintf(g_subject, sizeof g_subject, "%s", subject);
  g_verbose = verbose != 0;
  if (!installed) {
    // Null entries keep ExecuTorch's defaults (init, clock, allocation).
    installed = executorch::runtime::register_pal(executorch::runtime::PalImpl::create(
        nullptr, abort_with_one_line, nullptr, nullptr, emit_log_message, nullptr, nullptr, __FILE__));
  }
  return installed ? 0 : -1;
}
