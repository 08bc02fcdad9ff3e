// The Prometheus text exposition format (version 0.0.4), written by hand: Debian 12 packages
// no C++ Prometheus client library (docs/metrics.md). Families are written whole — HELP, TYPE,
// then their samples — and label values are escaped as the format requires (backslash, double
// quote, line feed).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bulwark::config {

class MetricsWriter {
 public:
  using Labels = std::vector<std::pair<std::string_view, std::string_view>>;
  // Starts a family: `type` is "counter" or "gauge"; counter names end in _total.
  void family(std::string_view name, std::string_view type, std::string_view help);
  // A sample of the current family.
  void sample(uint64_t value, const Labels& labels = {});
  const std::string& text() const { return out_; }

 private:
  std::string out_;
  std::string name_;
};

}  // namespace bulwark::config
