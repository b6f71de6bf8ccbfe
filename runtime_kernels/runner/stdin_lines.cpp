#include "stdin_lines.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

#include "runner_error.h"

namespace edgecpm {
namespace {

// A prompt longer than this could not fit any KV cache; refusing it bounds the buffer.
constexpr size_t kMaxLineBytes = 4u << 20;

}  // namespace

void StdinLines::fill(int timeout_ms) {
  if (eof_) {
    return;
  }
  pollfd fd{0, POLLIN, 0};
  int ready = ::poll(&fd, 1, timeout_ms);
  if (ready < 0 && errno == EINTR) {
    return;
  }
  if (ready <= 0) {
    return;
  }
  char buffer[1 << 16];
  ssize_t n = ::read(0, buffer, sizeof buffer);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
    return;
  }
  if (n <= 0) {
    eof_ = true;
    if (!partial_.empty()) {
      lines_.push_back(std::move(partial_));  // a last line without its newline
      partial_.clear();
    }
    return;
  }
  for (ssize_t i = 0; i < n; ++i) {
    if (buffer[i] == '\n') {
      if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
      lines_.push_back(std::move(partial_));
      partial_.clear();
    } else {
      partial_.push_back(buffer[i]);
    }
  }
  if (partial_.size() > kMaxLineBytes) {
    throw RunnerError("an input line is longer than " + std::to_string(kMaxLineBytes >> 20) +
                      " MiB; send one JSON object per line");
  }
}

bool StdinLines::next(std::string& line) {
  while (lines_.empty() && !eof_) {
    fill(-1);
  }
  if (lines_.empty()) {
    return false;
  }
  line = std::move(lines_.front());
  lines_.pop_front();
  return true;
}

bool StdinLines::poll(std::string& line) {
  if (lines_.empty()) {
    fill(0);
  }
  if (lines_.empty()) {
    return false;
  }
  line = std::move(lines_.front());
  lines_.pop_front();
  return true;
}

}  // namespace edgecpm
