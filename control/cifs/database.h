// The integrity database of one check sequence: the reference state of the checked share.
//
// A text file written and read as a stream (a share with a million files never sits in memory):
//   bulwark-integrity-database 1
//   check NAME / share //server/share / pattern-set NAME / pattern include|exclude PATTERN …
//   algorithm sha256 / created ISO-8601 / generator bulwark VERSION
//   files
//   <sha256 hex> <size> <mtime> <path>      one line per file, in canonical path order
//   end <number of files>
// Paths are percent-encoded where a byte is a control character, a space or '%'. The canonical
// order is the scanner's: names sorted bytewise within a directory, depth first, which is the
// order of `path_before`. The file is signed (FILE.sig, see signature.h); the `end` line makes a
// truncated copy detectable even before the signature is checked.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace bulwark::control::cifs {

inline constexpr const char* kHashAlgorithm = "sha256";

struct FileRecord {
  std::string path;
  uint64_t size = 0;
  int64_t mtime = 0;
  std::string hash;  // hex
};

struct DatabaseHeader {
  std::string check;
  std::string share;
  std::string pattern_set;
  std::vector<std::pair<bool, std::string>> patterns;  // include?, pattern
  std::string algorithm = kHashAlgorithm;
  std::string created;
  std::string generator;
};

// Canonical order of share paths: component by component, bytewise.
bool path_before(const std::string& a, const std::string& b);

std::string encode_path(const std::string& path);
std::optional<std::string> decode_path(const std::string& text);

class DatabaseWriter {
 public:
  ~DatabaseWriter();
  bool open(const std::string& path, const DatabaseHeader& header, std::string& error);
  void add(const FileRecord& file);
  bool finish(std::string& error);  // writes the end line and closes
  uint64_t count() const { return count_; }

 private:
  std::FILE* file_ = nullptr;
  uint64_t count_ = 0;
};

class DatabaseReader {
 public:
  ~DatabaseReader();
  bool open(const std::string& path, std::string& error);
  const DatabaseHeader& header() const { return header_; }
  // The next record; false at the end or on a malformed line (then `error()` is set).
  bool next(FileRecord& out);
  const std::string& error() const { return error_; }
  // Records announced by the end line, once reached.
  std::optional<uint64_t> declared_count() const { return declared_; }

 private:
  std::FILE* file_ = nullptr;
  DatabaseHeader header_;
  std::string error_;
  uint64_t line_ = 0;
  uint64_t count_ = 0;
  std::optional<uint64_t> declared_;
  bool read_line(std::string& line);
};

}  // namespace bulwark::control::cifs
