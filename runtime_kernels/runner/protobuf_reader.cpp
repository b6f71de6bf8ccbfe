#include "protobuf_reader.h"

namespace edgecpm {

void ProtobufReader::need(size_t n) const {
  if (size_ - at_ < n) {
    throw ProtobufError("truncated at byte " + std::to_string(at_));
  }
}

bool ProtobufReader::next_field(uint32_t* number, WireType* type) {
  if (at_ == size_) {
    return false;
  }
  const uint64_t key = varint();
  *number = static_cast<uint32_t>(key >> 3);
  const uint32_t wire = key & 7;
  if (*number == 0 || key >> 32 != 0 || (wire != kVarint && wire != kFixed64 && wire != kBytes && wire != kFixed32)) {
    throw ProtobufError("bad field key " + std::to_string(key) + " before byte " + std::to_string(at_));
  }
  *type = static_cast<WireType>(wire);
  return true;
}

uint64_t ProtobufReader::varint() {
  uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    need(1);
    const auto byte = static_cast<unsigned char>(data_[at_++]);
    value |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) {
      return value;
    }
  }
  throw ProtobufError("varint longer than 10 bytes before byte " + std::to_string(at_));
}

uint32_t ProtobufReader::fixed32() {
  need(4);
  const auto* p = reinterpret_cast<const unsigned char*>(data_ + at_);
  at_ += 4;
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

std::string ProtobufReader::bytes() {
  const uint64_t length = varint();
  if (length > size_ - at_) {
    throw ProtobufError("a " + std::to_string(length) + "-byte field runs past the end at byte " + std::to_string(at_));
  }
  std::string value(data_ + at_, static_cast<size_t>(length));
  at_ += static_cast<size_t>(length);
  return value;
}

void ProtobufReader::skip(WireType type) {
  switch (type) {
    case kVarint: varint(); break;
    case kFixed64: need(8); at_ += 8; break;
    case kFixed32: need(4); at_ += 4; break;
    case kBytes: bytes(); break;
  }
}

}  // namespace edgecpm
