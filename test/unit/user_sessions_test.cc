// The user firewall's session manager (control/user_firewall/sessions.h) against a recording
// dataplane: which grants each login, logout, expiry and reconfiguration sends.
#include <catch2/catch.hpp>

#include <thread>

#include "config_test_util.h"
#include "control/user_firewall/sessions.h"

namespace {

using bulwark::config::Ipv4Address;
using bulwark::config::Role;
using bulwark::config::SessionActivity;
using bulwark::config::UserGrants;
using bulwark::control::AuthMethod;
using bulwark::control::LoginRequest;
using bulwark::control::UserSessions;

const char* kUserFirewall = R"(
user_firewall:
  enabled: true
  login_interfaces: [internal, external]
  users:
    - {name: hpotter, authentication: local, password_hash: {env: HP_HASH}}
    - {name: pwerner, authentication: local, password_hash: {env: PW_HASH}}
  templates:
    - name: web
      timeout: TIMEOUT_WEB
      timeout_type: TYPE_WEB
      users: [hpotter, pwerner]
      rules:
        - {protocol: tcp, to: 0.0.0.0/0, to_port: http}
    - name: technician
      timeout: 1h
      users: [USERS_TECH]
      source_ip: 192.168.1.77
      rules:
        - {protocol: tcp, to: 0.0.0.0/0, to_port: ssh}
)";

bulwark::config::Tables tables(const std::string& web_timeout = "1h", const std::string& web_type = "static",
                               const std::string& technician_users = "hpotter") {
  std::string text = kUserFirewall;
  auto replace = [&](const std::string& what, const std::string& with) { text.replace(text.find(what), what.size(), with); };
  replace("TIMEOUT_WEB", web_timeout);
  replace("TYPE_WEB", web_type);
  replace("USERS_TECH", technician_users);
  auto loaded = bulwark::test::load_text(bulwark::test::base_config(text));
  INFO(bulwark::test::all_messages(loaded));
  REQUIRE(loaded.tables);
  return *loaded.tables;
}

struct Dataplane {
  std::vector<UserGrants> pushed;
  std::vector<SessionActivity> activity;
  std::vector<std::string> log;
  bool refuse = false;

  UserSessions::Backend backend() {
    UserSessions::Backend b;
    b.push = [this](const UserGrants& g, std::string& error) {
      if (refuse) {
        error = "refused";
        return false;
      }
      pushed.push_back(g);
      return true;
    };
    b.activity = [this]() { return std::optional<std::vector<SessionActivity>>(activity); };
    b.log = [this](const std::string& line) { log.push_back(line); };
    return b;
  }
};

LoginRequest request(const std::string& user, const char* address, const std::string& interface = "internal") {
  return {user, *Ipv4Address::parse(address), interface, AuthMethod::kLocal};
}

}  // namespace

TEST_CASE("a login grants the user's templates from the login address, in the login interface's role") {
  Dataplane dp;
  UserSessions sessions(dp.backend());
  sessions.configure(tables());
  REQUIRE(dp.pushed.size() == 1);
  CHECK(dp.pushed.back().grants.empty());

  auto out = sessions.login(request("hpotter", "192.168.1.10"));
  REQUIRE(out.ok);
  REQUIRE(out.session.templates.size() == 2);
  CHECK(out.session.templates[0].name == "web");
  CHECK(out.session.templates[1].source == *Ipv4Address::parse("192.168.1.77"));  // the template's fixed address
  const UserGrants g = dp.pushed.back();
  REQUIRE(g.grants.size() == 2);
  CHECK(g.grants[0].source == *Ipv4Address::parse("192.168.1.10"));
  CHECK(g.grants[0].login_role == Role::kInternal);
  CHECK(g.grants[0].template_name == "web");
  CHECK(g.grants[1].source == *Ipv4Address::parse("192.168.1.77"));
  CHECK(g.serial > dp.pushed.front().serial);

  // From the external interface the same templates become incoming rules.
  REQUIRE(sessions.login(request("pwerner", "10.1.0.50", "external")).ok);
  CHECK(dp.pushed.back().grants.back().login_role == Role::kExternal);
  CHECK(dp.pushed.back().grants.back().session != g.grants[0].session);
  CHECK(sessions.count() == 2);
  CHECK(sessions.list(true).find("\"user\": \"pwerner\"") != std::string::npos);
}

TEST_CASE("logging in again renews the session; logout ends it; the dataplane's refusal fails the login") {
  Dataplane dp;
  UserSessions sessions(dp.backend());
  sessions.configure(tables());
  uint32_t id = sessions.login(request("hpotter", "192.168.1.10")).session.session;
  CHECK(sessions.login(request("hpotter", "192.168.1.10")).session.session == id);
  CHECK(sessions.count() == 1);
  CHECK(sessions.session_of(*Ipv4Address::parse("192.168.1.10")).has_value());
  CHECK_FALSE(sessions.session_of(*Ipv4Address::parse("192.168.1.11")).has_value());

  CHECK(sessions.logout("192.168.1.10", "test") == 1);
  CHECK(dp.pushed.back().grants.empty());
  CHECK(sessions.logout("hpotter", "test") == 0);

  dp.refuse = true;
  auto out = sessions.login(request("hpotter", "192.168.1.10"));
  CHECK_FALSE(out.ok);
  CHECK(sessions.count() == 0);
  CHECK_FALSE(sessions.login(request("nobody-in-a-template", "192.168.1.10")).ok);
  CHECK_FALSE(sessions.login(request("hpotter", "192.168.1.10", "no-such-interface")).ok);
}

TEST_CASE("templates expire: static from the login, dynamic from the last reported activity") {
  Dataplane dp;
  UserSessions sessions(dp.backend());
  sessions.configure(tables("1s", "dynamic", "pwerner"));
  REQUIRE(sessions.login(request("hpotter", "192.168.1.10")).ok);
  uint32_t id = dp.pushed.back().grants.at(0).session;
  // Traffic half a second ago keeps the dynamic template alive past its timeout from the login.
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  dp.activity = {{id, 0, 1}};
  sessions.tick();
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  dp.activity = {{id, bulwark::config::kNeverActive, 1}};
  sessions.tick();
  CHECK(sessions.count() == 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  sessions.tick();
  CHECK(sessions.count() == 0);
  CHECK(dp.pushed.back().grants.empty());
  bool logged = false;
  for (const auto& line : dp.log) logged |= line.find("expired") != std::string::npos;
  CHECK(logged);
}

TEST_CASE("reconfiguration takes removed templates away at once and adds new ones only at the next login") {
  Dataplane dp;
  UserSessions sessions(dp.backend());
  sessions.configure(tables());
  REQUIRE(sessions.login(request("hpotter", "192.168.1.10")).ok);
  REQUIRE(sessions.login(request("pwerner", "192.168.1.20")).ok);
  CHECK(dp.pushed.back().grants.size() == 3);  // hpotter: web, technician; pwerner: web

  // The technician template now lists pwerner instead of hpotter.
  sessions.configure(tables("1h", "static", "pwerner"));
  const UserGrants g = dp.pushed.back();
  REQUIRE(g.grants.size() == 2);
  for (const auto& grant : g.grants) CHECK(grant.template_name == "web");
  // pwerner gets it with the next login.
  REQUIRE(sessions.login(request("pwerner", "192.168.1.20")).ok);
  CHECK(dp.pushed.back().grants.size() == 3);
}
