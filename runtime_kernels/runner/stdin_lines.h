// Lines from stdin for the serving runner, readable both blocking (waiting for the next prompt)
// and without blocking (between two tokens, to see a "stop" line while an answer streams). stdio's
// buffered getline cannot say whether a full line is waiting, so this reads fd 0 itself.
#pragma once

#include <deque>
#include <string>

namespace edgecpm {

class StdinLines {
 public:
  // Waits for the next line (without its newline); false at end of input.
  bool next(std::string& line);
  // A line that has already arrived, if any; never waits.
  bool poll(std::string& line);
  // Puts a line back to be returned first by next() (one read while an answer streamed).
  void push_front(std::string line) { lines_.push_front(std::move(line)); }

 private:
  // Reads what fd 0 has (waiting up to timeout_ms; -1 = until something arrives) into lines_.
  void fill(int timeout_ms);

  std::deque<std::string> lines_;
  std::string partial_;
  bool eof_ = false;
};

}  // namespace edgecpm
