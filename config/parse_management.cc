// Parser for `management`: the box's HTTPS server (port, certificate and private key).
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

}  // namespace

void parse_management(Reader& r, const YAML::Node& n, ManagementSection& out) {
  MapReader m(r, n, "management", out);
  if (auto https = m.take("https")) parse_https(r, *https, out.https);
  m.finish();
}

}  // namespace bulwark::config
