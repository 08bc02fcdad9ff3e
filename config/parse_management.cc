// Parser for `management`: the box's HTTPS server (port, certificate and private key) and its
// Prometheus metrics listener.
#include "config/parse_sections.h"
#include "config/yaml_values.h"

namespace bulwark::config {
namespace {

void parse_https(Reader& r, const YAML::Node& n, HttpsSettings& out) {
  MapReader m(r, n, "management.https", out);
  uint32_t port = out.port;
  if (m.optional("port", port, Integer{1, 65535})) out.port = static_cast<uint16_t>(port);
  std::string certificate;
  if (m.optional("certificate", certificate, as_string)) out.certificate = certificate;
  SecretRef key;
  if (m.optional("private_key", key, as_secret)) out.private_key = key;
  m.finish();
}

void parse_metrics(Reader& r, const YAML::Node& n, MetricsSettings& out) {
  MapReader m(r, n, "management.metrics", out);
  std::vector<std::pair<std::string, Origin>> interfaces;
  if (m.required("interfaces", interfaces, as_name_list, "the interfaces whose addresses serve /metrics, e.g. [internal]")) {
    for (auto& [name, origin] : interfaces) {
      out.interfaces.push_back(name);
      out.interface_origins.push_back(origin);
    }
  }
  uint32_t port = out.port;
  if (m.optional("port", port, Integer{1, 65535})) out.port = static_cast<uint16_t>(port);
  m.finish();
}

}  // namespace

void parse_management(Reader& r, const YAML::Node& n, ManagementSection& out) {
  MapReader m(r, n, "management", out);
  if (auto https = m.take("https")) parse_https(r, *https, out.https);
  if (auto metrics = m.take("metrics")) parse_metrics(r, *metrics, out.metrics);
  m.finish();
}


}  // namespace bulwark::config
