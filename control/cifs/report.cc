#include "control/cifs/report.h"

#include <openssl/rand.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "config/json.h"

namespace bulwark::control::cifs {
namespace {

std::string quote_if_needed(const std::string& value) {
  if (value.find_first_of(" \"") == std::string::npos && !value.empty()) return value;
  std::string out = "\"";
  for (char ch : value) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

}  // namespace

std::string random_uuid() {
  unsigned char b[16];
  RAND_bytes(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  return fmt::format("{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-"
                     "{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
                     b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
                     b[13], b[14], b[15]);
}

Report::Report(std::string text_path, std::string json_path)
    : text_path_(std::move(text_path)), json_path_(std::move(json_path)) {}

Report::~Report() {
  if (text_) std::fclose(text_);
  if (json_) std::fclose(json_);
}

bool Report::begin(const std::string& subject, const std::string& check, const std::string& share,
                   std::string& error) {
  text_ = std::fopen(text_path_.c_str(), "wb");
  json_ = std::fopen(json_path_.c_str(), "wb");
  if (!text_ || !json_) {
    error = fmt::format("cannot write the report in {}: {}", text_path_, std::strerror(errno));
    return false;
  }
  id_ = random_uuid();
  std::time_t now = std::time(nullptr);
  char date[64], iso[32];
  std::strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", std::localtime(&now));
  std::strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  fmt::print(text_, "START_OF_LOG {} {}\nSUBJECT {} name={} share={}\n", id_, date, subject,
             quote_if_needed(check), quote_if_needed(share));
  using config::json_string;
  fmt::print(json_, "{{\"id\": {}, \"start\": {}, \"subject\": {}, \"name\": {}, \"share\": {}, \"events\": [",
             json_string(id_), json_string(iso), json_string(subject), json_string(check), json_string(share));
  return true;
}

void Report::event(const std::string& name, const Fields& fields, const Fields& numbers) {
  std::string text = name, json = fmt::format("{{\"event\": {}", config::json_string(name));
  for (const auto& [key, value] : numbers) {
    text += fmt::format(" {}={}", key, value);
    json += fmt::format(", \"{}\": {}", key, value);
  }
  for (const auto& [key, value] : fields) {
    text += fmt::format(" {}={}", key, quote_if_needed(value));
    json += fmt::format(", \"{}\": {}", key, config::json_string(value));
  }
  fmt::print(text_, "{}\n", text);
  fmt::print(json_, "{}\n  {}}}", first_event_ ? "" : ",", json);
  first_event_ = false;
}

void Report::traversal_error(const TraversalError& e) {
  event(e.type == 'd' ? "DIR_TRAVERSAL_ERR" : "FILE_READ_ERR",
        {{"syscall", e.syscall}, {"error", std::strerror(e.error)}, {"path", e.path}, {"type", std::string(1, e.type)}},
        {{"errno", std::to_string(e.error)}});
}

void Report::added(const FileRecord& f) {
  event("FILE_ADDED", {{"path", f.path}, {"sha256", f.hash}}, {{"size", std::to_string(f.size)}});
}

void Report::removed(const FileRecord& f) {
  event("FILE_REMOVED", {{"path", f.path}, {"sha256", f.hash}}, {{"size", std::to_string(f.size)}});
}

void Report::changed(const FileRecord& before, const FileRecord& now) {
  event("FILE_CHANGED", {{"path", now.path}, {"old_sha256", before.hash}, {"new_sha256", now.hash}},
        {{"old_size", std::to_string(before.size)}, {"new_size", std::to_string(now.size)},
         {"old_mtime", std::to_string(before.mtime)}, {"new_mtime", std::to_string(now.mtime)}});
}

void Report::unreadable(const FileRecord& f) {
  event("FILE_UNREADABLE", {{"path", f.path}, {"reason", "a directory above it could not be read"}});
}

void Report::database_invalid(const std::string& reason) { event("DATABASE_INVALID", {{"reason", reason}}); }

bool Report::finish(const std::string& result, uint64_t files, uint64_t differences, uint64_t errors,
                    double seconds, std::string& error) {
  fmt::print(text_, "SUMMARY files={} differences={} errors={} duration={:.1f}s\n{}\nEND_OF_LOG\n", files,
             differences, errors, seconds, result);
  fmt::print(json_, "\n], \"result\": {}, \"files\": {}, \"differences\": {}, \"errors\": {}, \"duration_seconds\": {:.1f}}}\n",
             config::json_string(result), files, differences, errors, seconds);
  bool ok = std::fclose(text_) == 0;
  ok &= std::fclose(json_) == 0;
  text_ = json_ = nullptr;
  if (!ok) error = fmt::format("cannot write the report: {}", std::strerror(errno));
  return ok;
}

}  // namespace bulwark::control::cifs
