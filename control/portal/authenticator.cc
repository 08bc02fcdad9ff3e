// Password checks for the login portal (authenticator.h): libcrypt for local hashes, radcli for
// RADIUS (RFC 2865 PAP).
//
// radcli is driven one server at a time (rc_aaa_ctx_server with a one-entry server list) so that
// each server gets its own timeout and so that a refused or unparsable answer, not only a
// timeout, moves on to the next server; an Access-Reject ends the attempt. The server is given
// to radcli as a structure, never as radcli's "host:port:secret" option text (which splits at
// commas and blanks), so a secret may hold any character; radcli keeps at most 95 bytes of it. radcli 1.2 (Debian 12) neither sends nor checks Message-Authenticator on
// PAP requests; docs/user-firewall.md says what that means for deployment.
#include "control/portal/authenticator.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <radcli/radcli.h>

#include <cstring>
#include <map>

#include <fmt/format.h>

#include "config/secrets.h"

namespace bulwark::control {

namespace {

constexpr const char* kDictionary = "/etc/radcli/dictionary";

struct RadiusServer {
  config::Ipv4Address address;
  uint16_t port = 1812;
  std::string secret;
  uint32_t timeout = 3;
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
  const std::string where = fmt::format("{}:{}", server.address.str(), server.port);
  rc_handle* rh = rc_new();
  if (rh) rh = rc_config_init(rh);  // frees the handle itself on failure
  if (!rh) {
    detail = where + ": radcli could not be initialised";
    return RadiusAnswer::kNoAnswer;
  }
  const std::string timeout = std::to_string(server.timeout), nas_ip = nas.str();
  bool ok = rc_add_config(rh, "dictionary", kDictionary, "bulwark", 0) == 0 &&
            rc_add_config(rh, "radius_timeout", timeout.c_str(), "bulwark", 0) == 0 &&
            rc_add_config(rh, "radius_retries", "0", "bulwark", 0) == 0 &&  // one request per server
            (nas.value == 0 || rc_add_config(rh, "nas-ip", nas_ip.c_str(), "bulwark", 0) == 0) &&
            rc_apply_config(rh) == 0 && rc_read_dictionary(rh, kDictionary) == 0;
  VALUE_PAIR* send = nullptr;
  ok = ok && rc_avpair_add(rh, &send, PW_USER_NAME, user.c_str(), -1, 0) &&
       rc_avpair_add(rh, &send, PW_USER_PASSWORD, password.c_str(), -1, 0);
  RadiusAnswer answer = RadiusAnswer::kNoAnswer;
  if (!ok) {
    detail = where + ": the request could not be built";
  } else {
    // radcli looks the server's secret up in its own "authserver" list: fill that list directly.
    SERVER* list = rc_conf_srv(rh, "authserver");
    if (list && list->max == 0) {
      list->name[0] = strdup(server.address.str().c_str());
      list->port[0] = server.port;
      list->secret[0] = strdup(server.secret.c_str());
      list->max = 1;
    }
    VALUE_PAIR* received = nullptr;
    int rc = list && list->max == 1 && list->name[0] && list->secret[0]
                 ? rc_aaa_ctx_server(rh, nullptr, list, AUTH, 0, send, &received, nullptr, 0, PW_ACCESS_REQUEST)
                 : ERROR_RC;
    if (received) rc_avpair_free(received);
    if (list && list->secret[0]) OPENSSL_cleanse(list->secret[0], std::strlen(list->secret[0]));
    switch (rc) {
      case OK_RC: answer = RadiusAnswer::kAccept; detail = where + " accepted"; break;
      case REJECT_RC: answer = RadiusAnswer::kReject; detail = where + " rejected"; break;
      case TIMEOUT_RC: detail = where + " timed out"; break;
      case BADRESP_RC: detail = where + " sent an answer that does not verify"; break;
      case CHALLENGE_RC: detail = where + " sent an Access-Challenge (not supported)"; answer = RadiusAnswer::kReject; break;
      default: detail = where + " could not be reached"; break;
    }
  }
  if (send) rc_avpair_free(send);
  rc_destroy(rh);
  return answer;
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
    if (secret->empty() || secret->size() >= MAX_SECRET_LENGTH || secret->find('\0') != std::string::npos) {
      error = fmt::format("the RADIUS secret for {} ({}) must be 1 to {} bytes without NUL", r.address.str(),
                          r.secret.str(), MAX_SECRET_LENGTH - 1);
      return false;
    }
    state->servers.push_back({r.address, r.port, std::move(*secret), r.timeout});
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
