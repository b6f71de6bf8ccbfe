#include "sentencepiece_model.h"

#include <cstring>

#include "bounded_file.h"
#include "protobuf_reader.h"
#include "runner_error.h"

namespace edgecpm {
namespace {

// MiniCPM4's is 1.2 MB; large multilingual models reach ~5 MB.
constexpr uint64_t kMaxModelBytes = 64u << 20;

using Wire = ProtobufReader::WireType;

void expect(Wire got, Wire want, const char* field) {
  if (got != want) {
    throw ProtobufError(std::string(field) + " has the wrong wire type");
  }
}

SentencePieceModel::Piece read_piece(const std::string& message) {
  SentencePieceModel::Piece piece;
  ProtobufReader reader(message);
  uint32_t number;
  Wire type;
  while (reader.next_field(&number, &type)) {
    if (number == 1) {
      expect(type, Wire::kBytes, "piece");
      piece.text = reader.bytes();
    } else if (number == 2) {
      expect(type, Wire::kFixed32, "score");
      const uint32_t bits = reader.fixed32();
      std::memcpy(&piece.score, &bits, sizeof bits);
    } else if (number == 3) {
      expect(type, Wire::kVarint, "type");
      piece.type = static_cast<int>(reader.varint());
    } else {
      reader.skip(type);
    }
  }
  return piece;
}

void read_trainer_spec(const std::string& message, SentencePieceModel& model) {
  ProtobufReader reader(message);
  uint32_t number;
  Wire type;
  while (reader.next_field(&number, &type)) {
    if (number == 3 || number == 24 || number == 35) {
      expect(type, Wire::kVarint, "a trainer_spec field");
      const uint64_t value = reader.varint();
      if (number == 3) model.model_type = static_cast<int>(value);
      if (number == 24) model.treat_whitespace_as_suffix = value != 0;
      if (number == 35) model.byte_fallback = value != 0;
    } else {
      reader.skip(type);
    }
  }
}

void read_normalizer_spec(const std::string& message, SentencePieceModel& model) {
  ProtobufReader reader(message);
  uint32_t number;
  Wire type;
  while (reader.next_field(&number, &type)) {
    if (number == 1 || number == 2) {
      expect(type, Wire::kBytes, "a normalizer_spec field");
      const std::string value = reader.bytes();
      if (number == 1) model.normalizer_name = value;
      if (number == 2) model.has_charsmap = !value.empty();
    } else if (number >= 3 && number <= 5) {
      expect(type, Wire::kVarint, "a normalizer_spec flag");
      const bool value = reader.varint() != 0;
      (number == 3 ? model.add_dummy_prefix : number == 4 ? model.remove_extra_whitespaces
                                                          : model.escape_whitespaces) = value;
    } else {
      reader.skip(type);
    }
  }
}

}  // namespace

SentencePieceModel read_sentencepiece_model(const std::string& path) {
  const std::string data = read_bounded_file(path, kMaxModelBytes, "tokenizer.model",
                                             "re-run `edgecpm export`, or pass --prompt-ids");
  SentencePieceModel model;
  try {
    ProtobufReader reader(data);
    uint32_t number;
    Wire type;
    while (reader.next_field(&number, &type)) {
      if (number >= 1 && number <= 3) {
        expect(type, Wire::kBytes, "a ModelProto field");
        const std::string message = reader.bytes();
        if (number == 1) model.pieces.push_back(read_piece(message));
        if (number == 2) read_trainer_spec(message, model);
        if (number == 3) read_normalizer_spec(message, model);
      } else {
        reader.skip(type);
      }
    }
  } catch (const ProtobufError& e) {
    throw RunnerError(path + ": not a SentencePiece model (" + e.what() + "); re-run `edgecpm export`, or pass "
                      "--prompt-ids");
  }
  if (model.pieces.empty()) {
    throw RunnerError(path + ": a SentencePiece model without pieces; re-run `edgecpm export`, or pass --prompt-ids");
  }
  return model;
}

}  // namespace edgecpm
