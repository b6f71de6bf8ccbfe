#include "draft_vocab.h"

#include <sys/stat.h>

#include <cstring>

#include "bounded_file.h"
#include "runner_error.h"

namespace edgecpm {
namespace {

constexpr char kMagic[8] = {'E', 'C', 'P', 'M', 'D', 'V', 'B', '1'};  // the digit is the format version
constexpr uint64_t kHeaderBytes = sizeof kMagic + sizeof(uint32_t);

}  // namespace

DraftVocab DraftVocab::load(const std::string& path, int64_t vocab_size) {
  // Header + at most one int64 per vocabulary id: the subset is never larger than the vocabulary.
  const std::string bytes = read_bounded_file(path, kHeaderBytes + static_cast<uint64_t>(vocab_size) * sizeof(int64_t),
                                              "the draft vocabulary", "pass the draft_vocab.bin of an `edgecpm "
                                              "export --draft --frspec` bundle");
  if (bytes.size() < kHeaderBytes || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    throw RunnerError(path + ": not a draft_vocab.bin of this edgecpm (no ECPMDVB1 header); re-run "
                      "`edgecpm export --draft --frspec`");
  }
  uint32_t count = 0;
  std::memcpy(&count, bytes.data() + sizeof kMagic, sizeof count);  // little-endian, as both targets
  if (count == 0 || bytes.size() - kHeaderBytes != static_cast<uint64_t>(count) * sizeof(int64_t)) {
    throw RunnerError(path + ": its header counts " + std::to_string(count) + " ids but it holds " +
                      std::to_string(bytes.size() - kHeaderBytes) + " bytes of them; re-run `edgecpm export`");
  }
  DraftVocab vocab;
  vocab.ids_.resize(count);
  std::memcpy(vocab.ids_.data(), bytes.data() + kHeaderBytes, bytes.size() - kHeaderBytes);
  for (int64_t id : vocab.ids_) {
    if (id < 0 || id >= vocab_size) {
      throw RunnerError(path + ": id " + std::to_string(id) + " is outside the model's vocabulary (" +
                        std::to_string(vocab_size) + " ids); use the draft_vocab.bin of the same bundle");
    }
  }
  return vocab;
}

DraftVocab DraftVocab::for_program(const std::string& path, const std::string& model_path, int64_t draft_width,
                                   int64_t vocab_size) {
  std::string file = path;
  if (file.empty()) {
    if (draft_width == vocab_size) {
      return DraftVocab();
    }
    const auto slash = model_path.find_last_of('/');
    file = (slash == std::string::npos ? std::string() : model_path.substr(0, slash + 1)) + "draft_vocab.bin";
    struct stat info {};
    if (stat(file.c_str(), &info) != 0) {
      throw RunnerError(model_path + ": its draft head scores " + std::to_string(draft_width) + " FR-Spec ids of " +
                        std::to_string(vocab_size) + " and " + file + " is missing; pass --draft-vocab "
                        "DIR/draft_vocab.bin from the same `edgecpm export --frspec` bundle");
    }
  }
  DraftVocab vocab = load(file, vocab_size);
  if (static_cast<int64_t>(vocab.size()) != draft_width) {
    throw RunnerError(file + ": has " + std::to_string(vocab.size()) + " ids but the draft head of " + model_path +
                      " scores " + std::to_string(draft_width) + "; use the draft_vocab.bin of the same bundle");
  }
  return vocab;
}

}  // namespace edgecpm
