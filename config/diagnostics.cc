#include "config/diagnostics.h"

#include <algorithm>
#include <tuple>

#include <fmt/format.h>

namespace bulwark::config {

std::string Origin::position() const { return fmt::format("{}:{}:{}", file, line, column); }

std::string Diagnostic::str() const {
  std::string text = fmt::format("{}: {}: {}: {}", origin.position(),
                                 severity == Severity::kError ? "error" : "warning",
                                 origin.path.empty() ? "<document>" : origin.path, message);
  if (!hint.empty()) text += fmt::format(" (hint: {})", hint);
  return text;
}

void Diagnostics::error(const Origin& origin, std::string message, std::string hint) {
  items_.push_back({Severity::kError, origin, std::move(message), std::move(hint)});
}

void Diagnostics::warning(const Origin& origin, std::string message, std::string hint) {
  items_.push_back({Severity::kWarning, origin, std::move(message), std::move(hint)});
}

size_t Diagnostics::error_count() const {
  return std::count_if(items_.begin(), items_.end(),
                       [](const Diagnostic& d) { return d.severity == Severity::kError; });
}

size_t Diagnostics::warning_count() const { return items_.size() - error_count(); }

void Diagnostics::sort() {
  std::stable_sort(items_.begin(), items_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.origin.file, a.origin.line, a.origin.column) <
           std::tie(b.origin.file, b.origin.line, b.origin.column);
  });
}

}  // namespace bulwark::config
