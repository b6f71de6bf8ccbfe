// fp16 / bf16 -> fp32 without F16C or compiler extensions, so one source builds for every target.
#pragma once

#include <cstdint>
#include <cstring>

namespace edgecpm {

inline float bits_to_float(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// Exact for every fp16 value (normals, subnormals, inf, nan).
inline float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1F;
  const uint32_t mant = h & 0x3FF;
  if (exp == 0x1F) return bits_to_float(sign | 0x7F800000u | (mant << 13));
  if (exp != 0) return bits_to_float(sign | ((exp + 112) << 23) | (mant << 13));
  // Subnormal: mant * 2^-24, exact in fp32.
  const float mag = float(mant) * (1.0f / 16777216.0f);
  return sign ? -mag : mag;
}

// The same for finite values (scales always are), without branches, so loops over it vectorise:
// moving exponent and mantissa into fp32's place and scaling by 2^112 re-biases the exponent, and
// a subnormal fp16 lands on an fp32 subnormal whose product is exact.
inline float finite_half_to_float(uint16_t h) {
  const float mag = bits_to_float(uint32_t(h & 0x7FFF) << 13) * 0x1p112f;
  uint32_t bits;
  std::memcpy(&bits, &mag, sizeof bits);
  return bits_to_float(bits | (uint32_t(h & 0x8000) << 16));
}

inline float bf16_to_float(uint16_t b) { return bits_to_float(uint32_t(b) << 16); }

// A scale tensor in whatever float type the checkpoint kept it (fp16 for our formats, fp32 or
// bf16 for side scales of fake-quantised checkpoints), read one element at a time.
struct ScaleView {
  enum class Type { F32, F16, BF16 };
  const void* data = nullptr;
  Type type = Type::F16;

  float operator[](int64_t i) const {
    switch (type) {
      case Type::F32: return static_cast<const float*>(data)[i];
      case Type::F16: return half_to_float(static_cast<const uint16_t*>(data)[i]);
      default: return bf16_to_float(static_cast<const uint16_t*>(data)[i]);
    }
  }
};

}  // namespace edgecpm
