#include "config_test_util.h"

namespace bulwark::test {

config::LoadResult load_text(const std::string& yaml) {
  return config::load({config::Source{"t.yaml", yaml}});
}

std::string base_config(const std::string& extra) {
  return "version: 1\n"
         "interfaces:\n"
         "  - name: internal\n"
         "    role: internal\n"
         "    port: net_null0\n"
         "    addresses: [192.168.1.1/24]\n"
         "  - name: external\n"
         "    role: external\n"
         "    port: net_null1\n"
         "    addresses: [10.1.0.1/16]\n"
         "default_gateway: 10.1.0.254\n" +
         extra;
}

std::string all_messages(const config::LoadResult& r) {
  std::string out;
  for (const auto& d : r.diagnostics.all()) out += d.str() + "\n";
  return out.empty() ? "(no diagnostics)\n" : out;
}

bool has_diagnostic(const config::LoadResult& r, config::Severity severity, const std::string& text,
                    int line, int column, const std::string& path) {
  for (const auto& d : r.diagnostics.all()) {
    if (d.severity != severity) continue;
    if (d.message.find(text) == std::string::npos) continue;
    if (line != 0 && (d.origin.line != line || d.origin.column != column)) continue;
    if (!path.empty() && d.origin.path != path) continue;
    return true;
  }
  return false;
}

}  // namespace bulwark::test
