#include "tokenize_lines.h"

#include <cstdio>

#include "bounded_file.h"
#include "json_reader.h"
#include "runner_error.h"

namespace edgecpm {
namespace {

constexpr uint64_t kMaxLinesBytes = 64u << 20;

}  // namespace

void tokenize_lines(const TextTokenizer& tokenizer, const std::string& path) {
  const std::string data = read_bounded_file(path, kMaxLinesBytes, "the --tokenize file",
                                             "pass a file of JSON strings, one per line");
  std::string out;  // printed only when every line encoded: a refusal leaves no partial output
  size_t start = 0;
  for (size_t line = 1; start < data.size(); ++line) {
    size_t end = data.find('\n', start);
    if (end == std::string::npos) end = data.size();
    const std::string text = data.substr(start, end - start);
    start = end + 1;
    const std::string where = path + ":" + std::to_string(line);
    JsonValue value;
    try {
      value = parse_json(text);
    } catch (const JsonError& e) {
      throw RunnerError(where + ": not a JSON string (" + e.what() + "); write each string with json.dumps");
    }
    if (value.kind != JsonValue::Kind::String) {
      throw RunnerError(where + ": not a JSON string; write each string with json.dumps");
    }
    out += "[";
    bool first = true;
    for (int64_t id : tokenizer.encode(value.text, where)) {
      if (!first) out += ", ";
      out += std::to_string(id);
      first = false;
    }
    out += "]\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
}

}  // namespace edgecpm
