// Password checks for the login portal (authenticator.h): libcrypt for local hashes, FreeRADIUS's
// packet library for RADIUS PAP (radius_pap.h), one server at a time so that each gets its own
// timeout and so that anything but an Access-Accept or Access-Reject that verifies moves on to
// the next server; an Access-Reject ends the attempt.
#include "control/portal/authenticator.h"

#include <crypt.h>
#include <openssl/crypto.h>

#include <cstring>
#include <map>

#include <fmt/format.h>

#include "control/portal/radius_pap.h"
#include "config/secrets.h"

namespace bulwark::control {

namespace {


struct RadiusServer {
  config::Ipv4Address address;
  uint16_t port = 1812;
  std::string secret;
  uint32_t timeout = 3;
  bool require_message_authenticator = false;
};

struct LocalUser {
  AuthMethod method = AuthMethod::kLocal;
  std::string hash;  // crypt(3) string, local users only
};

// True when `password` hashes to `hash`; the comparison takes the same time wherever they differ.
bool crypt_matches(const std::string& password, const std::string& hash) {
  crypt_data data{};
  const char* out = crypt_rn(password.c_str(), hash.c_str(), &data, sizeof data);
  if (!out || out[0] == '*') return false;  // "*0"/"*1": libcrypt's failure tokens
  size_t n = std::strlen(out);
  return n == hash.size() && CRYPTO_memcmp(out, hash.data(), n) == 0;
}

enum class RadiusAnswer { kAccept, kReject, kNoAnswer };

RadiusAnswer ask_radius(const RadiusServer& server, const std::string& user, const std::string& password,
                        config::Ipv4Address nas, std::string& detail) {
  char reason[256] = "";
  const bw_radius_answer a = bw_radius_pap(server.address.value, server.port, server.secret.c_str(),
                                           server.timeout * 1000u, server.require_message_authenticator ? 1 : 0,
                                           user.c_str(), password.c_str(), nas.value, reason, sizeof reason);
  detail = fmt::format("{}:{} {}", server.address.str(), server.port, reason);
  return a == BW_RADIUS_ACCEPT ? RadiusAnswer::kAccept : a == BW_RADIUS_REJECT ? RadiusAnswer::kReject
                                                                               : RadiusAnswer::kNoAnswer;
}

}  // namespace

struct Authenticator::State {
  std::map<std::string, LocalUser> users;
  std::vector<RadiusServer> servers;
  std::string dummy_hash;  // checked for unknown users: the same cost as a known one
};

Authenticator::Authenticator() = default;
Authenticator::~Authenticator() = default;

bool Authenticator::configure(const config::UserFirewallTables& tables, std::string& error) {
  auto state = std::make_shared<State>();
  for (const config::UserEntry& u : tables.users) {
    LocalUser entry;
    if (u.authentication == config::FirewallUser::Auth::kRadius) {
      entry.method = AuthMethod::kRadius;
    } else {
      if (!u.password_hash) {
        error = fmt::format("user '{}' has no password_hash", u.name);
        return false;
      }
      auto hash = config::read_secret(*u.password_hash, error);
      if (!hash) return false;
      if (crypt_checksalt(hash->c_str()) != CRYPT_SALT_OK) {
        error = fmt::format("the password_hash of user '{}' ({}) is not a crypt(3) hash this system supports "
                            "(make one with `mkpasswd -m yescrypt`)", u.name, u.password_hash->str());
        return false;
      }
      entry.hash = std::move(*hash);
      if (state->dummy_hash.empty()) state->dummy_hash = entry.hash;
    }
    state->users[u.name] = std::move(entry);
  }
  for (const config::RadiusEntry& r : tables.radius_servers) {
    auto secret = config::read_secret(r.secret, error);
    if (!secret) return false;
    if (secret->empty() || secret->find('\0') != std::string::npos) {
      error = fmt::format("the RADIUS secret for {} ({}) must not be empty or hold NUL", r.address.str(),
                          r.secret.str());
      return false;
    }
    state->servers.push_back({r.address, r.port, std::move(*secret), r.timeout, r.require_message_authenticator});
  }
  if (state->dummy_hash.empty()) {
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    if (crypt_gensalt_rn("$y$", 0, nullptr, 0, setting, sizeof setting)) state->dummy_hash = setting;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  state_ = std::move(state);
  return true;
}

AuthResult Authenticator::authenticate(const std::string& user, const std::string& password,
                                       config::Ipv4Address nas_address) const {
  std::shared_ptr<const State> state;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    state = state_;
  }
  AuthResult result;
  if (!state) return result;
  auto it = state->users.find(user);
  if (it == state->users.end()) {
    if (!state->dummy_hash.empty()) crypt_matches(password, state->dummy_hash);
    return result;  // rejected, after the same work as a wrong password
  }
  result.method = it->second.method;
  if (it->second.method == AuthMethod::kLocal) {
    if (crypt_matches(password, it->second.hash)) result.verdict = AuthVerdict::kAccepted;
    return result;
  }
  if (password.size() > 128 || user.size() > 253) return result;  // RFC 2865 5.1, 5.2: cannot be right
  result.verdict = AuthVerdict::kServersUnavailable;
  for (const RadiusServer& server : state->servers) {
    std::string detail;
    RadiusAnswer answer = ask_radius(server, user, password, nas_address, detail);
    result.detail += (result.detail.empty() ? "" : ", ") + detail;
    if (answer == RadiusAnswer::kAccept) {
      result.verdict = AuthVerdict::kAccepted;
      break;
    }
    if (answer == RadiusAnswer::kReject) {
      result.verdict = AuthVerdict::kRejected;
      break;
    }
  }
  return result;
}

}  // namespace bulwark::control
