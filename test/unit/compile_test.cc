// The compiler: names, groups, services and %extern resolved into flat tables.
#include <catch2/catch.hpp>

#include "config/dump.h"
#include "config_test_util.h"

using namespace bulwark;
using test::all_messages;
using test::base_config;
using test::load_text;

TEST_CASE("the built-in default is the factory state of a new box", "[compile]") {
  auto r = config::load({config::default_source()});
  INFO(all_messages(r));
  REQUIRE(r.tables);
  CHECK(r.diagnostics.all().empty());
  const auto& t = *r.tables;
  REQUIRE(t.interfaces.size() == 2);
  CHECK(t.interfaces[0].name == "internal");
  CHECK(t.interfaces[0].addresses.at(0).prefix.str() == "192.168.1.1/24");
  CHECK(t.interfaces[1].name == "external");
  CHECK(t.extern_address);
  CHECK(t.firewall.incoming.policy == config::DefaultPolicy::kDrop);
  CHECK(t.firewall.outgoing.policy == config::DefaultPolicy::kAccept);
  REQUIRE(t.nat.masquerade.size() == 1);
  CHECK(t.nat.masquerade[0].from.at(0).length == 0);
  CHECK(t.nat.masquerade[0].address == *t.extern_address);
}

TEST_CASE("routes: connected, additional and default, longest prefix first", "[compile]") {
  auto r = load_text(
      "version: 1\ninterfaces:\n"
      "  - {name: internal, role: internal, port: net_null0, addresses: [192.168.1.1/24, {address: 10.5.0.1/24, vlan: 5}]}\n"
      "  - name: external\n    role: external\n    port: net_null1\n    addresses: [10.1.0.254/16]\n"
      "    routes: [{network: 192.168.2.0/24, gateway: 10.1.0.1}]\n"
      "default_gateway: 10.1.0.1\n");
  INFO(all_messages(r));
  REQUIRE(r.tables);
  const auto& routes = r.tables->routes;
  REQUIRE(routes.size() == 5);
  CHECK(routes.back().kind == config::RouteKind::kDefault);
  CHECK(routes.back().gateway.str() == "10.1.0.1");
  CHECK(routes.back().interface == 1);
  bool vlan_route = false, additional = false;
  for (const auto& route : routes) {
    vlan_route |= route.network.str() == "10.5.0.0/24" && route.vlan == 5;
    additional |= route.kind == config::RouteKind::kAdditional && route.network.str() == "192.168.2.0/24" &&
                  route.interface == 1 && route.source.position == "t.yaml:8:14";
  }
  CHECK(vlan_route);
  CHECK(additional);
}

TEST_CASE("rules: groups, services and records resolved; each rule knows its source", "[compile]") {
  auto r = load_text(base_config(
      "firewall:\n  ip_groups:\n    servers: [192.168.1.10, 192.168.1.20/31]\n"
      "  port_groups:\n    remote: [ftp, telnet, 8000-8080]\n"
      "  incoming:\n    rules:\n"
      "      - {interface: external, protocol: tcp, to: servers, to_port: remote, action: Server, log: true, comment: maintenance}\n"
      "  rule_records:\n    - {name: Server, initial_mode: inactive, deactivation_timeout: '0:30:00', rules: [{protocol: tcp, action: accept}]}\n"));
  INFO(all_messages(r));
  REQUIRE(r.tables);
  const auto& rule = r.tables->firewall.incoming.rules.at(0);
  CHECK(rule.interface == 1);
  CHECK(rule.protocol == config::kProtoTcp);
  REQUIRE(rule.to.size() == 2);
  CHECK(rule.to[1].str() == "192.168.1.20/31");
  REQUIRE(rule.to_ports.size() == 3);
  CHECK(rule.to_ports[0] == config::PortRange{21, 21});
  CHECK(rule.to_ports[2] == config::PortRange{8000, 8080});
  CHECK(rule.action == config::ActionKind::kRecord);
  CHECK(rule.record == 0);
  CHECK(rule.log);
  CHECK(rule.source.position == "t.yaml:19:9");
  CHECK(rule.source.path == "firewall.incoming.rules[1]");
  const auto& record = r.tables->firewall.records.at(0);
  CHECK_FALSE(record.initially_active);
  CHECK(record.deactivation_timeout == 1800);
  CHECK(record.rules.rules.at(0).id != rule.id);
}

TEST_CASE("port forwarding: %extern and service names resolved", "[compile]") {
  auto r = load_text(base_config(
      "nat:\n  port_forwarding:\n"
      "    - {protocol: tcp, from_ip: 10.1.0.100, incoming_ip: '%extern', incoming_port: 8001, redirect_ip: 192.168.1.10, redirect_port: http}\n"
      "    - {protocol: tcp, incoming_port: https, redirect_ip: 192.168.1.20}\n"
      "    - {protocol: gre, redirect_ip: 192.168.1.30}\n"));
  INFO(all_messages(r));
  REQUIRE(r.tables);
  const auto& f = r.tables->nat.port_forwarding;
  REQUIRE(f.size() == 3);
  CHECK(f[0].incoming_ip.str() == "10.1.0.1");
  CHECK(f[0].interface == 1);
  CHECK(f[0].from.str() == "10.1.0.100/32");
  CHECK(f[0].incoming_port == config::PortRange{8001, 8001});
  CHECK(f[0].redirect_port == config::PortRange{80, 80});
  CHECK(f[1].redirect_port == config::PortRange{443, 443});
  CHECK(f[2].incoming_port.is_any());
}

TEST_CASE("a virtual IP is a 1:1 NAT of its client inside the tunnel (manual 12.4)", "[compile]") {
  auto r = config::load({config::Source{"t.yaml", base_config(
      "ipsec:\n  connections:\n    - name: c\n      remote_gateway: 10.1.0.2\n"
      "      authentication: {method: psk, psk: {env: VPN_PSK}}\n"
      "      tunnels: [{local: 172.16.1.1/32, remote: 192.168.2.0/24, virtual_ip: 172.16.1.1, client: 192.168.1.10}]\n")}});
  INFO(all_messages(r));
  REQUIRE(r.tables);
  REQUIRE(r.tables->ipsec.connections.size() == 1);
  const auto& t = r.tables->ipsec.connections[0].tunnels.at(0);
  CHECK(t.local_nat == config::LocalNat::Mode::kOneToOne);
  REQUIRE(t.local_nat_map.size() == 1);
  CHECK(t.local_nat_map[0].real.str() == "192.168.1.10/32");
  CHECK(t.local_nat_map[0].virtual_network.str() == "172.16.1.1/32");
  CHECK(r.tables->proxy_arp.empty());  // peers reach the virtual IP through the tunnel, not on a LAN
}

TEST_CASE("the generation number and secrets: dumps show references, never values", "[compile]") {
  auto r = config::load({config::Source{"t.yaml", base_config(
      "ipsec:\n  connections:\n    - name: c\n      remote_gateway: 10.1.0.2\n"
      "      authentication: {method: psk, psk: {env: VPN_PSK}}\n"
      "      tunnels: [{local: 192.168.1.0/24, remote: 10.2.0.0/28, remote_nat: {mode: one_to_one, address: 192.168.1.240}}]\n")}},
      42);
  INFO(all_messages(r));
  REQUIRE(r.tables);
  CHECK(r.tables->generation == 42);
  std::string dump = config::dump_tables(*r.tables);
  CHECK(dump.find("psk <env:VPN_PSK>") != std::string::npos);
  CHECK(dump.find("generation 42") != std::string::npos);
  REQUIRE(r.tables->proxy_arp.size() == 1);
  CHECK(r.tables->proxy_arp[0].range.str() == "192.168.1.240/28");
  CHECK(r.tables->proxy_arp[0].reason == config::ProxyArpReason::kVpnRemoteNat);
}
