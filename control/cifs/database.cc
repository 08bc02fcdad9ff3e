#include "control/cifs/database.h"

#include <cctype>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace bulwark::control::cifs {
namespace {

constexpr const char* kMagic = "bulwark-integrity-database 1";

bool is_hex(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

bool path_before(const std::string& a, const std::string& b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    auto x = static_cast<unsigned char>(a[i] == '/' ? 0 : a[i]);
    auto y = static_cast<unsigned char>(b[i] == '/' ? 0 : b[i]);
    if (x != y) return x < y;
  }
  return a.size() < b.size();
}

std::string encode_path(const std::string& path) {
  std::string out;
  for (char ch : path) {
    auto byte = static_cast<unsigned char>(ch);
    if (byte <= 0x20 || byte == 0x7F || byte == '%') {
      out += fmt::format("%{:02X}", byte);
    } else {
      out += ch;
    }
  }
  return out;
}

std::optional<std::string> decode_path(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size() || !std::isxdigit(static_cast<unsigned char>(text[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      return std::nullopt;
    }
    out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
    i += 2;
  }
  return out;
}

DatabaseWriter::~DatabaseWriter() {
  if (file_) std::fclose(file_);
}

bool DatabaseWriter::open(const std::string& path, const DatabaseHeader& h, std::string& error) {
  file_ = std::fopen(path.c_str(), "wb");
  if (!file_) {
    error = fmt::format("cannot write {}: {}", path, std::strerror(errno));
    return false;
  }
  fmt::print(file_, "{}\ncheck {}\nshare {}\npattern-set {}\n", kMagic, h.check, h.share, h.pattern_set);
  for (const auto& [include, pattern] : h.patterns) {
    fmt::print(file_, "pattern {} {}\n", include ? "include" : "exclude", encode_path(pattern));
  }
  fmt::print(file_, "algorithm {}\ncreated {}\ngenerator {}\nfiles\n", h.algorithm, h.created, h.generator);
  return true;
}

void DatabaseWriter::add(const FileRecord& f) {
  fmt::print(file_, "{} {} {} {}\n", f.hash, f.size, f.mtime, encode_path(f.path));
  ++count_;
}

bool DatabaseWriter::finish(std::string& error) {
  fmt::print(file_, "end {}\n", count_);
  bool ok = std::fflush(file_) == 0 && !std::ferror(file_);
  ok &= std::fclose(file_) == 0;
  file_ = nullptr;
  if (!ok) error = fmt::format("cannot write the integrity database: {}", std::strerror(errno));
  return ok;
}

DatabaseReader::~DatabaseReader() {
  if (file_) std::fclose(file_);
}

bool DatabaseReader::read_line(std::string& line) {
  line.clear();
  int ch;
  while ((ch = std::fgetc(file_)) != EOF && ch != '\n') {
    line += static_cast<char>(ch);
    if (line.size() > 65536) break;
  }
  ++line_;
  return ch == '\n';
}

bool DatabaseReader::open(const std::string& path, std::string& error) {
  file_ = std::fopen(path.c_str(), "rb");
  if (!file_) {
    error = fmt::format("cannot read {}: {}", path, std::strerror(errno));
    return false;
  }
  std::string line;
  if (!read_line(line) || line != kMagic) {
    error = "not an integrity database (wrong first line)";
    return false;
  }
  while (read_line(line)) {
    if (line == "files") return true;
    size_t space = line.find(' ');
    std::string key = line.substr(0, space);
    std::string value = space == std::string::npos ? "" : line.substr(space + 1);
    if (key == "check") header_.check = value;
    else if (key == "share") header_.share = value;
    else if (key == "pattern-set") header_.pattern_set = value;
    else if (key == "algorithm") header_.algorithm = value;
    else if (key == "created") header_.created = value;
    else if (key == "generator") header_.generator = value;
    else if (key == "pattern") {
      size_t sep = value.find(' ');
      header_.patterns.emplace_back(value.substr(0, sep) == "include",
                                    decode_path(value.substr(sep + 1)).value_or(""));
    }
  }
  error = fmt::format("integrity database header ends early (line {})", line_);
  return false;
}

bool DatabaseReader::next(FileRecord& out) {
  std::string line;
  if (declared_) return false;
  if (!read_line(line)) {
    error_ = fmt::format("integrity database is truncated at line {}", line_);
    return false;
  }
  if (line.rfind("end ", 0) == 0) {
    unsigned long long n = 0;
    if (std::sscanf(line.c_str(), "end %llu", &n) != 1 || n != count_) {
      error_ = fmt::format("integrity database holds {} files but its end line says '{}'", count_, line);
      return false;
    }
    declared_ = n;
    return false;
  }
  char hash[65] = {};
  unsigned long long size = 0;
  long long mtime = 0;
  int consumed = 0;
  if (std::sscanf(line.c_str(), "%64s %llu %lld %n", hash, &size, &mtime, &consumed) != 3 ||
      !is_hex(hash) || consumed <= 0 || static_cast<size_t>(consumed) >= line.size()) {
    error_ = fmt::format("integrity database line {} is malformed", line_);
    return false;
  }
  auto path = decode_path(line.substr(static_cast<size_t>(consumed)));
  if (!path) {
    error_ = fmt::format("integrity database line {} has a malformed path", line_);
    return false;
  }
  out = {*path, size, mtime, hash};
  ++count_;
  return true;
}

}  // namespace bulwark::control::cifs
