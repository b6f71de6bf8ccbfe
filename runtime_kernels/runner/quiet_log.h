// ExecuTorch's runtime logs Info lines (CPU detection, ...) on every start, and repeats an error
// for every instruction it concerns (a missing operator: twice per use, dozens of lines). The
// runner's stderr is for problems, so Info/Debug lines are dropped unless EDGECPM_RUNNER_VERBOSE
// is set, and an error line identical to one already shown is not shown again.
#pragma once

namespace edgecpm {

// Call before executorch::runtime::runtime_init().
void install_quiet_log();

}  // namespace edgecpm
