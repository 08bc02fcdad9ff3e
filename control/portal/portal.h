// The user firewall's HTTPS login portal (manual chapter 9.2), a component of bulwark-control.
//
// Theory of operation
// -------------------
// `apply` follows each applied configuration: with the user firewall enabled it serves HTTPS
// (https_server.h) on every address of every `login_interfaces` entry, inside the exception
// namespace where the box's own addresses live, with the configured certificate or a
// self-signed one kept in the state directory (certificate.h). The listeners restart only when
// their addresses, port or certificate change; users and RADIUS servers are swapped in place.
//
// A login (POST /login: username, password, access=user_firewall) passes the rate limiter
// (rate_limiter.h), then the authenticator (authenticator.h: crypt(3) or RADIUS; it runs on the
// server's threads, which are in the exception namespace, so RADIUS leaves from the box's own
// address), then the session manager (PortalHooks), which unlocks the user's templates. The
// source of the session is the client's address as the portal sees it. POST /logout ends the
// session of the client's address. Every outcome is logged without the password.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/tables.h"
#include "control/portal/authenticator.h"
#include "control/portal/certificate.h"
#include "control/portal/https_server.h"
#include "control/portal/rate_limiter.h"
#include "control/user_firewall/login_types.h"

namespace bulwark::control {

class Portal {
 public:
  using Log = std::function<void(const std::string&)>;
  Portal(PortalHooks hooks, std::string state_dir, Log log);
  ~Portal();

  // Follows an applied configuration. False with `error` when the portal cannot serve it (the
  // certificate cannot be loaded, an address cannot be bound); the portal is then stopped.
  bool apply(const config::Tables& tables, const std::string& network_namespace, std::string& error);
  void stop();

  // For `bulwark status`: listeners and the certificate's SHA-256 fingerprint.
  std::string status(bool json) const;

  // One request (public for the unit tests, which drive it without TLS).
  HttpResponse handle(const HttpRequest& request);

 private:
  HttpResponse login(const HttpRequest& request);
  HttpResponse logout(const HttpRequest& request);
  std::string interface_of(config::Ipv4Address local) const;

  PortalHooks hooks_;
  std::string state_dir_;
  Log log_;
  Authenticator authenticator_;
  LoginRateLimiter limiter_;

  mutable std::mutex mutex_;  // the fields below
  std::unique_ptr<HttpsServer> server_;
  std::string server_key_;  // what the running server was started with (namespace, listeners, certificate)
  std::vector<std::pair<config::Ipv4Address, std::string>> interfaces_;  // box address -> interface name
  std::optional<ServerCredentials> credentials_;
};

}  // namespace bulwark::control
