// Whole-file reads of the small files the runner is given (manifest.json, vocab.bin,
// draft_vocab.bin, a prompt ids file), refused before reading when they are not regular files or
// larger than such a file can be: a FIFO, a directory or /dev/zero must not hang or exhaust memory.
#pragma once

#include <cstdint>
#include <string>

namespace edgecpm {

// Throws RunnerError "PATH: <why>; <hint>" when the file is missing, not a regular file, larger
// than max_bytes, or unreadable. `what` names the file's role ("the manifest", "vocab.bin").
std::string read_bounded_file(const std::string& path, uint64_t max_bytes, const std::string& what,
                              const std::string& hint);

}  // namespace edgecpm
