// Prints the SHA-256 of each file given, one "HEX  PATH" line each (as sha256sum does), for
// tests/runner/test_bundle_checks.py to compare with Python's hashlib. Exit status 1 on an
// unreadable file.
#include <cstdio>

#include "runner_error.h"
#include "sha256.h"

int main(int argc, char** argv) {
  try {
    for (int i = 1; i < argc; ++i) {
      std::printf("%s  %s\n", edgecpm::file_sha256(argv[i]).c_str(), argv[i]);
    }
  } catch (const edgecpm::RunnerError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
