// Parses the file given with the runner's JSON reader and prints the value back as compact JSON
// (or "error: ..." and exit status 1), for tests/runner/test_bundle_checks.py to compare with
// what Python's json module reads from the same bytes.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "json_reader.h"

namespace {

void write_string(const std::string& s, std::string& out) {
  out.push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out.push_back(c);  // UTF-8 (and WTF-8 lone surrogates) as they are
    }
  }
  out.push_back('"');
}

void write_value(const edgecpm::JsonValue& v, std::string& out) {
  using Kind = edgecpm::JsonValue::Kind;
  switch (v.kind) {
    case Kind::Null: out += "null"; break;
    case Kind::Bool: out += v.boolean ? "true" : "false"; break;
    case Kind::Number: out += v.text; break;
    case Kind::String: write_string(v.text, out); break;
    case Kind::Array:
      out.push_back('[');
      for (size_t i = 0; i < v.items.size(); ++i) {
        if (i) out.push_back(',');
        write_value(v.items[i], out);
      }
      out.push_back(']');
      break;
    case Kind::Object:
      out.push_back('{');
      for (size_t i = 0; i < v.members.size(); ++i) {
        if (i) out.push_back(',');
        write_string(v.members[i].first, out);
        out.push_back(':');
        write_value(v.members[i].second, out);
      }
      out.push_back('}');
      break;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: edgecpm_json_reader_check FILE\n");
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    std::string out;
    write_value(edgecpm::parse_json(text), out);
    std::fwrite(out.data(), 1, out.size(), stdout);
  } catch (const edgecpm::JsonError& e) {
    std::printf("error: %s\n", e.what());
    return 1;
  }
  return 0;
}
