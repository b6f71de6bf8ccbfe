#include "sentencepiece_bpe.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <queue>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "runner_error.h"
#include "sentencepiece_model.h"
#include "unicode_text.h"

namespace edgecpm {
namespace {

const std::string kSpaceSymbol = "\xe2\x96\x81";  // U+2581, SentencePiece's visible space

using Model = SentencePieceModel;

class SentencePieceBpe : public TextTokenizer {
 public:
  SentencePieceBpe(std::string path, AddedTokens added, const Model& model)
      : TextTokenizer(std::move(path), std::move(added)), add_dummy_prefix_(model.add_dummy_prefix),
        remove_extra_whitespaces_(model.remove_extra_whitespaces), escape_whitespaces_(model.escape_whitespaces),
        byte_fallback_(model.byte_fallback) {
    for (size_t id = 0; id < model.pieces.size(); ++id) {
      const Model::Piece& p = model.pieces[id];
      const bool mergeable = p.type == Model::kNormal || p.type == Model::kUserDefined || p.type == Model::kUnused;
      if (!(mergeable ? pieces_ : reserved_).emplace(p.text, static_cast<int64_t>(id)).second) {
        fail("piece '" + p.text + "' is listed twice");
      }
      scores_.push_back(p.score);
      unused_.push_back(p.type == Model::kUnused);
      if (p.type == Model::kUserDefined && !p.text.empty()) {
        user_defined_.insert(p.text);
        longest_user_defined_ = std::max(longest_user_defined_, p.text.size());
      }
      if (p.type == Model::kUnknown) unk_id_ = static_cast<int64_t>(id);
    }
    if (unk_id_ < 0) fail("no <unk> piece");
    if (byte_fallback_) {
      for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        const int64_t id = id_of(name);
        if (id == unk_id_) fail(std::string("byte fallback without the byte piece ") + name);
        byte_ids_.push_back(id);
      }
    }
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw RunnerError(path() + ": " + what + "; re-run `edgecpm export`, or pass --prompt-ids");
  }

 protected:
  void encode_text(const std::string& text, std::vector<int64_t>& ids) const override {
    const std::string normalized = normalize(text);
    bool previous_unknown = false;
    for (const auto& piece : merge(normalized)) {
      const int64_t id = id_of(piece);
      if (id != unk_id_) {
        ids.push_back(id);
        previous_unknown = false;
      } else if (byte_fallback_) {
        for (unsigned char b : piece) ids.push_back(byte_ids_[b]);
      } else if (!previous_unknown) {  // a run of unknown pieces is one <unk>
        ids.push_back(unk_id_);
        previous_unknown = true;
      }
    }
  }

 private:
  int64_t id_of(const std::string& piece) const {
    auto r = reserved_.find(piece);
    if (r != reserved_.end()) return r->second;
    auto p = pieces_.find(piece);
    return p != pieces_.end() ? p->second : unk_id_;
  }

  // Bytes of the longest user-defined symbol at text[at], or 0.
  size_t user_defined_at(const std::string& text, size_t at) const {
    for (size_t n = std::min(longest_user_defined_, text.size() - at); n > 0; --n) {
      if (user_defined_.count(text.substr(at, n))) return n;
    }
    return 0;
  }

  // The identity normalizer (no charsmap): spaces, with the spec's whitespace flags.
  std::string normalize(const std::string& text) const {
    size_t at = 0;
    if (remove_extra_whitespaces_) {
      while (at < text.size() && text[at] == ' ' && user_defined_at(text, at) <= 1) ++at;
    }
    std::string out;
    if (at == text.size()) return out;
    const std::string space = escape_whitespaces_ ? kSpaceSymbol : " ";
    if (add_dummy_prefix_) out += space;
    bool previous_space = remove_extra_whitespaces_;
    while (at < text.size()) {
      size_t length = user_defined_at(text, at);
      if (length == 0) {
        uint32_t cp;
        decode_utf8(text, at, &cp, &length);  // text is valid UTF-8 (TextTokenizer::encode)
      }
      std::string piece = text.substr(at, length);
      at += length;
      if (previous_space) piece.erase(0, std::min(piece.size(), piece.find_first_not_of(' ')));
      if (!piece.empty()) {
        for (char c : piece) {
          if (c == ' ') {
            out += space;
          } else {
            out += c;
          }
        }
        previous_space = piece.back() == ' ';
      }
      if (!remove_extra_whitespaces_) previous_space = false;
    }
    if (remove_extra_whitespaces_) {
      while (out.size() >= space.size() && out.compare(out.size() - space.size(), space.size(), space) == 0) {
        out.resize(out.size() - space.size());
      }
    }
    return out;
  }

  struct Symbol {
    size_t begin;
    size_t size;
    int prev;
    int next;
    bool frozen;  // a user-defined symbol: never merged
  };
  struct Candidate {
    float score;
    int left;
    int right;
    size_t size;
    // Highest score first, then the leftmost pair.
    bool operator<(const Candidate& o) const { return score < o.score || (score == o.score && left > o.left); }
  };

  std::vector<std::string> merge(const std::string& text) const {
    std::vector<Symbol> symbols;
    for (size_t at = 0; at < text.size();) {
      size_t length = user_defined_at(text, at);
      const bool frozen = length > 0;
      if (!frozen) {
        uint32_t cp;
        decode_utf8(text, at, &cp, &length);
      }
      const int index = static_cast<int>(symbols.size());
      symbols.push_back({at, length, index - 1, -1, frozen});
      if (index > 0) symbols[index - 1].next = index;
      at += length;
    }
    std::priority_queue<Candidate> agenda;
    // Unused pieces are not emitted: what merged into one is split back (SentencePiece's resegment).
    std::unordered_map<std::string, std::pair<std::string, std::string>> unmerge;
    auto consider = [&](int left, int right) {
      if (left < 0 || right < 0 || symbols[left].frozen || symbols[right].frozen) return;
      const std::string piece = text.substr(symbols[left].begin, symbols[left].size + symbols[right].size);
      auto it = pieces_.find(piece);
      if (it == pieces_.end()) return;
      agenda.push({scores_[it->second], left, right, piece.size()});
      if (unused_[it->second]) {
        unmerge[piece] = {text.substr(symbols[left].begin, symbols[left].size),
                          text.substr(symbols[right].begin, symbols[right].size)};
      }
    };
    for (size_t i = 1; i < symbols.size(); ++i) consider(static_cast<int>(i) - 1, static_cast<int>(i));
    while (!agenda.empty()) {
      const Candidate top = agenda.top();
      agenda.pop();
      Symbol& left = symbols[top.left];
      Symbol& right = symbols[top.right];
      // Stale: one side was merged away or grew since this pair was queued.
      if (left.size == 0 || right.size == 0 || left.size + right.size != top.size) continue;
      left.size += right.size;
      left.next = right.next;
      if (right.next >= 0) symbols[right.next].prev = top.left;
      right.size = 0;
      consider(left.prev, top.left);
      consider(top.left, left.next);
    }
    std::vector<std::string> out;
    std::function<void(const std::string&)> emit = [&](const std::string& piece) {
      auto id = pieces_.find(piece);
      auto split = unmerge.find(piece);
      if (id == pieces_.end() || !unused_[id->second] || split == unmerge.end()) {
        out.push_back(piece);
        return;
      }
      emit(split->second.first);
      emit(split->second.second);
    };
    for (int i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[i].next) {
      emit(text.substr(symbols[i].begin, symbols[i].size));
    }
    return out;
  }

  bool add_dummy_prefix_;
  bool remove_extra_whitespaces_;
  bool escape_whitespaces_;
  bool byte_fallback_;
  std::unordered_map<std::string, int64_t> pieces_;    // normal, user-defined and unused: merge targets
  std::unordered_map<std::string, int64_t> reserved_;  // unknown, control and byte pieces
  std::vector<float> scores_;
  std::vector<bool> unused_;
  std::unordered_set<std::string> user_defined_;
  size_t longest_user_defined_ = 0;
  int64_t unk_id_ = -1;
  std::vector<int64_t> byte_ids_;
};

}  // namespace

std::unique_ptr<TextTokenizer> load_sentencepiece_bpe(const std::string& path, AddedTokens added) {
  const Model model = read_sentencepiece_model(path);
  auto refuse = [&](const std::string& what) {
    throw RunnerError(path + ": " + what + " is not supported by the runner's tokenizer (SentencePiece BPE with "
                      "the identity normalizer only); tokenize in Python and pass --prompt-ids");
  };
  if (model.model_type != Model::kBpe) refuse("model type " + std::to_string(model.model_type) + " (not BPE)");
  if (model.has_charsmap) refuse("a normalizer with rules ('" + model.normalizer_name + "')");
  if (model.treat_whitespace_as_suffix) refuse("treat_whitespace_as_suffix");
  for (const auto& piece : model.pieces) {
    if (piece.type < Model::kNormal || piece.type > Model::kByte) {
      throw RunnerError(path + ": piece '" + piece.text + "' has an unknown type " + std::to_string(piece.type) +
                        "; re-run `edgecpm export`, or pass --prompt-ids");
    }
  }
  return std::make_unique<SentencePieceBpe>(path, std::move(added), model);
}

}  // namespace edgecpm
