// SHA-256 (FIPS 180-4), to check a bundle's files against the digests in its manifest.json, as
// the Python CLI does with hashlib. Written here because the runner links no crypto library.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace edgecpm {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  // The digest as 64 lowercase hex digits (hashlib's hexdigest()); the object is spent after.
  std::string hex_digest();

 private:
  void compress(const uint8_t* block);

  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> block_{};
  size_t block_used_ = 0;
  uint64_t total_bytes_ = 0;
};

// The hex digest of a whole file, read in fixed-size pieces (a program can be gigabytes).
// Throws RunnerError naming the file when it cannot be read.
std::string file_sha256(const std::string& path);

}  // namespace edgecpm
