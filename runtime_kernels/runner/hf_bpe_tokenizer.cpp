#include "hf_bpe_tokenizer.h"

#include <cstdint>
#include <queue>
#include <unordered_map>
#include <utility>
#include <vector>

#include "bounded_file.h"
#include "byte_level_split.h"
#include "json_reader.h"
#include "runner_error.h"

namespace edgecpm {
namespace {

// Real tokenizer.json files reach ~20 MB (150k-token vocabularies); far past that is not one.
constexpr uint64_t kMaxTokenizerJsonBytes = 64u << 20;

struct PreTokenizerStep {
  enum class Kind { Digits, ByteLevel } kind;
  bool individual_digits = false;
  bool add_prefix_space = false;
  bool use_regex = true;
};

struct Merge {
  uint32_t rank;
  int64_t new_id;
};

uint64_t pair_key(int64_t left, int64_t right) {
  return static_cast<uint64_t>(left) << 32 | static_cast<uint64_t>(right);
}

class HfBpeTokenizer : public TextTokenizer {
 public:
  HfBpeTokenizer(std::string path, AddedTokens added, std::vector<PreTokenizerStep> steps,
                 std::unordered_map<std::string, int64_t> vocab, std::unordered_map<uint64_t, Merge> merges,
                 bool ignore_merges)
      : TextTokenizer(std::move(path), std::move(added)), steps_(std::move(steps)), vocab_(std::move(vocab)),
        merges_(std::move(merges)), ignore_merges_(ignore_merges) {
    for (int b = 0; b < 256; ++b) byte_ids_[b] = vocab_.at(byte_level_alphabet()[b]);
  }

 protected:
  void encode_text(const std::string& text, std::vector<int64_t>& ids) const override {
    std::vector<std::string> pieces{text};
    for (const auto& step : steps_) {
      std::vector<std::string> next;
      for (auto& piece : pieces) {
        std::vector<std::string> parts;
        if (step.kind == PreTokenizerStep::Kind::Digits) {
          parts = split_digits(piece, step.individual_digits);
        } else {
          if (step.add_prefix_space && piece.compare(0, 1, " ") != 0) piece.insert(0, " ");
          parts = step.use_regex ? split_gpt2_pattern(piece) : std::vector<std::string>{piece};
        }
        for (auto& part : parts) {
          if (!part.empty()) next.push_back(std::move(part));
        }
      }
      pieces = std::move(next);
    }
    for (const auto& word : pieces) encode_word(word, ids);
  }

 private:
  struct Symbol {
    int64_t id;
    int prev;
    int next;
    bool removed;
  };
  struct Candidate {
    uint32_t rank;
    int pos;
    int64_t new_id;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };

  // One pre-tokenized word (raw bytes; each byte is one character of the byte-level alphabet).
  void encode_word(const std::string& word, std::vector<int64_t>& ids) const {
    if (ignore_merges_) {
      std::string spelled;
      for (unsigned char b : word) spelled += byte_level_alphabet()[b];
      auto it = vocab_.find(spelled);
      if (it != vocab_.end()) {
        ids.push_back(it->second);
        return;
      }
    }
    const int n = static_cast<int>(word.size());
    std::vector<Symbol> symbols(n);
    for (int i = 0; i < n; ++i) {
      symbols[i] = {byte_ids_[static_cast<unsigned char>(word[i])], i - 1, i + 1 < n ? i + 1 : -1, false};
    }
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
    auto consider = [&](int left, int right) {
      auto it = merges_.find(pair_key(symbols[left].id, symbols[right].id));
      if (it != merges_.end()) queue.push({it->second.rank, left, it->second.new_id});
    };
    for (int i = 0; i + 1 < n; ++i) consider(i, i + 1);
    while (!queue.empty()) {
      const Candidate top = queue.top();
      queue.pop();
      Symbol& left = symbols[top.pos];
      if (left.removed || left.next < 0) continue;
      // An entry made stale by an earlier merge no longer names this pair's result.
      auto it = merges_.find(pair_key(left.id, symbols[left.next].id));
      if (it == merges_.end() || it->second.new_id != top.new_id) continue;
      Symbol& right = symbols[left.next];
      left.id = top.new_id;
      right.removed = true;
      left.next = right.next;
      if (right.next >= 0) symbols[right.next].prev = top.pos;
      if (left.prev >= 0) consider(left.prev, top.pos);
      if (left.next >= 0) consider(top.pos, left.next);
    }
    for (int i = n > 0 ? 0 : -1; i >= 0; i = symbols[i].next) ids.push_back(symbols[i].id);
  }

  std::vector<PreTokenizerStep> steps_;
  std::unordered_map<std::string, int64_t> vocab_;
  std::unordered_map<uint64_t, Merge> merges_;
  bool ignore_merges_;
  int64_t byte_ids_[256];
};

class Loader {
 public:
  explicit Loader(std::string path) : path_(std::move(path)) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw RunnerError(path_ + ": " + what + "; re-run `edgecpm export`, or pass --prompt-ids");
  }
  [[noreturn]] void unsupported(const std::string& what) const {
    throw RunnerError(path_ + ": " + what + " is not supported by the runner's tokenizer (byte-level BPE only); "
                      "tokenize in Python and pass --prompt-ids");
  }

  const JsonValue& member(const JsonValue& object, const std::string& key, JsonValue::Kind kind,
                          const std::string& what) const {
    const JsonValue* v = object.find(key);
    if (v == nullptr || v->kind != kind) fail("'" + key + "' (" + what + ") is missing or of the wrong type");
    return *v;
  }

  bool flag(const JsonValue& object, const std::string& key, bool fallback) const {
    const JsonValue* v = object.find(key);
    if (v == nullptr || v->kind == JsonValue::Kind::Null) return fallback;
    if (v->kind != JsonValue::Kind::Bool) fail("'" + key + "' is not true or false");
    return v->boolean;
  }

  int64_t id_of(const JsonValue& v, const std::string& what) const {
    int64_t id = -1;
    if (!v.to_int64(&id) || id < 0 || id > INT32_MAX) fail(what + " is not a token id");
    return id;
  }

  std::vector<PreTokenizerStep> pre_tokenizer(const JsonValue& root) const {
    const JsonValue* spec = root.find("pre_tokenizer");
    if (spec == nullptr || spec->kind != JsonValue::Kind::Object) unsupported("a tokenizer without pre_tokenizer");
    std::vector<const JsonValue*> parts{spec};
    if (type_of(*spec) == "Sequence") {
      parts.clear();
      for (const auto& p : member(*spec, "pretokenizers", JsonValue::Kind::Array, "the steps").items) parts.push_back(&p);
    }
    std::vector<PreTokenizerStep> steps;
    for (const JsonValue* p : parts) {
      const std::string type = type_of(*p);
      if (type == "Digits") {
        steps.push_back({PreTokenizerStep::Kind::Digits, flag(*p, "individual_digits", false), false, true});
      } else if (type == "ByteLevel") {
        steps.push_back({PreTokenizerStep::Kind::ByteLevel, false, flag(*p, "add_prefix_space", true),
                         flag(*p, "use_regex", true)});
      } else {
        unsupported("pre_tokenizer '" + type + "'");
      }
    }
    // Bytes become alphabet characters at the ByteLevel step; a step after it would see those.
    if (steps.empty() || steps.back().kind != PreTokenizerStep::Kind::ByteLevel) {
      unsupported("a pre_tokenizer that does not end in ByteLevel");
    }
    return steps;
  }

  std::string type_of(const JsonValue& object) const {
    const JsonValue* t = object.find("type");
    if (t == nullptr || t->kind != JsonValue::Kind::String) fail("a component without a 'type'");
    return t->text;
  }

  std::pair<std::string, std::string> merge_pair(const JsonValue& item) const {
    if (item.kind == JsonValue::Kind::String) {  // "a b" (the older format)
      const auto space = item.text.find(' ');
      if (space == std::string::npos || item.text.find(' ', space + 1) != std::string::npos) {
        fail("merge '" + item.text + "' is not two tokens separated by one space");
      }
      return {item.text.substr(0, space), item.text.substr(space + 1)};
    }
    if (item.kind != JsonValue::Kind::Array || item.items.size() != 2 ||
        item.items[0].kind != JsonValue::Kind::String || item.items[1].kind != JsonValue::Kind::String) {
      fail("a merge is neither \"a b\" nor [\"a\", \"b\"]");
    }
    return {item.items[0].text, item.items[1].text};
  }

  std::unique_ptr<TextTokenizer> load() const {
    const std::string text = read_bounded_file(path_, kMaxTokenizerJsonBytes, "tokenizer.json",
                                               "re-run `edgecpm export`, or pass --prompt-ids");
    JsonValue root;
    try {
      root = parse_json(text);
    } catch (const JsonError& e) {
      fail(std::string("not valid JSON (") + e.what() + ")");
    }
    if (root.kind != JsonValue::Kind::Object) fail("not a JSON object");
    const JsonValue* normalizer = root.find("normalizer");
    if (normalizer != nullptr && normalizer->kind != JsonValue::Kind::Null) unsupported("a normalizer");
    auto steps = pre_tokenizer(root);

    const JsonValue& model = member(root, "model", JsonValue::Kind::Object, "the model");
    if (type_of(model) != "BPE") unsupported("model type '" + type_of(model) + "'");
    const JsonValue* dropout = model.find("dropout");
    if (dropout != nullptr && dropout->kind != JsonValue::Kind::Null) unsupported("BPE dropout");
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
      const JsonValue* v = model.find(key);
      if (v != nullptr && v->kind != JsonValue::Kind::Null && !(v->kind == JsonValue::Kind::String && v->text.empty())) {
        unsupported(std::string("a BPE ") + key);
      }
    }
    if (flag(model, "byte_fallback", false)) unsupported("byte_fallback in a byte-level BPE");

    std::unordered_map<std::string, int64_t> vocab;
    for (const auto& [token, id] : member(model, "vocab", JsonValue::Kind::Object, "token -> id").members) {
      vocab[token] = id_of(id, "vocab entry '" + token + "'");
    }
    for (int b = 0; b < 256; ++b) {
      if (!vocab.count(byte_level_alphabet()[b])) fail("the vocabulary has no token for byte " + std::to_string(b));
    }
    std::unordered_map<uint64_t, Merge> merges;
    const auto& merge_items = member(model, "merges", JsonValue::Kind::Array, "the merges").items;
    for (size_t rank = 0; rank < merge_items.size(); ++rank) {
      const auto [a, b] = merge_pair(merge_items[rank]);
      auto ia = vocab.find(a), ib = vocab.find(b), ic = vocab.find(a + b);
      if (ia == vocab.end() || ib == vocab.end() || ic == vocab.end()) {
        fail("merge '" + a + " " + b + "' uses or makes a token that is not in the vocabulary");
      }
      merges[pair_key(ia->second, ib->second)] = {static_cast<uint32_t>(rank), ic->second};
    }

    AddedTokens added;
    const JsonValue* added_list = root.find("added_tokens");
    if (added_list != nullptr && added_list->kind != JsonValue::Kind::Null) {
      if (added_list->kind != JsonValue::Kind::Array) fail("'added_tokens' is not a list");
      for (const auto& token : added_list->items) {
        if (token.kind != JsonValue::Kind::Object) fail("an added token is not an object");
        const auto& content = member(token, "content", JsonValue::Kind::String, "the token's text");
        for (const char* key : {"lstrip", "rstrip", "single_word"}) {
          if (flag(token, key, false)) unsupported(std::string("added token '") + content.text + "' with " + key);
        }
        const JsonValue* id = token.find("id");
        if (id == nullptr) fail("added token '" + content.text + "' has no id");
        added.add(content.text, id_of(*id, "added token '" + content.text + "'"));
      }
    }
    return std::make_unique<HfBpeTokenizer>(path_, std::move(added), std::move(steps), std::move(vocab),
                                            std::move(merges), flag(model, "ignore_merges", false));
  }

 private:
  std::string path_;
};

}  // namespace

std::unique_ptr<TextTokenizer> load_hf_bpe_tokenizer(const std::string& path) { return Loader(path).load(); }

}  // namespace edgecpm
