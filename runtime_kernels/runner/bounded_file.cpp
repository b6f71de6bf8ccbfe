#include "bounded_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "runner_error.h"

namespace edgecpm {

std::string read_bounded_file(const std::string& path, uint64_t max_bytes, const std::string& what,
                              const std::string& hint) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) {
    throw RunnerError(path + ": cannot read " + what + " (" + std::strerror(errno) + "); " + hint);
  }
  if (!S_ISREG(info.st_mode)) {
    throw RunnerError(path + ": " + what + " is not a regular file; " + hint);
  }
  if (static_cast<uint64_t>(info.st_size) > max_bytes) {
    throw RunnerError(path + ": " + std::to_string(info.st_size) + " bytes is too large for " + what + " (at most " +
                      std::to_string(max_bytes) + "); " + hint);
  }
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!file) {
    throw RunnerError(path + ": cannot read " + what + " (" + std::strerror(errno) + "); " + hint);
  }
  // One byte more than stat said: a file that grew meanwhile is still refused, not truncated.
  std::string data(static_cast<size_t>(info.st_size) + 1, '\0');
  const size_t got = std::fread(&data[0], 1, data.size(), file.get());
  if (std::ferror(file.get()) || got > static_cast<size_t>(info.st_size)) {
    throw RunnerError(path + ": cannot read " + what + " (read error or changed while read); " + hint);
  }
  data.resize(got);
  return data;
}

}  // namespace edgecpm
