// The report of one operation, in the manner of the manual (16.13):
//   START_OF_LOG <id> <date>
//   SUBJECT check-access name=<check sequence>
//   DIR_TRAVERSAL_ERR errno=13 syscall=readdir error="Permission denied" path=… type=d
//   ACCESS_CHECK_FAILED
//   END_OF_LOG
// and the same events as JSON (one object, events in an array). Both are written as streams to
// local files while the operation runs, then signed (signature.h) and copied to the checksum share.
//
// Event lines: DIR_TRAVERSAL_ERR (directories and files that could not be read), FILE_ADDED,
// FILE_REMOVED, FILE_CHANGED, FILE_UNREADABLE (in the database, below a directory that could not
// be read now), DATABASE_INVALID; then one result line: ACCESS_CHECK_OK/FAILED,
// DATABASE_BUILT/DATABASE_BUILD_FAILED, INTEGRITY_CHECK_OK/FAILED, CANCELLED; and SUMMARY.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "control/cifs/database.h"
#include "control/cifs/scanner.h"

namespace bulwark::control::cifs {

class Report {
 public:
  // `subject` is check-access, init or check; `text_path` and `json_path` are local files.
  Report(std::string text_path, std::string json_path);
  ~Report();
  bool begin(const std::string& subject, const std::string& check, const std::string& share, std::string& error);

  void traversal_error(const TraversalError& e);
  void added(const FileRecord& f);
  void removed(const FileRecord& f);
  void changed(const FileRecord& before, const FileRecord& now);
  void unreadable(const FileRecord& f);
  void database_invalid(const std::string& reason);
  // Ends the report: the result word, counters, END_OF_LOG.
  bool finish(const std::string& result, uint64_t files, uint64_t differences, uint64_t errors,
              double seconds, std::string& error);

  const std::string& id() const { return id_; }
  const std::string& text_path() const { return text_path_; }
  const std::string& json_path() const { return json_path_; }

 private:
  std::string text_path_, json_path_;
  std::FILE* text_ = nullptr;
  std::FILE* json_ = nullptr;
  std::string id_;
  bool first_event_ = true;
  using Fields = std::vector<std::pair<std::string, std::string>>;
  // One event: text line "EVENT k=v …" (values with spaces quoted) and a JSON object.
  void event(const std::string& name, const Fields& fields, const Fields& numbers = {});
};

std::string random_uuid();

}  // namespace bulwark::control::cifs
