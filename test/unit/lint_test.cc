// Warnings for the firewall mistakes of manual chapter 7. Warnings never block a configuration.
#include <catch2/catch.hpp>

#include "config_test_util.h"

using namespace bulwark;
using config::Severity;
using test::all_messages;
using test::base_config;
using test::has_diagnostic;
using test::load_text;

TEST_CASE("manual 7.2: a rule after 'accept all' can never match, and source port 80 is suspicious",
          "[lint]") {
  auto r = load_text(base_config(
      "firewall:\n  outgoing:\n    default: rules\n    rules:\n"
      "      - {protocol: all, from: 0.0.0.0/0, to: 0.0.0.0/0, action: accept}\n"
      "      - {protocol: tcp, from: 0.0.0.0/0, from_port: 80, to: 0.0.0.0/0, to_port: 80, action: reject}\n"));
  INFO(all_messages(r));
  REQUIRE(r.tables);  // warnings do not block
  CHECK(r.diagnostics.warning_count() == 2);
  CHECK(has_diagnostic(r, Severity::kWarning,
                       "this rule can never match: rule 1 (t.yaml:16:9) covers every packet it would "
                       "match, so its action 'reject' never applies; 'accept' decides instead",
                       17, 9));
  CHECK(has_diagnostic(r, Severity::kWarning, "source port 80 (http) is a well-known service port", 17, 53));
}

TEST_CASE("manual 7.3: the correct order gives no warning", "[lint]") {
  auto r = load_text(base_config(
      "firewall:\n  outgoing:\n    rules:\n"
      "      - {protocol: tcp, from: 0.0.0.0/0, from_port: any, to: 0.0.0.0/0, to_port: 80, action: reject}\n"
      "      - {protocol: all, from: 0.0.0.0/0, to: 0.0.0.0/0, action: accept}\n"));
  INFO(all_messages(r));
  REQUIRE(r.tables);
  CHECK(r.diagnostics.all().empty());
}

TEST_CASE("shadowing takes groups, ports, protocols and interfaces into account", "[lint]") {
  auto r = load_text(base_config(
      "firewall:\n  ip_groups:\n    plcs: [192.168.1.10, 192.168.1.20]\n"
      "  incoming:\n    rules:\n"
      "      - {protocol: tcp, to: 192.168.1.0/24, to_port: 1-1023, action: accept}\n"
      "      - {protocol: tcp, to: plcs, to_port: https, action: drop}\n"
      "      - {protocol: udp, to: plcs, to_port: 53, action: drop}\n"
      "      - {interface: external, protocol: icmp, action: accept}\n"
      "      - {protocol: icmp, action: drop}\n"));
  INFO(all_messages(r));
  REQUIRE(r.tables);
  CHECK(r.diagnostics.warning_count() == 1);
  CHECK(has_diagnostic(r, Severity::kWarning, "rule 1", 18, 9));
}

TEST_CASE("a rule that jumps to a record never hides the rules after it", "[lint]") {
  auto r = load_text(base_config(
      "firewall:\n  incoming:\n    rules:\n"
      "      - {protocol: tcp, action: Server}\n"
      "      - {protocol: tcp, to_port: https, action: accept}\n"
      "  rule_records:\n    - {name: Server, initial_mode: inactive, rules: [{to: 192.168.1.10, action: accept}]}\n"));
  INFO(all_messages(r));
  REQUIRE(r.tables);
  CHECK(r.diagnostics.all().empty());
}

TEST_CASE("a list whose default ignores its rules is pointed out", "[lint]") {
  auto r = load_text(base_config(
      "firewall:\n  incoming:\n    default: drop\n    rules: [{protocol: tcp, action: accept}]\n"));
  INFO(all_messages(r));
  CHECK(has_diagnostic(r, Severity::kWarning, "the 1 rules below are not used while default is 'drop'", 14, 14));
}

