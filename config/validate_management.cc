// Checks of `management`: the HTTPS server's certificate and key come as a pair, and its port
// is not taken by another service of the box. The server serves only the user firewall's login
// portal so far, so the section without an enabled user firewall is refused, not ignored.
#include <algorithm>

#include <fmt/format.h>

#include "config/validate_context.h"

namespace bulwark::config {

void validate_management(ValidationContext& ctx) {
  const HttpsSettings& https = ctx.model.management.https;
  if (https.certificate && !https.private_key) {
    ctx.diag.error(https.at("certificate"), "a certificate needs its private_key",
                   "add private_key: {file: /etc/bulwark/https/key.pem}, or remove certificate to "
                   "let the box generate a self-signed one");
  }
  if (https.private_key && !https.certificate) {
    ctx.diag.error(https.at("private_key"), "a private_key needs its certificate",
                   "add certificate: /etc/bulwark/https/cert.pem, or remove private_key to let "
                   "the box generate a self-signed one");
  }
  if (https.certificate && !https.certificate->empty() && https.certificate->front() != '/') {
    ctx.diag.error(https.at("certificate"), "the certificate must be given by absolute path",
                   "e.g. /etc/bulwark/https/cert.pem");
  }
  const IpsecSection& ipsec = ctx.model.ipsec;
  if (ipsec.tcp_listen && ipsec.tcp_listen_port == https.port) {
    ctx.diag.error(https.at("port"),
                   fmt::format("port {} is already used by IKE over TCP ({})", https.port,
                               ipsec.at("tcp_encapsulation").position()),
                   "choose another management.https.port or ipsec tcp_encapsulation port");
  }
  const MetricsSettings& metrics = ctx.model.management.metrics;
  for (size_t i = 0; i < metrics.interfaces.size(); ++i) {
    ctx.interfaces.check(metrics.interfaces[i], metrics.interface_origins[i], ctx.diag);
    const auto& login = ctx.model.user_firewall.login_interfaces;
    const bool shared = ctx.model.user_firewall.enabled &&
                        std::find(login.begin(), login.end(), metrics.interfaces[i]) != login.end();
    if (shared && metrics.port == https.port) {
      ctx.diag.error(metrics.has("port") ? metrics.at("port") : metrics.interface_origins[i],
                     fmt::format("port {} on interface '{}' is already the login portal's", metrics.port,
                                 metrics.interfaces[i]),
                     "choose another management.metrics.port (9100 is the usual one)");
    }
  }
  if (ctx.model.management.has("https") && !ctx.model.user_firewall.enabled) {
    ctx.diag.error(ctx.model.management.at("https"),
                   "the HTTPS server runs only for the user firewall's login portal, which is "
                   "not enabled",
                   "enable user_firewall with login_interfaces, or remove management.https");
  }
}

}  // namespace bulwark::config
