// A minimal reader of the protobuf wire format, enough for SentencePiece's tokenizer.model
// (a serialized ModelProto). Its input is untrusted: every read is bounds-checked and a damaged
// message is a ProtobufError, never a read past the buffer.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace edgecpm {

class ProtobufError : public std::runtime_error {
 public:
  explicit ProtobufError(const std::string& message) : std::runtime_error(message) {}
};

// Walks the fields of one message held in [data, data + size).
class ProtobufReader {
 public:
  enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kBytes = 2, kFixed32 = 5 };

  ProtobufReader(const char* data, size_t size) : data_(data), size_(size) {}
  explicit ProtobufReader(const std::string& bytes) : ProtobufReader(bytes.data(), bytes.size()) {}

  // Reads the next field's key; false at the end of the message.
  bool next_field(uint32_t* number, WireType* type);

  uint64_t varint();
  uint32_t fixed32();
  std::string bytes();                  // a length-delimited value (string, bytes, sub-message)
  void skip(WireType type);             // any value of `type` (groups are refused)

 private:
  void need(size_t n) const;

  const char* data_;
  size_t size_;
  size_t at_ = 0;
};

}  // namespace edgecpm
