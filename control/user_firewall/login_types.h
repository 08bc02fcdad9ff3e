// What the HTTPS login portal (control/portal/) and the user firewall's session manager
// (control/user_firewall/sessions.h) tell each other. The portal authenticates (local crypt(3)
// hashes or RADIUS) and then asks the session manager to open a session; it never touches the
// dataplane itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/net_types.h"

namespace bulwark::control {

enum class AuthMethod { kLocal, kRadius };
const char* auth_method_name(AuthMethod m);  // "local" or "radius"

// A user whose password the portal has verified, logging in from `source` through the login
// interface `interface` (a configured interface name).
struct LoginRequest {
  std::string user;
  config::Ipv4Address source;
  std::string interface;
  AuthMethod method = AuthMethod::kLocal;
};

// One template a session unlocked, as the success page shows it.
struct UnlockedTemplate {
  std::string name;
  config::Ipv4Address source;  // the address its rules apply to
  bool dynamic_timeout = false;
  std::chrono::system_clock::time_point expires;  // for a dynamic timeout: as of now
};

struct SessionView {
  uint32_t session = 0;
  std::string user;
  config::Ipv4Address source;
  std::string interface;
  AuthMethod method = AuthMethod::kLocal;
  std::chrono::system_clock::time_point login_time;
  std::vector<UnlockedTemplate> templates;
};

struct LoginOutcome {
  bool ok = false;
  std::string error;  // for the page when !ok: e.g. "no template unlocks anything for this user"
  SessionView session;
};

// The session manager as the portal sees it. All three are safe to call from any thread.
struct PortalHooks {
  std::function<LoginOutcome(const LoginRequest&)> login;
  // Ends the session of `source` (logout button); false when it has none.
  std::function<bool(config::Ipv4Address source)> logout;
  std::function<std::optional<SessionView>(config::Ipv4Address source)> session_of;
};

}  // namespace bulwark::control
