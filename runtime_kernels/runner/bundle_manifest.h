// The checks Python's PteModel makes before it loads a bundle, from the manifest.json that
// `edgecpm export` writes beside model.pte (toolchain/edgecpm/export/pte.py): the target
// architecture, then every file's sha256. --no-verify skips them (reading ~300 MB to hash a real
// model costs seconds on a board); the program's own flatbuffer checks stay on either way.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace edgecpm {

struct BundleManifest {
  std::string path;       // DIR/manifest.json
  std::string arch;       // platform.machine() of the target: "x86_64", "aarch64"; empty if absent
  std::string target;     // the export recipe: "host", "jetson", ...
  int64_t max_seq_len = 0;
  int64_t vocab_size = 0;  // config.vocab_size
  std::vector<std::pair<std::string, std::string>> sha256;  // file name in DIR -> 64 hex digits
};

// Reads and checks the manifest beside `model_path`. Throws RunnerError naming the manifest when
// it is missing, unreadable, not JSON, newer than this runner, or lacks a field the checks need.
BundleManifest read_bundle_manifest(const std::string& model_path);

// The machine this runner was built for, spelled as Python's platform.machine().
const char* runner_arch();

// Throws RunnerError when the bundle was exported for another architecture than this runner's.
void check_bundle_arch(const BundleManifest& manifest);

// Hashes every file the manifest lists (which must include the program itself) and throws
// RunnerError naming the first that is missing or differs.
void verify_bundle_checksums(const BundleManifest& manifest, const std::string& model_path);

// Throws RunnerError when the program's own max_seq_len/vocab_size disagree with the manifest's.
void check_manifest_matches_program(const BundleManifest& manifest, int64_t max_seq_len, int64_t vocab_size,
                                    const std::string& model_path);

}  // namespace edgecpm
