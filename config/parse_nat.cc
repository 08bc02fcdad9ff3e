// Parser for `nat`: 1:1 NAT, masquerading and IP/port forwarding.
#include <fmt/format.h>

#include "config/parse_sections.h"
#include "config/yaml_values.h"

namespace bulwark::config {
namespace {

std::optional<OneToOneNat> parse_one_to_one(Reader& r, const YAML::Node& n,
                                            const std::string& path) {
  OneToOneNat rule;
  MapReader m(r, n, path, rule);
  bool ok = m.required("real", rule.real, as_address, "the real network's address, e.g. 192.168.1.0");
  ok &= m.required("virtual", rule.virtual_address, as_address,
                   "the virtual network's address, e.g. 10.1.1.0");
  uint32_t prefix = rule.prefix;
  m.optional("prefix", prefix, Integer{0, 32});
  rule.prefix = static_cast<uint8_t>(prefix);
  ok &= m.required("interface", rule.interface, as_name,
                   "the interface on which the virtual network lives, usually external");
  m.optional("comment", rule.comment, as_text);
  m.finish();
  if (!ok) return std::nullopt;
  return rule;
}

std::optional<Masquerade> parse_masquerade(Reader& r, const YAML::Node& n, const std::string& path) {
  Masquerade rule;
  MapReader m(r, n, path, rule);
  bool ok = m.required("interface", rule.interface, as_name, "the outgoing interface, e.g. external");
  rule.from = {Ipv4Prefix{}};
  m.optional("from", rule.from, as_network_list);
  m.optional("comment", rule.comment, as_text);
  m.finish();
  if (!ok) return std::nullopt;
  return rule;
}

std::optional<PortForward> parse_port_forward(Reader& r, const YAML::Node& n,
                                              const std::string& path) {
  PortForward rule;
  MapReader m(r, n, path, rule);
  Protocol protocol;
  bool ok = m.required("protocol", protocol, as_protocol, "tcp, udp or gre");
  if (ok) {
    if (protocol != kProtoTcp && protocol != kProtoUdp && protocol != kProtoGre) {
      r.diagnostics().error(rule.at("protocol"),
                            "IP and port forwarding works only for TCP, UDP and GRE",
                            "ICMP cannot be forwarded (a ping reaches the box itself); use 1:1 NAT "
                            "to make a host reachable with every protocol");
      ok = false;
    } else {
      rule.protocol = *protocol;
    }
  }
  m.optional("from_ip", rule.from_ip, as_network);
  PortRange port;
  if (m.optional("from_port", port, as_port) && !port.is_any()) rule.from_port = port;
  std::string incoming;
  if (m.optional("incoming_ip", incoming, as_string) && incoming != "%extern") {
    if (auto address = Ipv4Address::parse(incoming)) {
      rule.incoming_ip = address;
    } else {
      r.diagnostics().error(rule.at("incoming_ip"),
                            fmt::format("'{}' is neither %extern nor an address", incoming),
                            "%extern is the first address of the external interface");
      ok = false;
    }
  }
  if (m.optional("incoming_port", port, as_port)) rule.incoming_port = port;
  ok &= m.required("redirect_ip", rule.redirect_ip, as_address, "the internal host, e.g. 192.168.1.10");
  if (m.optional("redirect_port", port, as_single_port)) rule.redirect_port = port;
  m.optional("log", rule.log, as_bool);
  m.optional("comment", rule.comment, as_text);
  m.finish();
  if (!ok) return std::nullopt;
  return rule;
}

}  // namespace

void parse_nat(Reader& r, const YAML::Node& n, NatSection& out) {
  MapReader m(r, n, "nat", out);
  m.list("one_to_one", out.one_to_one, parse_one_to_one);
  m.list("masquerade", out.masquerade, parse_masquerade);
  m.list("port_forwarding", out.port_forwarding, parse_port_forward);
  m.optional("mapping", out.mapping,
             OneOf<MappingBehaviour>{
                 {"address_and_port_dependent", MappingBehaviour::kAddressAndPortDependent},
                 {"endpoint_independent", MappingBehaviour::kEndpointIndependent}});
  m.optional("port_range", out.port_range, as_port);
  m.finish();
}

}  // namespace bulwark::config
