// The user firewall's login portal (control/portal/): the rate limiter, local password checks,
// the certificate store, and the HTTPS server and portal over real TLS on loopback (an OpenSSL
// client in this file), with the real session manager behind it.
#include <arpa/inet.h>
#include <crypt.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <random>
#include <regex>
#include <thread>

#include "config_test_util.h"
#include "control/portal/authenticator.h"
#include "control/portal/certificate.h"
#include "control/portal/https_server.h"
#include "control/portal/portal.h"
#include "control/portal/rate_limiter.h"
#include "control/user_firewall/sessions.h"

namespace {

namespace fs = std::filesystem;
using bulwark::config::Ipv4Address;
using namespace bulwark::control;
using namespace std::chrono_literals;

struct TempDir {
  std::string path;
  TempDir() {
    char name[] = "/tmp/bulwark-portal-XXXXXX";
    path = mkdtemp(name);
  }
  ~TempDir() { fs::remove_all(path); }
};

Ipv4Address ip(const char* text) { return *Ipv4Address::parse(text); }

std::string hash_of(const std::string& password, const char* prefix = "$y$") {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  REQUIRE(crypt_gensalt_rn(prefix, 0, nullptr, 0, setting, sizeof setting));
  crypt_data data{};
  return crypt_rn(password.c_str(), setting, &data, sizeof data);
}

// One HTTPS exchange with 127.0.0.1:port: the raw response (status line, headers, body), or
// "TLS handshake failed". `max_version` 0 = whatever OpenSSL offers.
std::string https_exchange(uint16_t port, const std::string& request, int max_version = 0, int min_version = 0) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (min_version) {
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
    SSL_CTX_set_min_proto_version(ctx, min_version);
  }
  if (max_version) SSL_CTX_set_max_proto_version(ctx, max_version);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) == 1) {
      SSL_write(ssl, request.data(), static_cast<int>(request.size()));
      char buf[4096];
      int n;
      while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
      SSL_shutdown(ssl);
    } else {
      out = "TLS handshake failed";
    }
    SSL_free(ssl);
  } else {
    out = "connect failed";
  }
  close(fd);
  SSL_CTX_free(ctx);
  return out;
}

std::string get(uint16_t port, const std::string& path, const std::string& extra = "") {
  return https_exchange(port, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "Connection: close\r\n\r\n");
}

std::string post(uint16_t port, const std::string& path, const std::string& body, const std::string& extra = "") {
  return https_exchange(port, "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                        "Content-Type: application/x-www-form-urlencoded\r\n" + extra +
                        "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
}

int status_of(const std::string& response) {
  if (response.rfind("HTTP/1.1 ", 0) != 0) return 0;
  return std::atoi(response.c_str() + 9);
}

std::string body_of(const std::string& response) {
  size_t at = response.find("\r\n\r\n");
  return at == std::string::npos ? "" : response.substr(at + 4);
}

// The length of the first attribute `type` of a RADIUS packet, 0 when it has none.
size_t find_attribute(const unsigned char* p, size_t n, unsigned char type) {
  for (size_t at = 20; at + 2 <= n && p[at + 1] >= 2; at += p[at + 1]) {
    if (p[at] == type) return p[at + 1];
  }
  return 0;
}

}  // namespace

TEST_CASE("login rate limiter: per address, per user, sliding window, success clears the address") {
  LoginRateLimiter limiter({3, 5, 60s, 4096});
  auto t0 = LoginRateLimiter::Clock::now();
  for (int i = 0; i < 3; ++i) {
    REQUIRE(limiter.admit(ip("10.0.0.1"), "alice", t0));
    limiter.record_failure(ip("10.0.0.1"), "alice", t0);
  }
  CHECK_FALSE(limiter.admit(ip("10.0.0.1"), "bob", t0));   // the address is over its limit
  CHECK(limiter.admit(ip("10.0.0.2"), "alice", t0));       // alice: 3 of 5
  limiter.record_failure(ip("10.0.0.2"), "alice", t0);
  limiter.record_failure(ip("10.0.0.3"), "alice", t0);
  CHECK_FALSE(limiter.admit(ip("10.0.0.4"), "alice", t0));  // alice: 5 of 5, from anywhere
  CHECK(limiter.admit(ip("10.0.0.4"), "bob", t0));
  CHECK(limiter.admit(ip("10.0.0.1"), "bob", t0 + 61s));    // the window slid past
  limiter.record_failure(ip("10.0.0.9"), "carol", t0);
  limiter.record_failure(ip("10.0.0.9"), "carol", t0);
  limiter.record_success(ip("10.0.0.9"), t0);
  limiter.record_failure(ip("10.0.0.9"), "carol", t0);
  CHECK(limiter.admit(ip("10.0.0.9"), "carol", t0));         // one failure since the success
}

TEST_CASE("login rate limiter: memory stays bounded under many addresses") {
  LoginRateLimiter limiter({5, 10, 60s, 100});
  auto t0 = LoginRateLimiter::Clock::now();
  for (uint32_t i = 0; i < 10000; ++i) limiter.record_failure(Ipv4Address{0x0a000000 + i}, "u" + std::to_string(i), t0);
  CHECK(limiter.admit(ip("10.0.0.1"), "u1", t0));  // long forgotten
}

TEST_CASE("authenticator: local crypt(3) users, unknown users, hashes that cannot be used") {
  setenv("PORTAL_TEST_YESCRYPT", hash_of("Gryffindor!").c_str(), 1);
  setenv("PORTAL_TEST_SHA512", hash_of("s3cret", "$6$").c_str(), 1);
  setenv("PORTAL_TEST_BROKEN", "plaintext", 1);
  bulwark::config::UserFirewallTables uf;
  uf.enabled = true;
  using Auth = bulwark::config::FirewallUser::Auth;
  using Ref = bulwark::config::SecretRef;
  uf.users.push_back({"hpotter", Auth::kLocal, Ref{Ref::Kind::kEnv, "PORTAL_TEST_YESCRYPT"}});
  uf.users.push_back({"hgranger", Auth::kLocal, Ref{Ref::Kind::kEnv, "PORTAL_TEST_SHA512"}});
  Authenticator auth;
  std::string error;
  REQUIRE(auth.configure(uf, error));
  CHECK(auth.authenticate("hpotter", "Gryffindor!", {}).verdict == AuthVerdict::kAccepted);
  CHECK(auth.authenticate("hpotter", "gryffindor!", {}).verdict == AuthVerdict::kRejected);
  CHECK(auth.authenticate("hgranger", "s3cret", {}).verdict == AuthVerdict::kAccepted);
  CHECK(auth.authenticate("hgranger", "Gryffindor!", {}).verdict == AuthVerdict::kRejected);
  CHECK(auth.authenticate("voldemort", "Gryffindor!", {}).verdict == AuthVerdict::kRejected);
  CHECK(auth.authenticate("hpotter", "", {}).verdict == AuthVerdict::kRejected);

  uf.users.push_back({"broken", Auth::kLocal, Ref{Ref::Kind::kEnv, "PORTAL_TEST_BROKEN"}});
  CHECK_FALSE(auth.configure(uf, error));
  CHECK(error.find("broken") != std::string::npos);
  CHECK(error.find("plaintext") == std::string::npos);  // the hash itself is not repeated
  CHECK(auth.authenticate("hpotter", "Gryffindor!", {}).verdict == AuthVerdict::kAccepted);  // unchanged
}

TEST_CASE("authenticator: a RADIUS server that does not answer is 'unavailable', not 'rejected'") {
  int silent = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(silent, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  socklen_t len = sizeof sa;
  getsockname(silent, reinterpret_cast<sockaddr*>(&sa), &len);
  setenv("PORTAL_TEST_RADIUS_SECRET", "a secret, with: odd characters", 1);
  bulwark::config::UserFirewallTables uf;
  uf.enabled = true;
  using Ref = bulwark::config::SecretRef;
  uf.users.push_back({"pwerner", bulwark::config::FirewallUser::Auth::kRadius, std::nullopt});
  uf.radius_servers.push_back({ip("127.0.0.1"), ntohs(sa.sin_port), Ref{Ref::Kind::kEnv, "PORTAL_TEST_RADIUS_SECRET"}, 1});
  Authenticator auth;
  std::string error;
  REQUIRE(auth.configure(uf, error));
  AuthResult r = auth.authenticate("pwerner", "pw", ip("127.0.0.1"));
  INFO(r.detail);
  CHECK(r.verdict == AuthVerdict::kServersUnavailable);
  CHECK(r.method == AuthMethod::kRadius);
  CHECK(r.detail.find("timed out") != std::string::npos);
  CHECK(r.detail.find("secret") == std::string::npos);
  unsigned char packet[4096];
  ssize_t n = recv(silent, packet, sizeof packet, MSG_DONTWAIT);
  REQUIRE(n > 20);  // an Access-Request did arrive
  CHECK(packet[0] == 1);
  CHECK(find_attribute(packet, static_cast<size_t>(n), 80) == 18);  // with a Message-Authenticator
  CHECK(find_attribute(packet, static_cast<size_t>(n), 2) == 18);   // User-Password, hidden in 16 bytes
  close(silent);
}

namespace {

// A RADIUS server on loopback that answers one request with `code`, with or without a
// Message-Authenticator, signing with `secret` (RFC 2865 3, RFC 3579 3.2).
struct FakeRadius {
  int fd = -1;
  uint16_t port = 0;
  std::thread thread;
  FakeRadius(uint8_t code, bool with_ma, std::string secret) {
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    socklen_t len = sizeof sa;
    getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
    port = ntohs(sa.sin_port);
    thread = std::thread([this, code, with_ma, secret] {
      unsigned char req[4096];
      sockaddr_in from{};
      socklen_t flen = sizeof from;
      timeval tv{5, 0};
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      if (recvfrom(fd, req, sizeof req, 0, reinterpret_cast<sockaddr*>(&from), &flen) < 20) return;
      std::vector<unsigned char> reply = {code, req[1], 0, 0};
      reply.insert(reply.end(), req + 4, req + 20);  // the Request Authenticator, for now
      if (with_ma) {
        reply.push_back(80);
        reply.push_back(18);
        reply.insert(reply.end(), 16, 0);
      }
      reply[2] = static_cast<unsigned char>(reply.size() >> 8);
      reply[3] = static_cast<unsigned char>(reply.size());
      if (with_ma) {
        unsigned int l = 16;
        HMAC(EVP_md5(), secret.data(), static_cast<int>(secret.size()), reply.data(), reply.size(), reply.data() + 22, &l);
      }
      std::vector<unsigned char> sum(reply);
      sum.insert(sum.end(), secret.begin(), secret.end());
      unsigned int digest_length = 16;
      EVP_Digest(sum.data(), sum.size(), reply.data() + 4, &digest_length, EVP_md5(), nullptr);
      sendto(fd, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), flen);
    });
  }
  ~FakeRadius() {
    thread.join();
    close(fd);
  }
};

AuthResult radius_login(uint16_t port, const char* secret_env, bool require_ma = true) {
  bulwark::config::UserFirewallTables uf;
  uf.enabled = true;
  using Ref = bulwark::config::SecretRef;
  uf.users.push_back({"pwerner", bulwark::config::FirewallUser::Auth::kRadius, std::nullopt});
  uf.radius_servers.push_back({ip("127.0.0.1"), port, Ref{Ref::Kind::kEnv, secret_env}, 2, require_ma});
  Authenticator auth;
  std::string error;
  REQUIRE(auth.configure(uf, error));
  return auth.authenticate("pwerner", "Radius-pass 9", ip("127.0.0.1"));
}

}  // namespace

TEST_CASE("authenticator: a RADIUS answer counts only when it verifies, Message-Authenticator included") {
  setenv("PORTAL_TEST_SECRET", "s3cret", 1);
  {
    FakeRadius server(2, true, "s3cret");  // Access-Accept, signed
    AuthResult r = radius_login(server.port, "PORTAL_TEST_SECRET");
    INFO(r.detail);
    CHECK(r.verdict == AuthVerdict::kAccepted);
  }
  {
    FakeRadius server(3, true, "s3cret");  // Access-Reject, signed
    CHECK(radius_login(server.port, "PORTAL_TEST_SECRET").verdict == AuthVerdict::kRejected);
  }
  {
    FakeRadius server(2, false, "s3cret");  // an Accept without Message-Authenticator (BlastRADIUS)
    AuthResult r = radius_login(server.port, "PORTAL_TEST_SECRET");
    CHECK(r.verdict == AuthVerdict::kServersUnavailable);
    CHECK(r.detail.find("Message-Authenticator") != std::string::npos);
  }
  {
    FakeRadius server(2, false, "s3cret");  // the same where the server may omit it
    CHECK(radius_login(server.port, "PORTAL_TEST_SECRET", false).verdict == AuthVerdict::kAccepted);
  }
  {
    FakeRadius server(2, true, "another secret");  // signed with the wrong secret
    AuthResult r = radius_login(server.port, "PORTAL_TEST_SECRET");
    CHECK(r.verdict == AuthVerdict::kServersUnavailable);
    CHECK(r.detail.find("does not verify") != std::string::npos);
  }
}

TEST_CASE("certificate: a self-signed one is generated once, kept 0600, and reloaded") {
  TempDir dir;
  bulwark::config::ManagementTables https;
  std::string error;
  auto first = load_server_credentials(https, dir.path, error);
  INFO(error);
  REQUIRE(first);
  CHECK(first->self_signed_generated);
  CHECK(std::regex_match(first->fingerprint_sha256, std::regex("([0-9A-F]{2}:){31}[0-9A-F]{2}")));
  struct stat st{};
  REQUIRE(stat((dir.path + "/https/key.pem").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto second = load_server_credentials(https, dir.path, error);
  REQUIRE(second);
  CHECK(second->fingerprint_sha256 == first->fingerprint_sha256);

  SECTION("a configured certificate with a key that is not its own is refused") {
    TempDir other;
    auto foreign = load_server_credentials(https, other.path, error);
    REQUIRE(foreign);
    https.certificate = dir.path + "/https/certificate.pem";
    https.private_key = bulwark::config::SecretRef{bulwark::config::SecretRef::Kind::kFile, other.path + "/https/key.pem"};
    CHECK_FALSE(load_server_credentials(https, dir.path, error));
    CHECK(error.find("does not belong") != std::string::npos);
    https.private_key->name = dir.path + "/https/key.pem";
    auto configured = load_server_credentials(https, other.path, error);
    REQUIRE(configured);
    CHECK_FALSE(configured->self_signed_generated);
    CHECK(configured->fingerprint_sha256 == first->fingerprint_sha256);
  }
}

TEST_CASE("https server: TLS 1.2+, forms, limits, and a handler that throws") {
  TempDir dir;
  std::string error;
  auto credentials = load_server_credentials({}, dir.path, error);
  REQUIRE(credentials);
  HttpsServerOptions options;
  options.listeners.push_back({ip("127.0.0.1"), 0});
  options.certificate_pem = credentials->certificate_pem;
  options.private_key_pem = credentials->private_key_pem;
  options.max_body_bytes = 1024;
  auto server = HttpsServer::start(options, [](const HttpRequest& r) {
    if (r.path == "/throw") throw std::runtime_error("boom");
    HttpResponse answer;
    answer.content_type = "text/plain";
    answer.body = r.method + " " + r.path + " peer=" + r.peer.str() + " local=" + r.local.str();
    for (const auto& [k, v] : r.form) answer.body += " form:" + k + "=" + v;
    for (const auto& [k, v] : r.query) answer.body += " query:" + k + "=" + v;
    answer.body += " host=" + (r.headers.count("host") ? r.headers.at("host") : std::string("-"));
    return answer;
  }, error);
  INFO(error);
  REQUIRE(server);
  const uint16_t port = server->listeners().at(0).port;
  REQUIRE(port != 0);

  std::string r = get(port, "/a?x=1&y=%41");
  CHECK(status_of(r) == 200);
  CHECK(body_of(r) == "GET /a peer=127.0.0.1 local=127.0.0.1 query:x=1 query:y=A host=127.0.0.1");
  r = post(port, "/login", "username=h%C3%A4rry&password=a+b%26c");
  CHECK(status_of(r) == 200);
  CHECK(body_of(r).find("form:password=a b&c form:username=h\xc3\xa4rry") != std::string::npos);
  CHECK(status_of(post(port, "/login", std::string(2000, 'a'))) == 413);
  CHECK(status_of(get(port, "/throw")) == 500);
  CHECK(https_exchange(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", TLS1_1_VERSION, TLS1_VERSION) ==
        "TLS handshake failed");
  CHECK(status_of(https_exchange(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", TLS1_2_VERSION)) == 200);

  SECTION("a second server cannot take the same address and port") {
    HttpsServerOptions again = options;
    again.listeners[0].port = port;
    CHECK_FALSE(HttpsServer::start(again, [](const HttpRequest&) { return HttpResponse{}; }, error));
    CHECK(error.find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
  }
}

namespace {

struct RecordingDataplane {
  std::vector<bulwark::config::UserGrants> pushed;
  std::vector<std::string> log;
  std::mutex mutex;
  UserSessions::Backend backend() {
    UserSessions::Backend b;
    b.push = [this](const bulwark::config::UserGrants& g, std::string&) {
      std::lock_guard<std::mutex> lock(mutex);
      pushed.push_back(g);
      return true;
    };
    b.activity = []() { return std::optional<std::vector<bulwark::config::SessionActivity>>(std::vector<bulwark::config::SessionActivity>{}); };
    b.log = [this](const std::string& line) {
      std::lock_guard<std::mutex> lock(mutex);
      log.push_back(line);
    };
    return b;
  }
};

}  // namespace

// Chapter 9's user firewall with hpotter (password "Gryffindor!") and one template, its portal
// moved to loopback on a free port instead of the internal address and 443.
bulwark::config::Tables loopback_portal_tables() {
  setenv("PORTAL_TEST_HP", hash_of("Gryffindor!", "$6$").c_str(), 1);
  auto loaded = bulwark::test::load_text(bulwark::test::base_config(R"(
user_firewall:
  enabled: true
  login_interfaces: [internal]
  users:
    - {name: hpotter, authentication: local, password_hash: {env: PORTAL_TEST_HP}}
  templates:
    - {name: web, timeout: 1h, users: [hpotter], rules: [{protocol: tcp, to: 0.0.0.0/0, to_port: http}]}
)"));
  INFO(bulwark::test::all_messages(loaded));
  REQUIRE(loaded.tables);
  bulwark::config::Tables tables = *loaded.tables;
  for (auto& i : tables.interfaces) {
    if (i.name == "internal") i.addresses.at(0).prefix.address = ip("127.0.0.1");
  }
  tables.management.https_port = 0;
  return tables;
}

TEST_CASE("portal over HTTPS: form, login, identical failures, rate limit, cross-site, logout, status") {
  bulwark::config::Tables tables = loopback_portal_tables();

  TempDir dir;
  RecordingDataplane dataplane;
  UserSessions sessions(dataplane.backend());
  sessions.configure(tables);
  std::vector<std::string> log;
  std::mutex log_mutex;
  Portal portal(sessions.hooks(), dir.path, [&](const std::string& line) {
    std::lock_guard<std::mutex> lock(log_mutex);
    log.push_back(line);
  });
  std::string error;
  REQUIRE(portal.apply(tables, "", error));
  std::smatch m;
  std::string status = portal.status(false);
  REQUIRE(std::regex_search(status, m, std::regex("127\\.0\\.0\\.1:([0-9]+)")));
  const auto port = static_cast<uint16_t>(std::stoi(m[1]));
  CHECK(std::regex_search(status, std::regex("SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}")));
  CHECK(portal.status(true).find("\"self_signed\": true") != std::string::npos);

  std::string form = get(port, "/");
  CHECK(status_of(form) == 200);
  CHECK(body_of(form).find("action=\"/login\"") != std::string::npos);
  CHECK(form.find("Content-Security-Policy") != std::string::npos);

  std::string wrong = post(port, "/login", "username=hpotter&password=nope&access=user_firewall");
  std::string unknown = post(port, "/login", "username=voldemort&password=nope&access=user_firewall");
  CHECK(status_of(wrong) == 401);
  CHECK(body_of(wrong) == body_of(unknown));
  CHECK(status_of(post(port, "/login", "username=hpotter&password=Gryffindor!",
                       "Origin: https://evil.example\r\n")) == 403);
  CHECK(sessions.list(false).find("hpotter") == std::string::npos);

  std::string ok = post(port, "/login", "username=hpotter&password=Gryffindor%21&access=user_firewall");
  CHECK(status_of(ok) == 200);
  CHECK(body_of(ok).find("web") != std::string::npos);
  CHECK(sessions.list(false).find("hpotter") != std::string::npos);
  CHECK(status_of(get(port, "/")) == 200);
  CHECK(body_of(get(port, "/")).find("/logout") != std::string::npos);  // the session page

  CHECK(status_of(post(port, "/logout", "")) == 200);
  CHECK(sessions.list(false).find("hpotter") == std::string::npos);

  int last = 0;
  for (int i = 0; i < 6; ++i) last = status_of(post(port, "/login", "username=hpotter&password=guess" + std::to_string(i)));
  CHECK(last == 429);
  CHECK(status_of(post(port, "/login", "username=hpotter&password=Gryffindor%21")) == 429);  // even the right one

  CHECK(status_of(get(port, "/nothing")) == 404);
  CHECK(status_of(https_exchange(port, "DELETE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) == 405);

  std::lock_guard<std::mutex> lock(log_mutex);
  std::string all;
  for (const auto& l : log) all += l + "\n";
  CHECK(all.find("Gryffindor") == std::string::npos);
  CHECK(all.find("nope") == std::string::npos);
  CHECK(all.find("too many failed logins") != std::string::npos);
}

TEST_CASE("portal: random requests get a well-formed answer, never a crash", "[robustness]") {
  bulwark::config::Tables tables = loopback_portal_tables();
  TempDir dir;
  RecordingDataplane dataplane;
  UserSessions sessions(dataplane.backend());
  sessions.configure(tables);
  Portal portal(sessions.hooks(), dir.path, [](const std::string&) {});
  std::string error;
  REQUIRE(portal.apply(tables, "", error));

  std::mt19937 random(2026);
  auto junk = [&](size_t max) {
    std::string s(random() % (max + 1), '\0');
    for (auto& c : s) c = static_cast<char>(random() % 4 == 0 ? "\0\r\n%&=<>\"'"[random() % 10] : random() % 256);
    return s;
  };
  const std::vector<std::string> methods = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "", "G\0T"};
  const std::vector<std::string> paths = {"/", "/login", "/logout", "/x", "//", "/login/", "/../etc/passwd", ""};
  const std::vector<int> allowed = {200, 400, 401, 403, 404, 405, 429, 503};
  for (int n = 0; n < 400; ++n) {
    HttpRequest r;
    r.method = methods[random() % methods.size()];
    r.path = random() % 4 ? paths[random() % paths.size()] : junk(64);
    r.peer = Ipv4Address{0x7f000000u + static_cast<uint32_t>(random() % 50)};
    r.local = ip("127.0.0.1");
    if (random() % 2) r.headers["accept"] = random() % 2 ? "text/plain" : junk(40);
    if (random() % 3 == 0) r.headers["origin"] = random() % 2 ? "https://127.0.0.1" : junk(40);
    r.headers["host"] = "127.0.0.1";
    if (random() % 2) r.form["username"] = random() % 3 ? "hpotter" : junk(300);
    if (random() % 2) r.form["password"] = random() % 5 ? junk(40) : "Gryffindor!";
    if (random() % 3 == 0) r.form["access"] = random() % 2 ? "user_firewall" : junk(20);
    if (random() % 4 == 0) r.form[junk(10)] = junk(100);
    HttpResponse answer = portal.handle(r);
    INFO(n << ": " << r.method << " " << r.path << " -> " << answer.status);
    CHECK(std::find(allowed.begin(), allowed.end(), answer.status) != allowed.end());
    CHECK_FALSE(answer.body.empty());
    CHECK_FALSE(answer.content_type.empty());
  }
}
