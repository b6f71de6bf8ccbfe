// The parts of SentencePiece's tokenizer.model (a ModelProto, sentencepiece_model.proto) that
// encoding with a BPE model needs: the pieces with their scores and types, the model type and
// byte fallback of the trainer spec, and the normalizer's flags.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace edgecpm {

struct SentencePieceModel {
  // ModelProto.SentencePiece.Type
  enum PieceType : int { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };
  enum ModelType : int { kUnigram = 1, kBpe = 2, kWord = 3, kChar = 4 };

  struct Piece {
    std::string text;
    float score = 0;
    int type = kNormal;
  };

  std::vector<Piece> pieces;                  // index = id
  int model_type = kUnigram;                  // TrainerSpec.model_type (field 3)
  bool byte_fallback = false;                 // TrainerSpec.byte_fallback (35)
  bool treat_whitespace_as_suffix = false;    // TrainerSpec (24)
  std::string normalizer_name;                // NormalizerSpec.name (1)
  bool has_charsmap = false;                  // NormalizerSpec.precompiled_charsmap (2) non-empty
  bool add_dummy_prefix = true;               // NormalizerSpec (3)
  bool remove_extra_whitespaces = true;       // NormalizerSpec (4)
  bool escape_whitespaces = true;             // NormalizerSpec (5)
};

// Reads `path`. Throws RunnerError naming it when it is missing, too large or not a ModelProto.
SentencePieceModel read_sentencepiece_model(const std::string& path);

}  // namespace edgecpm
