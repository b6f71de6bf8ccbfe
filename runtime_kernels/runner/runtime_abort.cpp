#include "runtime_abort.h"

#include <cstdio>
#include <cstdlib>

#include "quiet_log.h"

namespace edgecpm {
namespace {

std::string* g_program_path;  // leaked on purpose: read on the way out, after any destructor
bool g_verified = true;

}  // namespace

void runner_abort() {
  std::fflush(stdout);
  std::fprintf(stderr,
               "edgecpm-runner: error: %s: the ExecuTorch runtime stopped on an inconsistent program (%s); the file "
               "is damaged or from another ExecuTorch version: re-run `edgecpm export`%s\n",
               g_program_path ? g_program_path->c_str() : "the program", last_fatal_log(),
               g_verified ? "" : " (--no-verify skipped its checksum, which would have caught damage)");
  std::_Exit(1);
}

void set_runner_abort_subject(const std::string& program_path, bool verified) {
  g_program_path = new std::string(program_path);
  g_verified = verified;
}

}  // namespace edgecpm
