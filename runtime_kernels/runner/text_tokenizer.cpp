#include "text_tokenizer.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "bounded_file.h"
#include "hf_bpe_tokenizer.h"
#include "json_reader.h"
#include "runner_error.h"
#include "sentencepiece_bpe.h"
#include "unicode_text.h"

namespace edgecpm {
namespace {

constexpr uint64_t kMaxConfigBytes = 16u << 20;

bool is_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

JsonValue read_json(const std::string& path, const std::string& what) {
  const std::string text = read_bounded_file(path, kMaxConfigBytes, what, "re-run `edgecpm export`");
  try {
    return parse_json(text);
  } catch (const JsonError& e) {
    throw RunnerError(path + ": not valid JSON (" + e.what() + "); re-run `edgecpm export`");
  }
}

// The added tokens Python's _added_tokens() reads beside a tokenizer.model: the
// added_tokens_decoder of tokenizer_config.json past id 2 (<unk>, <s>, </s> are SentencePiece's
// own), then added_tokens.json (token -> id) over them.
AddedTokens sentencepiece_added_tokens(const std::string& dir) {
  AddedTokens added;
  const std::string config_path = dir + "/tokenizer_config.json";
  if (is_file(config_path)) {
    const JsonValue config = read_json(config_path, "tokenizer_config.json");
    auto bad = [&](const std::string& why) {
      return RunnerError(config_path + ": not a tokenizer config with added_tokens_decoder (" + why +
                         "); re-run `edgecpm export`");
    };
    if (config.kind != JsonValue::Kind::Object) throw bad("not an object");
    const JsonValue* decoder = config.find("added_tokens_decoder");
    if (decoder != nullptr) {
      if (decoder->kind != JsonValue::Kind::Object) throw bad("added_tokens_decoder is not an object");
      for (const auto& [key, info] : decoder->members) {
        char* end = nullptr;
        errno = 0;
        const long long id = std::strtoll(key.c_str(), &end, 10);
        if (key.empty() || *end != '\0' || errno != 0) throw bad("key '" + key + "' is not an id");
        const JsonValue* content = info.find("content");
        if (content == nullptr || content->kind != JsonValue::Kind::String) throw bad("id " + key + " has no content");
        if (id > 2) added.add(content->text, id);
      }
    }
  }
  const std::string list_path = dir + "/added_tokens.json";
  if (is_file(list_path)) {
    const JsonValue list = read_json(list_path, "added_tokens.json");
    if (list.kind != JsonValue::Kind::Object) {
      throw RunnerError(list_path + ": not a JSON object of token -> id; re-run `edgecpm export`");
    }
    for (const auto& [token, value] : list.members) {
      int64_t id = -1;
      if (!value.to_int64(&id) || id < 0) {
        throw RunnerError(list_path + ": the id of '" + token + "' is not a token id; re-run `edgecpm export`");
      }
      added.add(token, id);
    }
  }
  return added;
}

}  // namespace

std::vector<int64_t> TextTokenizer::encode(const std::string& text, const std::string& where) const {
  const size_t bad = first_invalid_utf8(text);
  if (bad != std::string::npos) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned char>(text[bad]));
    throw RunnerError(where + ": not UTF-8 text (byte " + hex + " at offset " + std::to_string(bad) +
                      "); pass UTF-8 (check the terminal's or the file's encoding)");
  }
  std::vector<int64_t> ids;
  added_.split(
      text, [&](const std::string& piece) { encode_text(piece, ids); }, [&](int64_t id) { ids.push_back(id); });
  return ids;
}

std::unique_ptr<TextTokenizer> load_text_tokenizer(const std::string& dir) {
  if (is_file(dir + "/tokenizer.json")) {
    return load_hf_bpe_tokenizer(dir + "/tokenizer.json");
  }
  if (is_file(dir + "/tokenizer.model")) {
    return load_sentencepiece_bpe(dir + "/tokenizer.model", sentencepiece_added_tokens(dir));
  }
  throw RunnerError(dir + ": no tokenizer.json or tokenizer.model to encode the prompt with; re-run `edgecpm "
                    "export` (bundles carry the model's tokenizer), or pass --prompt-ids");
}

std::string chat_prompt(const std::string& user_text) {
  return "<|im_start|>user\n" + user_text + "<|im_end|>\n<|im_start|>assistant\n";
}

}  // namespace edgecpm
