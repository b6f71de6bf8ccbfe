// ExecuTorch stops the process when one of its ET_CHECKs fails (abort(): SIGABRT), and its
// InternalConsistency verification does not rule all of them out: a damaged program whose
// execution plan names a value of the wrong type passes it, then aborts in Method::init or in an
// op's argument unboxing. The runtime lets the platform supply its abort (PAL), and the runner's
// prints its one error line, naming the program and the failed check, and exits with status 1.
#pragma once

#include <string>

namespace edgecpm {

// The PAL abort, which install_quiet_log() registers along with its logger (one registration:
// ExecuTorch logs an error for a second one). Prints the error line and exits with status 1.
[[noreturn]] void runner_abort();

// What the error line names: `program_path`, and whether its checksums were checked (if not, the
// line says that --no-verify let a damaged file through).
void set_runner_abort_subject(const std::string& program_path, bool verified);

}  // namespace edgecpm
