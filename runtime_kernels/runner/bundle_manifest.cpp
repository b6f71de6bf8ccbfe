#include "bundle_manifest.h"

#include "bounded_file.h"
#include "json_reader.h"
#include "runner_error.h"
#include "sha256.h"

namespace edgecpm {
namespace {

// edgecpm.export.pte.MANIFEST_VERSION: a newer manifest may mean checks this runner cannot make.
constexpr int64_t kManifestVersion = 1;
// A manifest is a few KiB; an FR-Spec id list makes it a few hundred. Anything near this is not one.
constexpr uint64_t kMaxManifestBytes = 16u << 20;
const char* kReexport = "re-run `edgecpm export`";

std::string directory_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

std::string file_name_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool is_sha256_hex(const std::string& text) {
  if (text.size() != 64) {
    return false;
  }
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

// A name listed in the manifest is a file of the bundle's own directory, nothing else: a damaged
// or hostile manifest must not make the runner read "../../x" or an absolute path.
bool is_plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

}  // namespace

const char* runner_arch() {
#if defined(__x86_64__)
  return "x86_64";
#elif defined(__aarch64__)
  return "aarch64";
#else
  return "unknown";
#endif
}

BundleManifest read_bundle_manifest(const std::string& model_path) {
  BundleManifest manifest;
  manifest.path = directory_of(model_path) + "manifest.json";
  const std::string& path = manifest.path;
  const std::string hint = std::string(kReexport) + ", or pass --no-verify to run the program unchecked";
  const std::string text = read_bounded_file(path, kMaxManifestBytes, "the bundle's manifest (written by "
                                             "`edgecpm export` beside model.pte)", hint);
  JsonValue root;
  try {
    root = parse_json(text);
  } catch (const JsonError& e) {
    throw RunnerError(path + ": not valid JSON (" + e.what() + "); " + kReexport);
  }
  if (root.kind != JsonValue::Kind::Object) {
    throw RunnerError(path + ": not an edgecpm manifest (not a JSON object); " + kReexport);
  }
  auto bad_field = [&](const std::string& field, const std::string& want) {
    return RunnerError(path + ": \"" + field + "\" is missing or not " + want + "; " + kReexport);
  };
  int64_t version = 0;
  const JsonValue* version_field = root.find("manifest_version");
  if (version_field != nullptr && (!version_field->to_int64(&version) || version < 0)) {
    throw bad_field("manifest_version", "a version number");
  }
  if (version > kManifestVersion) {
    throw RunnerError(path + ": written by a newer edgecpm (manifest_version " + std::to_string(version) +
                      "); rebuild edgecpm-runner from the same edgecpm, or re-export");
  }
  // "arch" may be absent in hand-made bundles; Python then assumes this machine, and so do we.
  if (const JsonValue* arch = root.find("arch")) {
    if (arch->kind != JsonValue::Kind::String) {
      throw bad_field("arch", "a string");
    }
    manifest.arch = arch->text;
    const JsonValue* target = root.find("target");
    manifest.target = target != nullptr && target->kind == JsonValue::Kind::String ? target->text : "?";
  }
  const JsonValue* max_seq_len = root.find("max_seq_len");
  if (max_seq_len == nullptr || !max_seq_len->to_int64(&manifest.max_seq_len) || manifest.max_seq_len < 1) {
    throw bad_field("max_seq_len", "a positive integer");
  }
  const JsonValue* config = root.find("config");
  const JsonValue* vocab_size = config == nullptr ? nullptr : config->find("vocab_size");
  if (vocab_size == nullptr || !vocab_size->to_int64(&manifest.vocab_size) || manifest.vocab_size < 1) {
    throw bad_field("config.vocab_size", "a positive integer");
  }
  const JsonValue* sums = root.find("sha256");
  if (sums == nullptr || sums->kind != JsonValue::Kind::Object || sums->members.empty()) {
    throw RunnerError(path + ": has no sha256 checksums to check the bundle's files with; " + hint);
  }
  for (const auto& [name, digest] : sums->members) {
    if (!is_plain_file_name(name) || digest.kind != JsonValue::Kind::String || !is_sha256_hex(digest.text)) {
      throw RunnerError(path + ": its sha256 entry for \"" + name + "\" is not a file name with 64 hex digits; " +
                        kReexport);
    }
    manifest.sha256.emplace_back(name, digest.text);
  }
  return manifest;
}

void check_bundle_arch(const BundleManifest& manifest) {
  if (!manifest.arch.empty() && manifest.arch != runner_arch()) {
    const std::string dir = directory_of(manifest.path);
    throw RunnerError((dir.empty() ? std::string(".") : dir.substr(0, dir.size() - 1)) + ": exported for " +
                      manifest.arch + " (--target " + manifest.target + "); this runner is built for " +
                      runner_arch() + ": run the " + manifest.arch + " edgecpm-runner on a " + manifest.arch +
                      " machine, or re-export for this one (edgecpm export MODEL --target host)");
  }
}

void verify_bundle_checksums(const BundleManifest& manifest, const std::string& model_path) {
  const std::string dir = directory_of(model_path);
  const std::string program = file_name_of(model_path);
  bool program_listed = false;
  for (const auto& [name, want] : manifest.sha256) {
    program_listed = program_listed || name == program;
  }
  if (!program_listed) {
    throw RunnerError(manifest.path + ": has no sha256 for " + program + ", so the program cannot be checked; " +
                      kReexport + ", or pass --no-verify");
  }
  for (const auto& [name, want] : manifest.sha256) {
    const std::string file = dir + name;
    std::string got;
    try {
      got = file_sha256(file);
    } catch (const RunnerError&) {
      throw RunnerError(file + ": listed in " + file_name_of(manifest.path) + " but missing or unreadable; " +
                        kReexport);
    }
    if (got != want) {
      throw RunnerError(file + ": its sha256 does not match " + file_name_of(manifest.path) +
                        " (truncated or modified); " + kReexport);
    }
  }
}

void check_manifest_matches_program(const BundleManifest& manifest, int64_t max_seq_len, int64_t vocab_size,
                                    const std::string& model_path) {
  if (manifest.max_seq_len != max_seq_len || manifest.vocab_size != vocab_size) {
    throw RunnerError(manifest.path + ": says max_seq_len " + std::to_string(manifest.max_seq_len) +
                      " and vocab_size " + std::to_string(manifest.vocab_size) + " but " + model_path + " has " +
                      std::to_string(max_seq_len) + " and " + std::to_string(vocab_size) +
                      ": they are from different exports; " + kReexport);
  }
}

}  // namespace edgecpm
