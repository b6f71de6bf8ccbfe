// Check of Utf8Stream (the runner's streamed-text buffering): a character split across tokens
// must come out whole, once, after its last byte; nothing may be held back forever.
// Prints "utf8_stream_check: N checks, F failures"; exit status 1 on any failure.
#include <cstdio>
#include <string>
#include <vector>

#include "utf8_stream.h"

namespace {

int checks = 0, failures = 0;

// Pushes `chunks` one at a time and compares what each push releases, then what flush() returns.
void expect(const char* name, const std::vector<std::string>& chunks, const std::vector<std::string>& released,
            const std::string& flushed) {
  edgecpm::Utf8Stream stream;
  for (size_t i = 0; i < chunks.size(); ++i) {
    ++checks;
    std::string got = stream.push(chunks[i]);
    if (got != released[i]) {
      ++failures;
      std::printf("FAIL %s: push %zu released %zu bytes, expected %zu\n", name, i, got.size(), released[i].size());
    }
  }
  ++checks;
  if (stream.flush() != flushed) {
    ++failures;
    std::printf("FAIL %s: flush\n", name);
  }
}

}  // namespace

int main() {
  expect("ascii", {"Hello", " world"}, {"Hello", " world"}, "");
  expect("2-byte split", {"caf\xC3", "\xA9!"}, {"caf", "\xC3\xA9!"}, "");
  expect("3-byte split 2+1", {"ab\xE4\xB8", "\xAD"}, {"ab", "\xE4\xB8\xAD"}, "");
  expect("4-byte split 1+1+2", {"\xF0", "\x9F", "\xA6\x84"}, {"", "", "\xF0\x9F\xA6\x84"}, "");
  expect("complete multibyte", {"\xE4\xB8\xAD\xE6\x96\x87"}, {"\xE4\xB8\xAD\xE6\x96\x87"}, "");
  expect("stray continuation passes", {"\xA9", "x"}, {"\xA9", "x"}, "");
  expect("broken lead then ascii", {"\xC3", "x"}, {"", "\xC3x"}, "");
  expect("incomplete at end is flushed", {"ok\xE4\xB8"}, {"ok"}, "\xE4\xB8");
  expect("invalid lead byte passes", {"\xFF"}, {"\xFF"}, "");
  std::printf("utf8_stream_check: %d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
