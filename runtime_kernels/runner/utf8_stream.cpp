#include "utf8_stream.h"

namespace edgecpm {
namespace {

// Length of the sequence a lead byte announces; 0 for a continuation byte (10xxxxxx), 1 for
// ASCII and for bytes that cannot start a sequence (so they are emitted, not held).
size_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xC0) == 0x80) return 0;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

// How many trailing bytes of `s` form the start of a character that is not complete yet.
size_t incomplete_tail(const std::string& s) {
  // A character is at most 4 bytes, so its lead byte is within the last 3 if it is incomplete.
  for (size_t back = 1; back <= 3 && back <= s.size(); ++back) {
    size_t need = sequence_length(static_cast<unsigned char>(s[s.size() - back]));
    if (need == 0) {
      continue;  // a continuation byte: look further back for its lead
    }
    return need > back ? back : 0;
  }
  return 0;  // only continuation bytes: invalid, pass them through
}

}  // namespace

std::string Utf8Stream::push(const std::string& bytes) {
  pending_ += bytes;
  size_t hold = incomplete_tail(pending_);
  std::string ready = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return ready;
}

std::string Utf8Stream::flush() {
  std::string rest;
  rest.swap(pending_);
  return rest;
}

}  // namespace edgecpm
