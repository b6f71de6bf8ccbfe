#include "vocab.h"

#include <cstring>

#include "bounded_file.h"
#include "runner_error.h"

namespace edgecpm {
namespace {

constexpr char kMagic[8] = {'E', 'C', 'P', 'M', 'V', 'O', 'C', '1'};
// MiniCPM4's 73k ids take ~1 MiB; a file far past that is not a vocab.bin, and is not read.
constexpr uint64_t kMaxVocabBytes = 64u << 20;

// Explicit little-endian decode, so the file reads the same on any host.
uint32_t read_u32_le(const std::string& data, size_t at) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data() + at);
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

}  // namespace

Vocab Vocab::load(const std::string& path) {
  const std::string data = read_bounded_file(path, kMaxVocabBytes, "vocab.bin",
                                             "write it with edgecpm.export.vocab_bin or re-run `edgecpm export`");
  const std::string corrupt = path + ": not a valid vocab.bin ";
  if (data.size() < 12 || std::memcmp(data.data(), kMagic, sizeof kMagic) != 0) {
    throw RunnerError(corrupt + "(bad magic; expected ECPMVOC1)");
  }
  Vocab vocab;
  vocab.path_ = path;
  uint32_t count = read_u32_le(data, 8);
  // Every id takes at least its 4-byte length: a count the file cannot hold is corruption, and
  // must not become a multi-gigabyte reservation (std::bad_alloc) before the first check.
  if (count > (data.size() - 12) / 4) {
    throw RunnerError(corrupt + "(its header counts " + std::to_string(count) + " ids, more than its " +
                      std::to_string(data.size()) + " bytes can hold)");
  }
  vocab.pieces_.reserve(count);
  size_t at = 12;
  for (uint32_t id = 0; id < count; ++id) {
    if (at + 4 > data.size()) {
      throw RunnerError(corrupt + "(truncated at id " + std::to_string(id) + ")");
    }
    uint32_t length = read_u32_le(data, at);
    at += 4;
    if (length > data.size() - at) {
      throw RunnerError(corrupt + "(truncated at id " + std::to_string(id) + ")");
    }
    vocab.pieces_.emplace_back(data, at, length);
    at += length;
  }
  if (at != data.size()) {
    throw RunnerError(corrupt + "(trailing bytes after " + std::to_string(count) + " ids)");
  }
  return vocab;
}

const std::string& Vocab::bytes_of(int64_t id) const {
  if (id < 0 || static_cast<uint64_t>(id) >= pieces_.size()) {
    throw RunnerError(path_ + ": token id " + std::to_string(id) + " is outside the vocabulary (" +
                      std::to_string(pieces_.size()) + " ids); vocab.bin does not belong to this model");
  }
  return pieces_[static_cast<size_t>(id)];
}

}  // namespace edgecpm
