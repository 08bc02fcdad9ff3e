#include "config/prometheus.h"

#include <fmt/format.h>

namespace bulwark::config {

void MetricsWriter::family(std::string_view name, std::string_view type, std::string_view help) {
  name_ = std::string(name);
  std::string escaped_help;
  for (char c : help) escaped_help += c == '\\' ? "\\\\" : c == '\n' ? "\\n" : std::string(1, c);
  out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escaped_help, name, type);
}

void MetricsWriter::sample(uint64_t value, const Labels& labels) {
  out_ += name_;
  if (!labels.empty()) {
    out_ += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      out_ += fmt::format("{}{}=\"", i ? "," : "", labels[i].first);
      for (char c : labels[i].second) out_ += c == '\\' ? "\\\\" : c == '"' ? "\\\"" : c == '\n' ? "\\n" : std::string(1, c);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += fmt::format(" {}\n", value);
}

}  // namespace bulwark::config
