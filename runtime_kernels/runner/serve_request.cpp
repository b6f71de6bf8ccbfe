#include "serve_request.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "json_reader.h"
#include "runner_error.h"

namespace edgecpm {
namespace {

double number(const JsonValue& value, const char* key) {
  if (value.kind != JsonValue::Kind::Number) {
    throw RunnerError(std::string("\"") + key + "\" must be a number");
  }
  errno = 0;
  const double x = std::strtod(value.text.c_str(), nullptr);
  if (errno != 0 || !std::isfinite(x)) {
    throw RunnerError(std::string("\"") + key + "\" must be a finite number, got " + value.text);
  }
  return x;
}

int64_t integer(const JsonValue& value, const char* key, int64_t lo, int64_t hi) {
  int64_t x = 0;
  if (!value.to_int64(&x) || x < lo || x > hi) {
    throw RunnerError(std::string("\"") + key + "\" must be an integer in " + std::to_string(lo) + ".." +
                      std::to_string(hi) + ", got " + (value.text.empty() ? "a non-number" : value.text));
  }
  return x;
}

}  // namespace

ServeRequest parse_serve_request(const std::string& line) {
  JsonValue root;
  try {
    root = parse_json(line);
  } catch (const JsonError& e) {
    throw RunnerError(std::string("an input line is not JSON (") + e.what() + "); send one JSON object per line");
  }
  if (root.kind != JsonValue::Kind::Object) {
    throw RunnerError("an input line must be a JSON object ({\"prompt\": ...} or {\"command\": ...})");
  }
  ServeRequest request;
  if (const JsonValue* command = root.find("command")) {
    if (command->kind == JsonValue::Kind::String && command->text == "stop") {
      request.kind = ServeRequest::Kind::Stop;
    } else if (command->kind == JsonValue::Kind::String && command->text == "reset") {
      request.kind = ServeRequest::Kind::Reset;
    } else {
      throw RunnerError("\"command\" must be \"stop\" or \"reset\"");
    }
    return request;
  }
  const JsonValue* prompt = root.find("prompt");
  if (prompt == nullptr || prompt->kind != JsonValue::Kind::String) {
    throw RunnerError("an input line needs \"prompt\" (a string) or \"command\"");
  }
  request.prompt = prompt->text;
  for (const auto& [key, value] : root.members) {
    if (key == "prompt") {
      continue;
    } else if (key == "max_new_tokens") {
      request.max_new_tokens = static_cast<int>(integer(value, "max_new_tokens", 1, 1000000));
    } else if (key == "temperature") {
      request.sampling.temperature = number(value, "temperature");
      if (request.sampling.temperature < 0) {
        throw RunnerError("\"temperature\" must be >= 0 (0 = greedy), got " + value.text);
      }
    } else if (key == "top_p") {
      request.sampling.top_p = number(value, "top_p");
      if (!(request.sampling.top_p > 0 && request.sampling.top_p <= 1)) {
        throw RunnerError("\"top_p\" must be in (0, 1], got " + value.text);
      }
    } else if (key == "top_k") {
      request.sampling.top_k = integer(value, "top_k", 0, 1LL << 40);
    } else if (key == "seed") {
      int64_t seed = integer(value, "seed", 0, INT64_MAX);
      request.sampling.seeded = true;
      request.sampling.seed = static_cast<uint64_t>(seed);
    } else {
      throw RunnerError("unknown member \"" + key + "\" (prompt, max_new_tokens, temperature, top_p, top_k, seed)");
    }
  }
  return request;
}

}  // namespace edgecpm
