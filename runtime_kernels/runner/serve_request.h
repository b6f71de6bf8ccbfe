// One stdin line of the serving runner (chat_session.h), parsed and range-checked.
#pragma once

#include <string>

#include "sampler.h"

namespace edgecpm {

struct ServeRequest {
  enum class Kind { Prompt, Stop, Reset };
  Kind kind = Kind::Prompt;
  std::string prompt;
  int max_new_tokens = 128;
  SamplingSettings sampling;  // greedy unless "temperature" > 0
};

// Throws RunnerError with one sentence naming the member and its allowed range.
ServeRequest parse_serve_request(const std::string& line);

}  // namespace edgecpm
