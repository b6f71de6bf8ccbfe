// The one thread count of a run: ExecuTorch's thread pool serves our kernels' parallel_for and
// the XNNPACK delegate alike, so sizing it sizes every op (-t N; default: one thread per core).
#pragma once

namespace edgecpm {

// Resize the shared pool to n threads (the caller included); n >= 1.
void set_thread_count(int n);
int thread_count();

}  // namespace edgecpm
