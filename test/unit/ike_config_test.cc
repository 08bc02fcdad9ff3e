// The translation of the IPsec configuration (manual chapters 10-14) into charon connections.
#include <catch2/catch.hpp>

#include <algorithm>

#include "config_test_util.h"
#include "control/ike/vici_client.h"
#include "control/ike/activation.h"
#include "control/ike/vici_config.h"

using namespace bulwark;
using control::ike::ViciItem;

namespace {

std::vector<std::string> values(const ViciItem& m, const std::string& path) {
  std::vector<std::string> out;
  for (const auto& [k, v] : m.fields) {
    if (k == path) out.push_back(v);
  }
  return out;
}

std::string value(const ViciItem& m, const std::string& path) {
  auto v = values(m, path);
  return v.empty() ? "<none>" : v.front();
}

std::vector<ViciItem> translate(const std::string& ipsec) {
  auto r = test::load_text(test::base_config(ipsec));
  INFO(test::all_messages(r));
  REQUIRE(r.tables);
  return control::ike::connection_messages(*r.tables);
}

}  // namespace

TEST_CASE("an IKEv2 PSK initiator with two tunnel entries", "[ike]") {
  auto conns = translate(
      "ipsec:\n"
      "  connections:\n"
      "    - name: VPN to Company network 2\n"
      "      remote_gateway: 10.1.0.102\n"
      "      authentication: {method: psk, psk: {env: PSK}, local_id: a.example.com, remote_id: b.example.com}\n"
      "      ike: {lifetime: 3h, rekey_margin: 9m, dpd: {delay: 20s, timeout: 60s}}\n"
      "      esp: {proposals: [aes256gcm16-ecp256], lifetime: 1h, rekey_margin: 9m, replay_window: 64}\n"
      "      tunnels:\n"
      "        - {type: tunnel, local: 192.168.1.0/24, remote: 192.168.2.0/24}\n"
      "        - {type: tunnel, local: 192.168.1.0/24, remote: 192.168.3.0/24}\n");
  REQUIRE(conns.size() == 1);
  const ViciItem& c = conns[0];
  CHECK(c.command == "load-conn");
  CHECK(c.name == "VPN to Company network 2");
  CHECK(value(c, "version") == "2");
  CHECK(value(c, "remote_addrs[]") == "10.1.0.102");
  CHECK(value(c, "proposals[]") == "aes256-sha256-modp2048");
  CHECK(value(c, "rekey_time") == "10260s");  // 3h - 9m
  CHECK(value(c, "over_time") == "540s");
  CHECK(value(c, "dpd_delay") == "20s");
  CHECK(value(c, "local.auth") == "psk");
  CHECK(value(c, "local.id") == "a.example.com");
  CHECK(value(c, "remote.id") == "b.example.com");
  const std::string first = "children.VPN to Company network 2.";
  const std::string second = "children.VPN to Company network 2-2.";
  CHECK(value(c, first + "mode") == "tunnel");
  CHECK(value(c, first + "local_ts[]") == "192.168.1.0/24");
  CHECK(value(c, first + "remote_ts[]") == "192.168.2.0/24");
  CHECK(value(c, second + "remote_ts[]") == "192.168.3.0/24");
  CHECK(value(c, first + "esp_proposals[]") == "aes256gcm16-ecp256");  // PFS: the group stays
  CHECK(value(c, first + "rekey_time") == "3060s");
  CHECK(value(c, first + "life_time") == "3600s");
  CHECK(value(c, first + "replay_window") == "64");
  CHECK(value(c, first + "start_action") == "start");
  CHECK(value(c, first + "dpd_action") == "restart");
  for (const auto& [k, v] : c.fields) CHECK(v.find("PSK") == std::string::npos);  // no secret in it
}

TEST_CASE("a responder waits; IKEv1 aggressive mode; no PFS; transport mode", "[ike]") {
  auto conns = translate(
      "ipsec:\n"
      "  connections:\n"
      "    - name: technicians\n"
      "      remote_gateway: '%any'\n"
      "      authentication: {method: psk, psk: {file: /etc/bulwark/psk}}\n"
      "      ike: {version: 1, mode: aggressive, dpd: false}\n"
      "      esp: {proposals: [aes128-sha256-modp2048, aes256gcm16-ecp384], pfs: false}\n"
      "      tunnels:\n"
      "        - {type: transport}\n");
  REQUIRE(conns.size() == 1);
  const ViciItem& c = conns[0];
  CHECK(value(c, "version") == "1");
  CHECK(value(c, "aggressive") == "yes");
  CHECK(value(c, "remote_addrs[]") == "%any");
  CHECK(values(c, "local_addrs[]") == std::vector<std::string>{"10.1.0.1"});  // any_interface's default: external
  CHECK(value(c, "dpd_delay") == "0s");
  CHECK(value(c, "children.technicians.mode") == "transport");
  CHECK(values(c, "children.technicians.local_ts[]").empty());
  CHECK(values(c, "children.technicians.esp_proposals[]") ==
        std::vector<std::string>{"aes128-sha256", "aes256gcm16"});
  CHECK(value(c, "children.technicians.start_action") == "none");
  CHECK(value(c, "children.technicians.dpd_action") == "clear");
}

TEST_CASE("DH groups are removed from ESP proposals without PFS", "[ike]") {
  using control::ike::without_dh_groups;
  CHECK(without_dh_groups({"aes128gcm16-modp2048", "aes256-sha384-ecp384", "aes128-sha1-curve25519-modp1024"}) ==
        std::vector<std::string>{"aes128gcm16", "aes256-sha384", "aes128-sha1"});
  CHECK(without_dh_groups({"aes128-sha256"}) == std::vector<std::string>{"aes128-sha256"});
}

TEST_CASE("VICI messages encode sections and lists, and decode back", "[ike]") {
  using control::ike::ViciFields;
  ViciFields fields{{"conn.version", "2"},
                    {"conn.remote_addrs[]", "10.1.0.102"},
                    {"conn.proposals[]", "aes256-sha256-modp2048"},
                    {"conn.proposals[]", "aes128-sha256-modp2048"},
                    {"conn.local.auth", "psk"},
                    {"conn.children.net.local_ts[]", "192.168.1.0/24"},
                    {"conn.children.net.mode", "tunnel"},
                    {"binary", std::string("\0\x01\xff", 3)}};
  std::string wire = control::ike::encode_vici_message(fields);
  CHECK(wire.substr(0, 6) == std::string("\x01\x04" "conn", 6));  // section start "conn"
  auto decoded = control::ike::decode_vici_message(wire);
  REQUIRE(decoded);
  CHECK(*decoded == fields);
  CHECK(control::ike::vici_value(*decoded, "conn.local.auth") == "psk");
  CHECK(control::ike::vici_value(*decoded, "missing", "fallback") == "fallback");
  // Truncated or garbage input is refused, not read past its end.
  for (size_t cut = 1; cut < wire.size(); ++cut) {
    auto partial = control::ike::decode_vici_message(wire.substr(0, cut));
    if (partial) CHECK(partial->size() <= fields.size());
  }
  CHECK_FALSE(control::ike::decode_vici_message(std::string("\x09garbage", 8)));
  CHECK_FALSE(control::ike::decode_vici_message(std::string("\x02", 1)));  // end without start
}

TEST_CASE("a %any connection answers only on the addresses of its any_interface", "[ike]") {
  auto conns = translate(
      "ipsec:\n"
      "  connections:\n"
      "    - name: service\n"
      "      remote_gateway: '%any'\n"
      "      any_interface: internal\n"
      "      authentication: {method: psk, psk: {env: PSK}}\n"
      "      tunnels: [{local: 192.168.1.0/24, remote: 10.9.0.0/16}]\n"
      "    - name: branch\n"
      "      remote_gateway: 10.1.0.2\n"
      "      authentication: {method: psk, psk: {env: PSK}}\n"
      "      tunnels: [{local: 192.168.1.0/24, remote: 192.168.2.0/24}]\n");
  REQUIRE(conns.size() == 2);
  CHECK(values(conns[0], "local_addrs[]") == std::vector<std::string>{"192.168.1.1"});
  CHECK(values(conns[1], "local_addrs[]").empty());  // a named peer: wherever the route leads
}

TEST_CASE("connections started at runtime: who started them and when the timeout stops them", "[ike]") {
  control::ike::Activation a;
  CHECK(a.started("service", "switch S1", 30, 1000));
  CHECK_FALSE(a.started("service", "switch S1", 30, 1005));  // the switch said on again: as is
  CHECK(a.is_started("service"));
  CHECK(a.describe("service", 1010).find("started by switch S1 at ") == 0);
  CHECK(a.describe("service", 1010).find(", stops in 20 s") != std::string::npos);
  CHECK(a.due(1029).empty());
  CHECK(a.due(1030) == std::vector<std::string>{"service"});
  CHECK_FALSE(a.is_started("service"));
  CHECK(a.due(2000).empty());

  CHECK(a.started("plain", "bulwark vpn up", 0, 1000));  // no timeout: never due
  CHECK(a.started("plain", "bulwark vpn up", 0, 1001));  // by hand: started again each time
  CHECK(a.due(99999).empty());
  CHECK(a.describe("plain", 5000).find("stops") == std::string::npos);
  a.stopped("plain");
  CHECK(a.describe("plain", 5000).empty());
}

TEST_CASE("a switch-controlled connection is loaded without starting", "[ike]") {
  auto r = test::load_text(test::base_config(
      "switches:\n  - {name: S1}\n"
      "ipsec:\n  connections:\n"
      "    - name: service\n      remote_gateway: 10.1.0.2\n      controlled_by: {switch: S1}\n"
      "      authentication: {method: psk, psk: {env: PSK}}\n"
      "      tunnels: [{local: 192.168.1.0/24, remote: 192.168.2.0/24}]\n"));
  INFO(test::all_messages(r));
  REQUIRE(r.tables);
  auto conns = control::ike::connection_messages(*r.tables);
  REQUIRE(conns.size() == 1);
  bool none = false;
  for (const auto& [path, v] : conns[0].fields) none |= path.find("start_action") != std::string::npos && v == "none";
  CHECK(none);
}
