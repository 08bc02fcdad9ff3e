// The control socket protocol: framing, versioning, and the table encoding the dataplane decodes.
#include <catch2/catch.hpp>

#include <random>

#include "config/control_protocol.h"
#include "config_test_util.h"

using namespace bulwark;
using config::Message;
using config::MessageReader;
using config::MessageType;

namespace {

config::Tables sample_tables() {
  auto r = test::load_text(test::base_config(
      "nat:\n  one_to_one: [{real: 192.168.1.0, virtual: 10.1.1.0, prefix: 24, interface: external}]\n"
      "firewall:\n  abort_on_reconfiguration: true\n"
      "  incoming:\n    rules:\n"
      "      - {interface: external, protocol: tcp, to: [192.168.1.10, 192.168.1.20], to_port: [http, 8000-8080], action: Server, log: true, comment: web}\n"
      "      - {protocol: icmp, action: accept}\n"
      "  rule_records:\n    - {name: Server, initial_mode: inactive, rules: [{protocol: tcp, from: 10.1.0.0/16, action: reject}]}\n"));
  REQUIRE(r.tables);
  return *r.tables;
}

}  // namespace

TEST_CASE("messages are framed and read back incrementally", "[protocol]") {
  std::string wire = config::encode_message({MessageType::kApply, "payload"}) +
                     config::encode_message({MessageType::kGetStatus, ""});
  MessageReader reader;
  for (char c : wire) reader.feed(std::string_view(&c, 1));  // one byte at a time
  auto first = reader.next();
  REQUIRE(first);
  CHECK(first->type == MessageType::kApply);
  CHECK(first->payload == "payload");
  auto second = reader.next();
  REQUIRE(second);
  CHECK(second->type == MessageType::kGetStatus);
  CHECK_FALSE(reader.next());
  CHECK(reader.error().empty());
}

TEST_CASE("a foreign stream or another protocol version is refused", "[protocol]") {
  MessageReader garbage;
  garbage.feed("GET / HTTP/1.1\r\n\r\n");
  CHECK_FALSE(garbage.next());
  CHECK(garbage.error() == "not a Bulwark control message (bad magic)");

  std::string wire = config::encode_message({MessageType::kGetStatus, ""});
  wire[4] = 9;  // version
  MessageReader other;
  other.feed(wire);
  CHECK_FALSE(other.next());
  CHECK(other.error().find("version 9 is not supported") != std::string::npos);

  std::string huge = config::encode_message({MessageType::kApply, ""});
  huge[8] = huge[9] = huge[10] = huge[11] = '\xff';
  MessageReader oversized;
  oversized.feed(huge);
  CHECK_FALSE(oversized.next());
  CHECK(oversized.error().find("exceeds the limit") != std::string::npos);
}

TEST_CASE("dataplane tables survive the encoding", "[protocol]") {
  config::Tables t = sample_tables();
  t.generation = 7;
  std::string error;
  auto back = config::decode_dataplane_tables(config::encode_dataplane_tables(t), error);
  INFO(error);
  REQUIRE(back);
  CHECK(back->generation == 7);
  REQUIRE(back->interfaces.size() == t.interfaces.size());
  for (size_t i = 0; i < t.interfaces.size(); ++i) {
    CHECK(back->interfaces[i].name == t.interfaces[i].name);
    CHECK(back->interfaces[i].port == t.interfaces[i].port);
    CHECK(back->interfaces[i].addresses.size() == t.interfaces[i].addresses.size());
    CHECK(back->interfaces[i].addresses[0].prefix == t.interfaces[i].addresses[0].prefix);
  }
  REQUIRE(back->routes.size() == t.routes.size());
  for (size_t i = 0; i < t.routes.size(); ++i) {
    CHECK(back->routes[i].network == t.routes[i].network);
    CHECK(back->routes[i].gateway == t.routes[i].gateway);
    CHECK(back->routes[i].kind == t.routes[i].kind);
    CHECK(back->routes[i].source.position == t.routes[i].source.position);
  }
  REQUIRE(back->proxy_arp.size() == 1);
  CHECK(back->proxy_arp[0].range.str() == "10.1.1.0/24");
  CHECK(back->extern_address == t.extern_address);
  CHECK(back->dataplane.worker_lcores == t.dataplane.worker_lcores);
  CHECK(back->dataplane.exception_namespace == t.dataplane.exception_namespace);
  CHECK(back->firewall.abort_on_reconfiguration);
  REQUIRE(back->firewall.incoming.rules.size() == 2);
  const auto& rule = back->firewall.incoming.rules[0];
  CHECK(rule.action == config::ActionKind::kRecord);
  CHECK(rule.record == 0);
  CHECK(rule.log);
  CHECK(rule.comment == "web");
  CHECK(rule.to.size() == 2);
  CHECK(rule.to_ports.size() == 2);
  CHECK(rule.to_ports[1] == config::PortRange{8000, 8080});
  CHECK(rule.interface == 1);
  CHECK(rule.source.position == t.firewall.incoming.rules[0].source.position);
  REQUIRE(back->firewall.records.size() == 1);
  CHECK_FALSE(back->firewall.records[0].initially_active);
  CHECK(back->firewall.records[0].rules.rules.at(0).action == config::ActionKind::kReject);
  CHECK(back->dataplane.timeouts.tcp_established == t.dataplane.timeouts.tcp_established);
}

TEST_CASE("truncated or corrupted table messages are refused, never trusted", "[protocol][robustness]") {
  std::string wire = config::encode_dataplane_tables(sample_tables());
  std::mt19937 random(11);
  for (size_t cut = 0; cut < wire.size(); ++cut) {
    std::string error;
    CHECK_FALSE(config::decode_dataplane_tables(wire.substr(0, cut), error));
    CHECK_FALSE(error.empty());
  }
  for (int i = 0; i < 2000; ++i) {
    std::string bad = wire;
    bad[std::uniform_int_distribution<size_t>(0, bad.size() - 1)(random)] = static_cast<char>(random());
    std::string error;
    auto t = config::decode_dataplane_tables(bad, error);
    if (!t) continue;
    // Whatever decodes must still be internally consistent.
    for (const auto& r : t->routes) CHECK(r.interface < t->interfaces.size());
    for (const auto& p : t->proxy_arp) CHECK(p.interface < t->interfaces.size());
    for (const auto& i : t->interfaces) {
      for (const auto& a : i.addresses) CHECK(a.prefix.length <= 32);
    }
  }
}

TEST_CASE("exception-path tap names fit the kernel's limit", "[protocol]") {
  CHECK(config::exception_tap_name("internal") == "bw-internal");
  CHECK(config::exception_tap_name("a-very-long-interface-name").size() == 15);
}
