// Reads stdin whole and prints json_string() of it, for tests/runner/test_runner_serve_lines.py to
// compare with Python's json.dumps(bytes.decode("utf-8", errors="replace")).
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

#include "json_line.h"

int main() {
  std::string bytes((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  const std::string out = edgecpm::json_string(bytes);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}
