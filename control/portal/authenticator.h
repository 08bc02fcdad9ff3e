// Checks a user firewall login's password: local users against their crypt(3) hash (libcrypt:
// yescrypt, SHA-512, ...), RADIUS users with PAP (radius_pap.h) against the configured servers in
// order, each with its own timeout, failing over to the next when one does not answer. An
// Access-Reject ends the attempt (the next server is not asked). Unknown users cost the same as
// known ones (a dummy hash is checked) and get the same answer as a wrong password. Secrets are
// read by reference at configure() and never logged.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/tables.h"
#include "control/user_firewall/login_types.h"

namespace bulwark::control {

enum class AuthVerdict {
  kAccepted,
  kRejected,            // wrong password or unknown user: one answer for both
  kServersUnavailable,  // a RADIUS user and no server answered
};

struct AuthResult {
  AuthVerdict verdict = AuthVerdict::kRejected;
  AuthMethod method = AuthMethod::kLocal;
  std::string detail;  // for the log only (e.g. "10.1.0.5:1812 timed out, 10.1.0.6:1812 rejected")
};

class Authenticator {
 public:
  Authenticator();
  ~Authenticator();
  // Replaces users and servers. False with `error` (nothing replaced) when a hash or secret
  // cannot be read.
  bool configure(const config::UserFirewallTables& tables, std::string& error);
  // Thread-safe; blocks for at most the sum of the RADIUS servers' timeouts (times retries).
  // `nas_address` is sent as NAS-IP-Address (the box address the user connected to).
  AuthResult authenticate(const std::string& user, const std::string& password,
                          config::Ipv4Address nas_address) const;

  struct State;

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const State> state_;
};

}  // namespace bulwark::control
