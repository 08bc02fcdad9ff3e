// One broken configuration per class of parse error, asserting the exact position, YAML path,
// message and hint that the user sees.
#include <catch2/catch.hpp>

#include "config_test_util.h"

using namespace bulwark;
using config::Severity;
using test::all_messages;
using test::base_config;
using test::has_diagnostic;
using test::load_text;

namespace {

// The single error of `r`, which must have exactly one.
const config::Diagnostic& only_error(const config::LoadResult& r) {
  INFO(all_messages(r));
  REQUIRE(r.diagnostics.error_count() == 1);
  for (const auto& d : r.diagnostics.all()) {
    if (d.severity == Severity::kError) return d;
  }
  FAIL("unreachable");
  throw;
}

}  // namespace

TEST_CASE("YAML syntax errors carry the parser's position", "[parse]") {
  auto r = load_text("version: 1\ninterfaces:\n  - name: [internal\n");
  const auto& e = only_error(r);
  CHECK(e.origin.file == "t.yaml");
  CHECK(e.origin.line == 4);
  CHECK(e.message.rfind("YAML syntax error", 0) == 0);
  CHECK_FALSE(r.tables);
}

TEST_CASE("an empty file and a non-mapping document are errors", "[parse]") {
  auto empty = load_text("");
  CHECK(only_error(empty).message == "the file is empty");
  auto list = load_text("- a\n- b\n");
  CHECK(has_diagnostic(list, Severity::kError, "expected a mapping of keys to values", 1, 1));
}

TEST_CASE("version is required and must be 1", "[parse]") {
  auto r = load_text(base_config().substr(std::string("version: 1\n").size()));
  CHECK(has_diagnostic(r, Severity::kError, "missing required key 'version'", 1, 1));
  auto v2 = load_text("version: 2\n" + base_config().substr(11));
  const auto& e = only_error(v2);
  CHECK(e.str() == "t.yaml:1:10: error: version: '2' is not a whole number from 1 to 1");
}

TEST_CASE("unknown keys are errors with a did-you-mean hint", "[parse]") {
  auto r = load_text(base_config("firewal:\n  incoming: {default: drop}\n"));
  const auto& e = only_error(r);
  CHECK(e.str() == "t.yaml:12:1: error: firewal: unknown key 'firewal' (hint: did you mean 'firewall'?)");

  auto nested = load_text(
      "version: 1\ninterfaces:\n  - name: internal\n    role: internal\n    port: net_null0\n"
      "    adresses: [192.168.1.1/24]\n");
  CHECK(has_diagnostic(nested, Severity::kError, "unknown key 'adresses'", 6, 5,
                       "interfaces[1].adresses"));
  CHECK(all_messages(nested).find("did you mean 'addresses'?") != std::string::npos);
}

TEST_CASE("duplicate keys are errors", "[parse]") {
  auto r = load_text(base_config("nat:\n  masquerade: []\n  masquerade: []\n"));
  CHECK(has_diagnostic(r, Severity::kError, "duplicate key 'masquerade'", 14, 3, "nat.masquerade"));
}

TEST_CASE("missing required keys name the key and the object", "[parse]") {
  auto r = load_text(base_config("nat:\n  port_forwarding:\n    - protocol: tcp\n      incoming_port: 8001\n"));
  const auto& e = only_error(r);
  CHECK(e.message == "missing required key 'redirect_ip'");
  CHECK(e.origin.path == "nat.port_forwarding[1]");
  CHECK(e.origin.line == 14);
  CHECK(e.origin.column == 7);
  CHECK(e.hint == "the internal host, e.g. 192.168.1.10");
}

TEST_CASE("addresses, networks and interface addresses are checked", "[parse]") {
  auto bad_gw = load_text(base_config().replace(base_config().find("10.1.0.254"), 10, "10.1.0.256"));
  CHECK(only_error(bad_gw).str() ==
        "t.yaml:11:18: error: default_gateway: '10.1.0.256' is not an IPv4 address (hint: write "
        "four numbers 0-255 separated by dots, e.g. 192.168.1.10)");

  auto no_prefix = load_text(
      "version: 1\ninterfaces:\n  - {name: internal, role: internal, port: net_null0, addresses: "
      "[192.168.1.1]}\n");
  CHECK(has_diagnostic(no_prefix, Severity::kError, "'192.168.1.1' is not an address with prefix length",
                       3, 67, "interfaces[1].addresses[1]"));

  auto network_address = load_text(
      "version: 1\ninterfaces:\n  - {name: internal, role: internal, port: net_null0, addresses: "
      "[192.168.1.0/24]}\n");
  CHECK(has_diagnostic(network_address, Severity::kError,
                       "192.168.1.0 is the network address of its network", 3, 67));

  auto host_bits = load_text(base_config(
      "ipsec:\n  connections:\n    - name: c\n      remote_gateway: 10.1.0.2\n"
      "      authentication: {method: psk, psk: {env: PSK}}\n"
      "      tunnels: [{local: 192.168.1.1/24, remote: 192.168.2.0/24}]\n"));
  const auto& e = only_error(host_bits);
  CHECK(e.message == "'192.168.1.1/24' has host bits set");
  CHECK(e.hint == "the network is 192.168.1.0/24");
  CHECK(e.origin.line == 17);
  CHECK(e.origin.path == "ipsec.connections[1].tunnels[1].local");
}

TEST_CASE("MAC addresses must be unicast", "[parse]") {
  auto r = load_text(
      "version: 1\ninterfaces:\n  - name: internal\n    role: internal\n    port: net_null0\n"
      "    mac: 01:00:5e:00:00:01\n    addresses: [192.168.1.1/24]\n");
  CHECK(has_diagnostic(r, Severity::kError, "01:00:5e:00:00:01 cannot be an interface address", 6, 10,
                       "interfaces[1].mac"));
  auto garbled = load_text(
      "version: 1\ninterfaces:\n  - name: internal\n    role: internal\n    port: net_null0\n"
      "    mac: 02:00:00\n    addresses: [192.168.1.1/24]\n");
  CHECK(has_diagnostic(garbled, Severity::kError, "'02:00:00' is not a MAC address", 6, 10));
}

TEST_CASE("ports, protocols, durations, booleans and numbers", "[parse]") {
  auto port = load_text(base_config(
      "firewall:\n  incoming:\n    rules:\n      - {protocol: tcp, to_port: 70000, action: accept}\n"));
  CHECK(has_diagnostic(port, Severity::kError, "'70000' is neither a port nor a port group name", 15, 34,
                       "firewall.incoming.rules[1].to_port"));

  auto proto = load_text(base_config(
      "firewall:\n  incoming:\n    rules:\n      - {protocol: tpc, action: accept}\n"));
  CHECK(only_error(proto).str() ==
        "t.yaml:15:20: error: firewall.incoming.rules[1].protocol: 'tpc' is not a protocol (hint: "
        "write all, tcp, udp, icmp, esp, ah, gre or a protocol number 0-255)");

  auto duration = load_text(base_config(
      "firewall:\n  rule_records:\n    - name: R\n      deactivation_timeout: 5 minutes\n"
      "      rules: [{action: accept}]\n"));
  CHECK(has_diagnostic(duration, Severity::kError, "'5 minutes' is not a duration", 15, 29));

  auto boolean = load_text(base_config("firewall:\n  abort_on_reconfiguration: maybe\n"));
  CHECK(only_error(boolean).message == "'maybe' is not a yes/no value");

  auto mtu = load_text(
      "version: 1\ninterfaces:\n  - {name: internal, role: internal, port: net_null0, mtu: 100, "
      "addresses: [192.168.1.1/24]}\n");
  CHECK(has_diagnostic(mtu, Severity::kError, "'100' is not a whole number from 576 to 9000", 3, 60));
}

TEST_CASE("enumerations list the choices and suggest the nearest", "[parse]") {
  auto r = load_text(
      "version: 1\ninterfaces:\n  - {name: internal, role: intern, port: net_null0, addresses: "
      "[192.168.1.1/24]}\n");
  const auto& d = r.diagnostics.all().front();
  CHECK(d.message == "'intern' is not one of: internal, external, dmz");
  CHECK(d.hint == "did you mean 'internal'?");
  CHECK(d.origin.line == 3);
  CHECK(d.origin.column == 28);
}

TEST_CASE("secrets are references; inline secrets are refused without echoing them", "[parse]") {
  auto inline_psk = load_text(base_config(
      "ipsec:\n  connections:\n    - name: c\n      remote_gateway: 10.1.0.2\n"
      "      authentication: {method: psk, psk: TopSecret99}\n"
      "      tunnels: [{local: 192.168.1.0/24, remote: 192.168.2.0/24}]\n"));
  CHECK(has_diagnostic(inline_psk, Severity::kError, "secrets must be given by reference", 16, 42,
                       "ipsec.connections[1].authentication.psk"));
  CHECK(all_messages(inline_psk).find("TopSecret99") == std::string::npos);

  auto both = load_text(base_config(
      "system:\n  smtp: {server: mail, from: a@b, password: {env: A, file: /x}}\n"));
  CHECK(has_diagnostic(both, Severity::kError, "needs exactly one of 'file' and 'env'", 13, 45));

  auto relative = load_text(base_config("system:\n  smtp: {server: mail, from: a@b, password: {file: pw.txt}}\n"));
  CHECK(has_diagnostic(relative, Severity::kError, "secret files must be given by absolute path"));
}

TEST_CASE("lists and mappings are required where the language says so", "[parse]") {
  auto r = load_text("version: 1\ninterfaces: internal\n");
  CHECK(only_error(r).str() ==
        "t.yaml:2:13: error: interfaces: expected a list of interfaces (hint: write one '- name: …' "
        "entry per dataplane port)");
  auto rules = load_text(base_config("firewall:\n  incoming:\n    rules: {action: accept}\n"));
  CHECK(has_diagnostic(rules, Severity::kError, "expected a list", 14, 12, "firewall.incoming.rules"));
}

TEST_CASE("names are restricted to a safe character set", "[parse]") {
  auto r = load_text(base_config("switches:\n  - name: \"bad;name\"\n"));
  CHECK(has_diagnostic(r, Severity::kError, "'bad;name' is not a valid name", 13, 11, "switches[1].name"));
}

TEST_CASE("actions inside rule records cannot name records", "[parse]") {
  auto r = load_text(base_config(
      "firewall:\n  rule_records:\n    - name: A\n      rules: [{action: B}]\n"
      "    - name: B\n      rules: [{action: accept}]\n"));
  const auto& e = only_error(r);
  CHECK(e.message == "'B' is not an action here");
  CHECK(e.hint == "rules inside a rule record accept, drop or reject; records do not nest");
  CHECK(e.origin.line == 15);
  CHECK(e.origin.column == 24);
}

TEST_CASE("port forwarding is only for TCP, UDP and GRE", "[parse]") {
  auto r = load_text(base_config(
      "nat:\n  port_forwarding:\n    - {protocol: icmp, redirect_ip: 192.168.1.10}\n"));
  const auto& e = only_error(r);
  CHECK(e.message == "IP and port forwarding works only for TCP, UDP and GRE");
  CHECK(e.origin.line == 14);
  CHECK(e.origin.column == 18);
}

TEST_CASE("CIFS schedules and clock times", "[parse]") {
  auto r = load_text(base_config(
      "cifs:\n  checks:\n    - {name: c, share: s, checksum_share: d, patterns: p, schedule: {daily: '25:00'}}\n"));
  CHECK(has_diagnostic(r, Severity::kError, "'25:00' is not a time of day", 14, 77,
                       "cifs.checks[1].schedule.daily"));
  auto two = load_text(base_config(
      "cifs:\n  checks:\n    - {name: c, share: s, checksum_share: d, patterns: p, schedule: {daily: '04:17', every: 1h}}\n"));
  CHECK(has_diagnostic(two, Severity::kError, "a schedule is exactly one of daily, weekly and every"));
}

TEST_CASE("a section may be given in one file only, and unreadable files are errors", "[parse]") {
  auto r = config::load({config::Source{"a.yaml", base_config()},
                         config::Source{"b.yaml", "version: 1\ninterfaces: []\n"}});
  INFO(all_messages(r));
  bool found = false;
  for (const auto& d : r.diagnostics.all()) {
    if (d.message == "section 'interfaces' is already given") {
      found = true;
      CHECK(d.origin.file == "b.yaml");
      CHECK(d.origin.line == 2);
      CHECK(d.hint == "first given at a.yaml:3:3; keep each section in one file");
    }
  }
  CHECK(found);

  config::Diagnostics diag;
  auto sources = config::read_sources({"/nonexistent/bulwark.yaml"}, diag);
  CHECK(sources.empty());
  REQUIRE(diag.error_count() == 1);
  CHECK(diag.all().front().str() ==
        "/nonexistent/bulwark.yaml:1:1: error: <document>: cannot open the file (hint: check the "
        "path and that you may read it)");
}

TEST_CASE("a configuration split over several files merges its sections", "[parse]") {
  auto r = config::load({config::Source{"net.yaml", base_config()},
                         config::Source{"fw.yaml", "version: 1\nfirewall:\n  outgoing: {default: drop}\n"}});
  INFO(all_messages(r));
  REQUIRE(r.tables);
  CHECK(r.tables->firewall.outgoing.policy == config::DefaultPolicy::kDrop);
  CHECK(r.tables->interfaces.size() == 2);
}

TEST_CASE("group names must be usable in rules", "[parse]") {
  auto r = load_text(base_config("firewall:\n  ip_groups:\n    my plcs: [192.168.1.10]\n"));
  const auto& e = only_error(r);
  CHECK(e.message == "'my plcs' is not a valid group name");
  CHECK(e.origin.line == 14);
  CHECK(e.origin.column == 5);
}

TEST_CASE("booleans are true or false; protocols are lower case", "[parse]") {
  auto r = load_text(base_config("firewall:\n  incoming:\n    rules: [{protocol: TCP, action: accept, log: yes}]\n"));
  INFO(all_messages(r));
  CHECK(has_diagnostic(r, Severity::kError, "'TCP' is not a protocol", 14, 24));
  CHECK(has_diagnostic(r, Severity::kError, "'yes' is not a yes/no value", 14, 50));
}
