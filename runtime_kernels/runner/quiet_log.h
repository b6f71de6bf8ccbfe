// ExecuTorch's runtime logs Info lines (CPU detection, ...) on every start, and repeats an error
// for every instruction it concerns (a missing operator: twice per use, dozens of lines). The
// runner's stderr is for problems, so Info/Debug lines are dropped unless EDGECPM_RUNNER_VERBOSE
// is set, and an error line identical to one already shown is not shown again. A Fatal line is
// kept for the runner's own error line (runtime_abort.h) instead of being printed.
#pragma once

namespace edgecpm {

// Call before executorch::runtime::runtime_init(). Also installs runner_abort (runtime_abort.h).
void install_quiet_log();

// The message of the last Fatal log line (a failed ET_CHECK), held back from stderr; "" if none.
const char* last_fatal_log();

}  // namespace edgecpm
