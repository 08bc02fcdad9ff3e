// A DHCP-assigned external address (config/dhcp_lease.h, control/dhcp/dhcp_client.h): what the
// configuration is before the first lease and with one, the leases file, the client's events.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>

#include "config/config.h"
#include "config_test_util.h"
#include "control/dhcp/dhcp_client.h"
#include "control/ike/vici_config.h"
#include "nat/rules.h"

using namespace bulwark;
using test::all_messages;

namespace {

const std::string kDhcpBox =
    "version: 1\n"
    "system: {hostname: branch}\n"
    "interfaces:\n"
    "  - {name: internal, role: internal, port: net_null0, addresses: [192.168.1.1/24]}\n"
    "  - name: external\n"
    "    role: external\n"
    "    port: net_null1\n"
    "    dhcp: true\n"
    "nat:\n"
    "  masquerade: [{interface: external}]\n"
    "  port_forwarding:\n"
    "    - {protocol: tcp, incoming_port: 8080, redirect_ip: 192.168.1.20, redirect_port: 80}\n"
    "ipsec:\n"
    "  connections:\n"
    "    - name: roadwarriors\n"
    "      remote_gateway: '%any'\n"
    "      authentication: {method: psk, psk: {env: PSK}}\n"
    "      tunnels: [{local: 192.168.1.0/24, remote: 10.9.0.0/16}]\n";

config::DhcpLease lease(const char* address, const char* router) {
  config::DhcpLease l;
  l.interface = "external";
  l.address = *config::Ipv4Prefix::parse(address);
  if (router) l.router = *config::Ipv4Address::parse(router);
  l.server = *config::Ipv4Address::parse("198.51.100.1");
  l.lease_seconds = 600;
  return l;
}

config::LoadResult load_with(const std::vector<config::DhcpLease>& leases, const std::string& yaml = kDhcpBox) {
  return config::load({{"t.yaml", yaml}}, 1, leases);
}

std::vector<std::string> local_addrs(const config::Tables& t) {
  std::vector<std::string> out;
  for (const auto& conn : control::ike::connection_messages(t)) {
    for (const auto& [path, value] : conn.fields) {
      if (path == "local_addrs[]") out.push_back(value);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("before its first lease a dhcp uplink has no address, and nothing uses one", "[dhcp]") {
  auto r = load_with({});
  INFO(all_messages(r));
  REQUIRE(r.tables);
  const auto& t = *r.tables;
  CHECK(t.interfaces[1].dhcp);
  CHECK(t.interfaces[1].addresses.empty());
  CHECK_FALSE(t.extern_address);
  for (const auto& route : t.routes) CHECK(route.kind == config::RouteKind::kConnected);
  // Masquerading and the %extern forwarding wait: the NAT rules translate nothing to 0.0.0.0.
  nat::Rules rules(t.nat);
  conntrack::FlowKey to_nowhere{};
  to_nowhere.src = config::Ipv4Address::parse("203.0.113.9")->value;
  to_nowhere.dst = 0;
  to_nowhere.protocol = config::kProtoTcp;
  to_nowhere.src_port = 40000;
  to_nowhere.dst_port = 8080;
  CHECK_FALSE(rules.destination(to_nowhere));
  CHECK_FALSE(rules.has_masquerading());
  CHECK(local_addrs(t).empty());
}

TEST_CASE("a lease is the uplink's address: %extern, masquerading, forwarding, routes and IKE follow it",
          "[dhcp]") {
  for (const char* address : {"198.51.100.50/24", "203.0.113.7/28"}) {
    const std::string ip = std::string(address).substr(0, std::string(address).find('/'));
    const std::string router = std::string(address)[0] == '1' ? "198.51.100.1" : "203.0.113.1";
    auto r = load_with({lease(address, router.c_str())});
    INFO(address << "\n" << all_messages(r));
    REQUIRE(r.tables);
    const auto& t = *r.tables;
    REQUIRE(t.interfaces[1].addresses.size() == 1);
    CHECK(t.interfaces[1].addresses[0].prefix.str() == address);
    REQUIRE(t.extern_address);
    CHECK(t.extern_address->str() == ip);
    REQUIRE(t.nat.masquerade.size() == 1);
    CHECK(t.nat.masquerade[0].address.str() == ip);
    REQUIRE(t.nat.port_forwarding.size() == 1);
    CHECK(t.nat.port_forwarding[0].incoming_ip.str() == ip);
    CHECK(t.nat.port_forwarding[0].interface == 1);
    bool default_route = false;
    for (const auto& route : t.routes) {
      if (route.kind != config::RouteKind::kDefault) continue;
      default_route = route.gateway.str() == router && route.interface == 1;
      CHECK(route.source.position == "t.yaml:8:11");  // the dhcp key
    }
    CHECK(default_route);
    CHECK(local_addrs(t) == std::vector<std::string>{ip});
  }
}

TEST_CASE("a lease without router gives no default route; leases of other interfaces are ignored", "[dhcp]") {
  auto other = lease("10.7.0.5/24", "10.7.0.1");
  other.interface = "internal";
  auto r = load_with({lease("198.51.100.50/24", nullptr), other});
  INFO(all_messages(r));
  REQUIRE(r.tables);
  for (const auto& route : r.tables->routes) CHECK(route.kind == config::RouteKind::kConnected);
  CHECK(r.tables->interfaces[0].addresses.at(0).prefix.str() == "192.168.1.1/24");
}

TEST_CASE("a lease that contradicts the configuration is refused, pointing at the dhcp key", "[dhcp]") {
  auto r = load_with({lease("192.168.1.77/16", "192.168.0.1")});  // overlaps the internal network
  CHECK_FALSE(r.tables);
  CHECK(test::has_diagnostic(r, config::Severity::kError, "overlaps", 8, 11));
}

TEST_CASE("dhcp is refused where it cannot act", "[dhcp]") {
  auto r = config::load({{"t.yaml",
                          "version: 1\n"
                          "interfaces:\n"
                          "  - {name: internal, role: internal, port: net_null0, dhcp: true}\n"
                          "  - {name: external, role: external, port: net_null1, dhcp: true, addresses: [10.0.0.2/24],\n"
                          "     routes: [{network: 10.9.0.0/16, gateway: 10.0.0.9}]}\n"
                          "default_gateway: 10.0.0.1\n"}});
  CHECK_FALSE(r.tables);
  INFO(all_messages(r));
  CHECK(test::has_diagnostic(r, config::Severity::kError, "only an external interface", 3, 61));
  CHECK(test::has_diagnostic(r, config::Severity::kError, "gets its address from the DHCP server", 4, 78));
  CHECK(test::has_diagnostic(r, config::Severity::kError, "additional routes through an interface with dhcp", 5, 14));
  CHECK(test::has_diagnostic(r, config::Severity::kError, "default gateway is the router of the DHCP lease", 6, 18));
}

TEST_CASE("the leases file reads back what was written; a broken one is an error", "[dhcp]") {
  auto a = lease("198.51.100.50/24", "198.51.100.1");
  a.dns = {*config::Ipv4Address::parse("198.51.100.53"), *config::Ipv4Address::parse("9.9.9.9")};
  auto b = lease("203.0.113.7/28", nullptr);
  b.interface = "uplink2";
  std::string error;
  auto back = config::decode_leases(config::encode_leases({a, b}), error);
  REQUIRE(back);
  CHECK(*back == std::vector<config::DhcpLease>{a, b});

  const auto dir = std::filesystem::temp_directory_path() / ("bulwark-dhcp-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "leases").string();
  auto none = config::read_leases_file(path, error);
  REQUIRE(none);
  CHECK(none->empty());
  REQUIRE(config::write_leases_file(path, {a}, error));
  auto read = config::read_leases_file(path, error);
  REQUIRE(read);
  CHECK(*read == std::vector<config::DhcpLease>{a});
  std::filesystem::remove_all(dir);

  for (const char* broken : {"external\t198.51.100.50/24\n", "external\tnot-an-address\t-\t1.2.3.4\t60\t-\n",
                             "external\t198.51.100.50/24\t-\t1.2.3.4\t-5\t-\n",
                             "external\t198.51.100.50/24\t-\t1.2.3.4\t60\t1.2.3\n"}) {
    INFO(broken);
    CHECK_FALSE(config::decode_leases(broken, error));
  }
}

TEST_CASE("udhcpc's events become leases; nonsense from a server does not", "[dhcp]") {
  std::string problem;
  auto bound = control::parse_dhcp_event(
      "external", "bulwark-dhcp\tbound\t198.51.100.50\t255.255.255.0\t198.51.100.1 198.51.100.2\t600\t198.51.100.1\t9.9.9.9",
      problem);
  REQUIRE(bound);
  REQUIRE(bound->lease);
  CHECK(problem.empty());
  CHECK(bound->lease->address.str() == "198.51.100.50/24");
  CHECK(bound->lease->router->str() == "198.51.100.1");
  CHECK(bound->lease->lease_seconds == 600);
  CHECK(bound->lease->server.str() == "198.51.100.1");
  CHECK(bound->lease->dns.size() == 1);

  // udhcpc's own messages are no events.
  CHECK_FALSE(control::parse_dhcp_event("external", "udhcpc: sending discover", problem));
  auto deconfig = control::parse_dhcp_event("external", "bulwark-dhcp\tdeconfig\t\t\t\t\t\t", problem);
  REQUIRE(deconfig);
  CHECK(deconfig->event == "deconfig");
  CHECK_FALSE(deconfig->lease);

  // A router off the leased network gives no default route, with a warning.
  problem.clear();
  auto far = control::parse_dhcp_event(
      "external", "bulwark-dhcp\trenew\t198.51.100.50\t255.255.255.0\t10.0.0.1\t600\t198.51.100.1\t", problem);
  REQUIRE(far);
  REQUIRE(far->lease);
  CHECK_FALSE(far->lease->router);
  CHECK_FALSE(problem.empty());

  for (const char* bad : {"bulwark-dhcp\tbound\t0.0.0.0\t255.255.255.0\t\t600\t1.2.3.4\t",
                          "bulwark-dhcp\tbound\t224.0.0.5\t255.255.255.0\t\t600\t1.2.3.4\t",
                          "bulwark-dhcp\tbound\t198.51.100.50\t255.0.255.0\t\t600\t1.2.3.4\t",
                          "bulwark-dhcp\tbound\t198.51.100.50\t0.0.0.0\t\t600\t1.2.3.4\t",
                          "bulwark-dhcp\tbound\t198.51.100.50\tgarbage\t\t600\t1.2.3.4\t"}) {
    INFO(bad);
    problem.clear();
    auto e = control::parse_dhcp_event("external", bad, problem);
    REQUIRE(e);
    CHECK_FALSE(e->lease);
    CHECK_FALSE(problem.empty());
  }
}
