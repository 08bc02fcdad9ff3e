// The box's TLS certificate for its HTTPS services: the configured one (management.https:
// certificate file, private key by reference), or a self-signed one generated on first start
// and kept under STATE_DIR/https/ (certificate.pem, key.pem mode 0600), so that its fingerprint
// stays the same across restarts and a technician can pin it.
#pragma once

#include <optional>
#include <string>

#include "config/tables.h"

namespace bulwark::control {

struct ServerCredentials {
  std::string certificate_pem;
  std::string private_key_pem;
  std::string fingerprint_sha256;  // "AB:CD:…" (32 upper-case hex pairs) of the leaf certificate
  bool self_signed_generated = false;  // true when this box made it
};

// nullopt with `error` when the configured files cannot be read, do not parse, or the key does
// not belong to the certificate, or when a generated one cannot be written.
std::optional<ServerCredentials> load_server_credentials(const config::ManagementTables& https,
                                                         const std::string& state_dir,
                                                         std::string& error);

}  // namespace bulwark::control
