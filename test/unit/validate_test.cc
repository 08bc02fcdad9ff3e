// Semantic validation: references, the manual's rules for NAT, routing, VPN and CIFS, each with
// the position of the offending value.
#include <catch2/catch.hpp>

#include "config_test_util.h"

using namespace bulwark;
using config::Severity;
using test::all_messages;
using test::base_config;
using test::has_diagnostic;
using test::load_text;

namespace {

const char* kVpnCerts =
    "ipsec:\n"
    "  certificates:\n"
    "    machine: [{name: me, pkcs12: /c/me.p12, password: {file: /c/me.pass}}]\n"
    "    remote: [{name: peer, pem: /c/peer.pem}]\n"
    "  connections:\n";

std::string vpn(const std::string& connection) { return base_config(std::string(kVpnCerts) + connection); }

}  // namespace

TEST_CASE("unknown references suggest the intended name", "[validate]") {
  auto r = load_text(base_config(
      "firewall:\n  incoming:\n    rules:\n      - {interface: externl, protocol: tcp, to: plcs, "
      "to_port: web, action: Servr}\n"
      "  ip_groups:\n    plc: [192.168.1.10]\n  port_groups:\n    webs: [http]\n"
      "  rule_records:\n    - {name: Server, rules: [{action: accept}]}\n"));
  INFO(all_messages(r));
  CHECK(has_diagnostic(r, Severity::kError, "unknown interface 'externl'", 15, 21));
  CHECK(has_diagnostic(r, Severity::kError, "unknown IP group 'plcs'", 15, 49));
  CHECK(has_diagnostic(r, Severity::kError, "unknown port group 'web'", 15, 64));
  CHECK(has_diagnostic(r, Severity::kError, "unknown rule record 'Servr'", 15, 77));
  for (const char* hint : {"did you mean 'external'?", "did you mean 'plc'?", "did you mean 'webs'?",
                           "did you mean 'Server'?"}) {
    CHECK(all_messages(r).find(hint) != std::string::npos);
  }
}

TEST_CASE("names must be unique", "[validate]") {
  auto r = load_text(base_config("switches:\n  - {name: CMD1}\n  - {name: CMD1}\n"));
  CHECK(has_diagnostic(r, Severity::kError, "switch 'CMD1' is defined twice", 14, 12));
}

TEST_CASE("ports only with TCP or UDP", "[validate]") {
  auto r = load_text(base_config(
      "firewall:\n  outgoing:\n    rules:\n      - {protocol: icmp, to_port: 80, action: accept}\n"));
  const auto& d = r.diagnostics.all().front();
  CHECK(d.str() ==
        "t.yaml:15:35: error: firewall.outgoing.rules[1].to_port: ports only apply to TCP and UDP, "
        "this rule is for icmp (hint: set protocol: tcp or udp, or remove the port)");
}

TEST_CASE("interfaces: overlapping networks, ports and roles", "[validate]") {
  auto r = load_text(
      "version: 1\ninterfaces:\n"
      "  - {name: internal, role: internal, port: net_null0, addresses: [192.168.1.1/24]}\n"
      "  - {name: external, role: internal, port: net_null0, addresses: [192.168.1.2/16]}\n"
      "  - {name: bad, role: dmz, port: eth0, addresses: [10.9.0.1/24]}\n");
  INFO(all_messages(r));
  CHECK(has_diagnostic(r, Severity::kError, "network 192.168.0.0/16 overlaps 192.168.1.0/24 of interface 'internal'", 4, 67));
  CHECK(has_diagnostic(r, Severity::kError, "port 'net_null0' is already used by interface 'internal'", 4, 44));
  CHECK(has_diagnostic(r, Severity::kError, "'eth0' is neither a PCI address nor a DPDK vdev", 5, 34));
  CHECK(has_diagnostic(r, Severity::kError, "no interface has role external"));
}

TEST_CASE("routes: gateway on the link, default gateway external", "[validate]") {
  auto r = load_text(
      "version: 1\ninterfaces:\n"
      "  - name: internal\n    role: internal\n    port: net_null0\n    addresses: [192.168.1.1/24]\n"
      "    routes:\n      - {network: 192.168.2.0/24, gateway: 10.1.0.5}\n"
      "  - {name: external, role: external, port: net_null1, addresses: [10.1.0.1/16]}\n"
      "default_gateway: 192.168.1.254\n");
  INFO(all_messages(r));
  CHECK(has_diagnostic(r, Severity::kError, "gateway 10.1.0.5 is not in a network of interface 'internal'", 8, 44));
  CHECK(has_diagnostic(r, Severity::kError,
                       "default gateway 192.168.1.254 is not in a network of an external interface", 10, 18));
}

TEST_CASE("1:1 NAT: virtual networks must be free (manual 3.2)", "[validate]") {
  auto r = load_text(base_config(
      "nat:\n  one_to_one:\n"
      "    - {real: 192.168.1.0, virtual: 10.1.0.0, prefix: 24, interface: external}\n"
      "    - {real: 192.168.1.0, virtual: 10.1.0.128, prefix: 25, interface: external}\n"
      "    - {real: 192.168.1.0, virtual: 192.168.1.0, prefix: 24, interface: external}\n"
      "    - {real: 192.168.0.0, virtual: 10.1.0.0, prefix: 16, interface: external}\n"));
  INFO(all_messages(r));
  CHECK(has_diagnostic(r, Severity::kError, "virtual network 10.1.0.0/24 contains the box's own address 10.1.0.1", 14, 36));
  CHECK(has_diagnostic(r, Severity::kError, "virtual network 10.1.0.128/25 overlaps 10.1.0.0/24 of 1:1 NAT rule 1", 15, 36));
  CHECK(has_diagnostic(r, Severity::kError, "virtual network 192.168.1.0/24 overlaps the local network 192.168.1.0/24 of 'internal'", 16, 36));
  CHECK(has_diagnostic(r, Severity::kError, "virtual network 10.1.0.0/16 is the whole network 10.1.0.0/16 of 'external'", 17, 54));
}

TEST_CASE("1:1 NAT of the manual's examples is valid and answers proxy ARP", "[validate]") {
  auto r = load_text(base_config(
      "nat:\n  one_to_one:\n"
      "    - {real: 192.168.1.0, virtual: 10.1.1.0, prefix: 24, interface: external}\n"
      "    - {real: 192.168.1.10, virtual: 10.1.0.210, interface: external}\n"));
  INFO(all_messages(r));
  REQUIRE(r.tables);
  REQUIRE(r.tables->proxy_arp.size() == 2);
  CHECK(r.tables->proxy_arp[0].range.str() == "10.1.1.0/24");
  CHECK(r.tables->proxy_arp[1].range.str() == "10.1.0.210/32");
  CHECK(r.tables->proxy_arp[1].interface == 1);
}

TEST_CASE("port forwarding: ports, own addresses, duplicates", "[validate]") {
  auto r = load_text(base_config(
      "nat:\n  port_forwarding:\n"
      "    - {protocol: gre, incoming_port: 80, redirect_ip: 192.168.1.10}\n"
      "    - {protocol: tcp, incoming_ip: 10.1.0.9, incoming_port: 80, redirect_ip: 192.168.1.10}\n"
      "    - {protocol: tcp, incoming_port: 8001, redirect_ip: 192.168.1.10, redirect_port: http}\n"
      "    - {protocol: tcp, incoming_port: 8001, redirect_ip: 192.168.1.20, redirect_port: http}\n"
      "    - {protocol: udp, redirect_ip: 192.168.1.20}\n"));
  INFO(all_messages(r));
  CHECK(has_diagnostic(r, Severity::kError, "GRE has no ports", 14, 38));
  CHECK(has_diagnostic(r, Severity::kError, "10.1.0.9 is not an address of this box", 15, 36));
  CHECK(has_diagnostic(r, Severity::kError, "forwarding rule 3 already forwards this incoming port", 17, 7));
  CHECK(has_diagnostic(r, Severity::kError, "TCP and UDP forwarding needs an incoming port", 18, 7));
}

TEST_CASE("VPN: the mistakes of manual chapter 15.2 and friends", "[validate]") {
  SECTION("local address within remote network") {
    auto r = load_text(vpn(
        "    - name: c\n      remote_gateway: 10.1.0.2\n"
        "      authentication: {method: x509, local_certificate: me, remote_certificate: peer}\n"
        "      tunnels: [{local: 192.168.1.0/24, remote: 10.0.0.0/8}]\n"));
    INFO(all_messages(r));
    CHECK(has_diagnostic(r, Severity::kError,
                         "tunnel ignored: local address '10.1.0.1' within remote network '10.0.0.0/8'", 20, 49));
  }
  SECTION("lifetime not above the rekey margin") {
    auto r = load_text(vpn(
        "    - name: c\n      remote_gateway: 10.1.0.2\n"
        "      authentication: {method: x509, local_certificate: me, remote_certificate: peer}\n"
        "      ike: {lifetime: 3600, rekey_margin: 5400}\n"
        "      tunnels: [{local: 192.168.1.0/24, remote: 192.168.2.0/24}]\n"));
    INFO(all_messages(r));
    CHECK(has_diagnostic(r, Severity::kError,
                         "IKE lifetime [3600] must be greater than rekey_margin*(100+rekey_fuzz)/100 "
                         "[5400*(100+100)/100 = 10800]",
                         20, 23));
  }
  SECTION("PSK responder for %any in IKEv1 main mode") {
    auto r = load_text(vpn(
        "    - name: c\n      remote_gateway: '%any'\n"
        "      authentication: {method: psk, psk: {env: PSK}}\n"
        "      ike: {version: 1, mode: main}\n"
        "      tunnels: [{local: 192.168.1.0/24, remote: 192.168.2.0/24}]\n"));
    INFO(all_messages(r));
    CHECK(has_diagnostic(r, Severity::kError, "a PSK responder for %any needs IKEv1 aggressive mode or IKEv2", 18, 23));
    auto ok = load_text(vpn(
        "    - name: c\n      remote_gateway: '%any'\n"
        "      authentication: {method: psk, psk: {env: PSK}}\n"
        "      ike: {version: 1, mode: aggressive}\n"
        "      tunnels: [{local: 192.168.1.0/24, remote: 192.168.2.0/24}]\n"));
    INFO(all_messages(ok));
    CHECK(ok.tables);
    CHECK_FALSE(ok.tables->ipsec.connections.at(0).initiate);
  }
  SECTION("%any cannot initiate, aggressive needs IKEv1, X.509 needs certificates") {
    auto r = load_text(vpn(
        "    - name: c\n      remote_gateway: '%any'\n      startup: initiate\n"
        "      authentication: {method: x509, local_certificate: mee}\n"
        "      ike: {version: 2, mode: aggressive}\n"
        "      tunnels: [{local: 192.168.1.0/24, remote: 192.168.2.0/24}]\n"));
    INFO(all_messages(r));
    CHECK(has_diagnostic(r, Severity::kError, "a connection to %any cannot initiate", 19, 16));
    CHECK(has_diagnostic(r, Severity::kError, "aggressive mode exists only in IKEv1", 21, 31));
    CHECK(has_diagnostic(r, Severity::kError, "unknown machine certificate 'mee'", 20, 57));
    CHECK(has_diagnostic(r, Severity::kError, "exactly one of remote_certificate and remote_ca", 20, 23));
  }
  SECTION("identical networks, transport with networks, the same virtual network twice") {
    auto r = load_text(vpn(
        "    - name: a\n      remote_gateway: 10.1.0.2\n"
        "      authentication: {method: psk, psk: {env: PSK}}\n"
        "      tunnels:\n"
        "        - {local: 192.168.1.0/24, remote: 192.168.1.0/24}\n"
        "        - {type: transport, local: 192.168.1.0/24}\n"
        "        - local: 172.16.1.0/24\n          remote: 10.2.0.0/16\n"
        "          local_nat: {mode: one_to_one, mappings: [{real: 192.168.1.0, virtual: 172.16.1.0, prefix: 24}]}\n"
        "    - name: b\n      remote_gateway: 10.1.0.3\n"
        "      authentication: {method: psk, psk: {env: PSK}}\n"
        "      tunnels:\n"
        "        - local: 172.16.1.0/24\n          remote: 10.3.0.0/16\n"
        "          local_nat: {mode: one_to_one, mappings: [{real: 192.168.1.0, virtual: 172.16.1.0, prefix: 24}]}\n"));
    INFO(all_messages(r));
    CHECK(has_diagnostic(r, Severity::kError, "local and remote are the same network 192.168.1.0/24", 21, 43));
    CHECK(has_diagnostic(r, Severity::kError, "a transport connection takes no local", 22, 36));
    CHECK(has_diagnostic(r, Severity::kError, "virtual network 172.16.1.0/24 is already used by VPN connection 'a'", 32, 81));
  }
  SECTION("local masquerading hides behind one address; remote NAT and virtual IP placement") {
    auto r = load_text(vpn(
        "    - name: c\n      remote_gateway: 10.1.0.2\n"
        "      authentication: {method: psk, psk: {env: PSK}}\n"
        "      tunnels:\n"
        "        - {local: 172.16.0.0/24, remote: 10.2.0.0/16, local_nat: {mode: masquerade, internal_network: 192.168.1.0/24}}\n"
        "        - {local: 192.168.1.0/24, remote: 10.3.0.0/26, remote_nat: {mode: one_to_one, address: 192.168.1.130}}\n"
        "        - {local: 192.168.1.0/24, remote: 10.4.0.0/16, virtual_ip: 172.16.1.1, client: 192.168.1.10}\n"));
    INFO(all_messages(r));
    CHECK(has_diagnostic(r, Severity::kError, "local masquerading hides the network behind one address", 21, 19));
    CHECK(has_diagnostic(r, Severity::kError, "192.168.1.130 does not start a /26 block", 22, 96));
    CHECK(has_diagnostic(r, Severity::kError, "virtual IP 172.16.1.1 is not inside the tunnel's local network", 23, 68));
  }
  SECTION("a virtual IP names its client; neither comes alone, nor with local NAT (manual 12.4)") {
    auto r = load_text(vpn(
        "    - name: d\n      remote_gateway: 10.1.0.2\n"
        "      authentication: {method: psk, psk: {env: PSK}}\n"
        "      tunnels:\n"
        "        - {local: 172.16.1.1/32, remote: 10.2.0.0/16, virtual_ip: 172.16.1.1}\n"
        "        - {local: 172.16.1.2/32, remote: 10.3.0.0/16, client: 192.168.1.10}\n"
        "        - {local: 172.16.1.3/32, remote: 10.4.0.0/16, virtual_ip: 172.16.1.3, client: 172.16.1.3}\n"
        "        - {local: 172.16.1.4/32, remote: 10.5.0.0/16, virtual_ip: 172.16.1.4, client: 192.168.1.10,\n"
        "           local_nat: {mode: masquerade, internal_network: 192.168.1.0/24}}\n"));
    INFO(all_messages(r));
    CHECK(has_diagnostic(r, Severity::kError, "a virtual IP needs the client it stands for", 21, 67));
    CHECK(has_diagnostic(r, Severity::kError, "client is only meaningful with virtual_ip", 22, 63));
    CHECK(has_diagnostic(r, Severity::kError, "the client 172.16.1.3 is the virtual IP itself", 23, 87));
    CHECK(has_diagnostic(r, Severity::kError, "a virtual IP and local_nat both translate the local side", 24, 67));
  }
}

TEST_CASE("hub and spoke: a hub's local network may contain the remote one (manual 14.2)", "[validate]") {
  auto r = load_text(
      "version: 1\ninterfaces:\n"
      "  - {name: internal, role: internal, port: net_null0, addresses: [192.168.3.1/24]}\n"
      "  - {name: external, role: external, port: net_null1, addresses: [77.245.32.78/24]}\n"
      "ipsec:\n  forward_between_connections: true\n  connections:\n"
      "    - name: spoke1\n      remote_gateway: '%any'\n"
      "      authentication: {method: psk, psk: {env: PSK}}\n"
      "      tunnels: [{local: 192.168.0.0/16, remote: 192.168.1.0/24}]\n");
  INFO(all_messages(r));
  CHECK(r.tables);
  CHECK(r.diagnostics.all().empty());
}

TEST_CASE("user firewall: hashes, RADIUS, template users", "[validate]") {
  auto r = load_text(base_config(
      "user_firewall:\n  login_interfaces: [internal]\n"
      "  users:\n    - {name: hpotter, authentication: local}\n    - {name: pwerner, authentication: radius}\n"
      "  templates:\n    - {name: web, users: [pwerner, hpoter], rules: [{protocol: tcp, to_port: http}]}\n"));
  INFO(all_messages(r));
  CHECK(has_diagnostic(r, Severity::kError, "local user 'hpotter' needs a password_hash", 15, 7));
  CHECK(has_diagnostic(r, Severity::kError, "users authenticate with RADIUS but no radius_servers are given", 15, 5));
  CHECK(has_diagnostic(r, Severity::kError, "unknown firewall user 'hpoter'", 18, 36));
}

TEST_CASE("CIFS: patterns, certificate, notification", "[validate]") {
  auto r = load_text(base_config(
      "cifs:\n  notification: {email: it@example.com, send: always}\n"
      "  shares:\n    - {name: prog, server: 192.168.1.100, share: Programs}\n"
      "  pattern_sets:\n    - name: exe\n      patterns:\n"
      "        - {pattern: 'c**\\x.exe', include: true}\n"
      "        - {pattern: '**\\*win*.exe', include: true}\n"
      "        - {pattern: '**', include: true}\n"
      "  checks:\n    - {name: c1, share: prog, checksum_share: db, patterns: exe}\n"));
  INFO(all_messages(r));
  CHECK(has_diagnostic(r, Severity::kError, "e-mail notification needs system.smtp", 13, 17));
  CHECK(has_diagnostic(r, Severity::kError, "'**' cannot be combined with other characters ('c**')", 19, 21));
  CHECK(has_diagnostic(r, Severity::kError, "only one '*' is allowed per directory or file name ('*win*.exe')", 20, 21));
  CHECK(has_diagnostic(r, Severity::kError, "the pattern must end with a file name", 21, 21));
  CHECK(has_diagnostic(r, Severity::kError, "integrity_certificate is required", 13, 3));
  CHECK(has_diagnostic(r, Severity::kError, "unknown share 'db'", 23, 47));
}

TEST_CASE("a configuration with several mistakes reports all of them in one run", "[validate]") {
  auto r = load_text(
      "version: 1\n"
      "interfaces:\n"
      "  - {name: internal, role: internal, port: net_null0, addresses: [192.168.1.1/24]}\n"
      "  - {name: external, role: external, port: net_null1, addresses: [10.1.0.1/16], mtu: 20000}\n"
      "default_gateway: 10.2.0.1\n"
      "nat:\n  masquerade: [{interface: outside}]\n"
      "firewall:\n  incomming: {}\n"
      "  outgoing:\n    rules: [{protocol: udp, to_port: 99999, action: accept}]\n");
  INFO(all_messages(r));
  CHECK_FALSE(r.tables);
  CHECK(r.diagnostics.error_count() == 5);
  CHECK(has_diagnostic(r, Severity::kError, "is not a whole number from 576 to 9000", 4, 86));
  CHECK(has_diagnostic(r, Severity::kError, "default gateway 10.2.0.1 is not in a network", 5, 18));
  CHECK(has_diagnostic(r, Severity::kError, "unknown interface 'outside'", 7, 28));
  CHECK(has_diagnostic(r, Severity::kError, "unknown key 'incomming'", 9, 3));
  CHECK(has_diagnostic(r, Severity::kError, "'99999' is neither a port nor a port group name", 11, 38));
  // Sorted by position, as a reader goes through the file.
  int last_line = 0;
  for (const auto& d : r.diagnostics.all()) {
    CHECK(d.origin.line >= last_line);
    last_line = d.origin.line;
  }
}

TEST_CASE("VPN settings the box does not carry out yet are refused, not ignored", "[validate]") {
  auto r = load_text(base_config(
      "switches:\n  - {name: S1}\n"
      "ipsec:\n  tcp_encapsulation: {listen: true, port: 80}\n  connections:\n"
      "    - name: service\n      remote_gateway: 10.1.0.2\n"
      "      controlled_by: {switch: S1}\n      deactivation_timeout: 30m\n"
      "      tcp_encapsulation: {enabled: true, port: 80}\n"
      "      authentication: {method: psk, psk: {env: PSK}}\n"
      "      tunnels: [{local: 192.168.1.0/24, remote: 192.168.2.0/24}]\n"
      "    - name: plain\n      remote_gateway: 10.1.0.3\n"
      "      deactivation_timeout: 0\n      tcp_encapsulation: {enabled: false}\n"
      "      authentication: {method: psk, psk: {env: PSK}}\n"
      "      tunnels: [{local: 192.168.1.0/24, remote: 192.168.3.0/24}]\n"));
  INFO(all_messages(r));
  CHECK_FALSE(r.tables);
  CHECK(has_diagnostic(r, Severity::kError, "TCP encapsulation of IKE and ESP is not implemented yet", 0, 0,
                       "ipsec.connections[1].tcp_encapsulation"));
  CHECK(has_diagnostic(r, Severity::kError, "listening for TCP-encapsulated IKE is not implemented yet"));
  CHECK(r.diagnostics.all().size() == 2);  // the second connection's values are what the box does
}

TEST_CASE("a switch and a deactivation timeout need a connection that initiates", "[validate]") {
  auto r = load_text(base_config(
      "switches:\n  - {name: S1}\n"
      "ipsec:\n  connections:\n"
      "    - name: service\n      remote_gateway: 10.1.0.2\n      startup: wait\n"
      "      controlled_by: {switch: S1}\n      deactivation_timeout: 30m\n"
      "      authentication: {method: psk, psk: {env: PSK}}\n"
      "      tunnels: [{local: 192.168.1.0/24, remote: 192.168.2.0/24}]\n"
      "    - name: both\n      remote_gateway: 10.1.0.3\n      initial_mode: stopped\n"
      "      controlled_by: {switch: S1}\n"
      "      authentication: {method: psk, psk: {env: PSK}}\n"
      "      tunnels: [{local: 192.168.1.0/24, remote: 192.168.3.0/24}]\n"
      "    - name: fine\n      remote_gateway: 10.1.0.4\n"
      "      controlled_by: {switch: S1}\n      deactivation_timeout: 10m\n"
      "      authentication: {method: psk, psk: {env: PSK}}\n"
      "      tunnels: [{local: 192.168.1.0/24, remote: 192.168.4.0/24}]\n"));
  INFO(all_messages(r));
  CHECK_FALSE(r.tables);
  CHECK(has_diagnostic(r, Severity::kError, "controlled_by needs a connection that initiates", 0, 0,
                       "ipsec.connections[1].controlled_by"));
  CHECK(has_diagnostic(r, Severity::kError, "deactivation_timeout needs a connection that initiates", 0, 0,
                       "ipsec.connections[1].deactivation_timeout"));
  CHECK(has_diagnostic(r, Severity::kError, "starts and stops with it", 0, 0, "ipsec.connections[2].initial_mode"));
  CHECK(r.diagnostics.all().size() == 3);
}

TEST_CASE("user firewall: a login page on an external interface that the incoming list blocks", "[validate]") {
  const std::string uf =
      "user_firewall:\n  login_interfaces: [internal, external]\n"
      "  users: [{name: hpotter, authentication: local, password_hash: {env: H}}]\n"
      "  templates: [{name: web, timeout: 1h, users: [hpotter], rules: [{protocol: tcp, to_port: http}]}]\n";
  auto blocked = load_text(base_config("firewall:\n  incoming: {default: drop}\n" + uf));
  INFO(all_messages(blocked));
  CHECK(blocked.tables);
  CHECK(has_diagnostic(blocked, Severity::kWarning, "the login page on external is blocked: the incoming list accepts no TCP to port 443"));
  CHECK(blocked.diagnostics.all().size() == 1);  // not for the internal one
  auto open = load_text(base_config(
      "firewall:\n  incoming:\n    rules: [{protocol: tcp, to_port: 443, action: accept}]\n" + uf));
  INFO(all_messages(open));
  CHECK(open.diagnostics.all().empty());
}
