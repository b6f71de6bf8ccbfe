// The one exception type the runner throws: a message for the user (names the file and the fix).
// main() prints it and exits non-zero; anything else escaping is a bug.
#pragma once

#include <stdexcept>
#include <string>

namespace edgecpm {

class RunnerError : public std::runtime_error {
 public:
  explicit RunnerError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace edgecpm
