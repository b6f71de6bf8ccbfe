#include "threads.h"

#include <cstddef>
#include <cstdint>

#include "runner_error.h"

// The wheel ships libexecutorch_threadpool but not its threadpool.h; these are the two exported
// members we call (non-virtual, so a declaration of the same class is enough to link them).
namespace executorch::extension::threadpool {
class ThreadPool {
 public:
  size_t get_thread_count() const;
  bool _unsafe_reset_threadpool(uint32_t num_threads);
};
ThreadPool* get_threadpool();
}  // namespace executorch::extension::threadpool

namespace edgecpm {

void set_thread_count(int n) {
  auto* pool = executorch::extension::threadpool::get_threadpool();
  if (pool == nullptr || !pool->_unsafe_reset_threadpool(uint32_t(n)))
    throw RunnerError("cannot resize ExecuTorch's thread pool to " + std::to_string(n) + " threads");
}

int thread_count() {
  auto* pool = executorch::extension::threadpool::get_threadpool();
  return pool == nullptr ? 1 : int(pool->get_thread_count());
}

}  // namespace edgecpm
