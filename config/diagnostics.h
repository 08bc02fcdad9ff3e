// Errors and warnings about a configuration, each tied to the place it came from.
//
// Every stage (parse, validate, compile) appends to one Diagnostics list and keeps going, so a
// user sees every problem of a configuration in one run. A message renders as
//   file:line:col: error: <yaml path>: <message> (hint: …)
// Lines and columns are 1-based, as editors count them.
#pragma once

#include <string>
#include <vector>

namespace bulwark::config {

// Where a value came from: file, position and the YAML path, e.g. "firewall.incoming.rules[2].to".
struct Origin {
  std::string file;
  int line = 0;
  int column = 0;
  std::string path;

  std::string position() const;  // "file:line:col"
};

enum class Severity { kError, kWarning };

struct Diagnostic {
  Severity severity = Severity::kError;
  Origin origin;
  std::string message;
  std::string hint;

  std::string str() const;
};

class Diagnostics {
 public:
  void error(const Origin& origin, std::string message, std::string hint = {});
  void warning(const Origin& origin, std::string message, std::string hint = {});

  const std::vector<Diagnostic>& all() const { return items_; }
  size_t error_count() const;
  size_t warning_count() const;
  bool has_errors() const { return error_count() > 0; }

  // Orders by file, line and column (stable), the order a reader goes through a file.
  void sort();

 private:
  std::vector<Diagnostic> items_;
};

}  // namespace bulwark::config
