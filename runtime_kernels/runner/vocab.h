// vocab.bin: each token id's decoded bytes, written by toolchain/edgecpm/export/vocab_bin.py.
// Layout (little-endian): "ECPMVOC1", u32 count, then count x {u32 length, length bytes}.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace edgecpm {

class Vocab {
 public:
  // Throws RunnerError naming the file when it is missing, not a vocab.bin, or truncated.
  static Vocab load(const std::string& path);

  // The bytes of one id; may be part of a UTF-8 character. Throws for an id past the table.
  const std::string& bytes_of(int64_t id) const;
  size_t size() const { return pieces_.size(); }

 private:
  std::string path_;
  std::vector<std::string> pieces_;
};

}  // namespace edgecpm
