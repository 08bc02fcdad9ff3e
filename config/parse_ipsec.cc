// Parser for `ipsec`: global options, certificates, connections and their tunnels.
#include <fmt/format.h>

#include "config/parse_sections.h"
#include "config/yaml_values.h"

namespace bulwark::config {
namespace {

std::optional<Certificate> parse_certificate(Reader& r, const YAML::Node& n,
                                             const std::string& path, bool machine) {
  Certificate c;
  MapReader m(r, n, path, c);
  bool ok = m.required("name", c.name, as_name);
  if (machine) {
    ok &= m.required("pkcs12", c.path, as_string, "the PKCS#12 file with certificate and key");
    SecretRef password;
    if (m.required("password", password, as_secret, "the PKCS#12 password, e.g. {file: …}")) {
      c.password = password;
    }
  } else {
    ok &= m.required("pem", c.path, as_string, "the PEM file of the certificate");
  }
  m.finish();
  if (!ok) return std::nullopt;
  return c;
}

std::optional<VpnNatMapping> parse_vpn_mapping(Reader& r, const YAML::Node& n,
                                               const std::string& path) {
  VpnNatMapping map;
  MapReader m(r, n, path, map);
  bool ok = m.required("real", map.real, as_address);
  // The manual sometimes writes the virtual network with its prefix ("172.16.1.0/24").
  Ipv4Prefix virtual_network;
  ok &= m.required("virtual", virtual_network, as_network);
  map.virtual_address = virtual_network.address;
  uint32_t prefix = virtual_network.length;
  m.optional("prefix", prefix, Integer{0, 32});
  map.prefix = static_cast<uint8_t>(prefix);
  if (ok && virtual_network.length != 32 && virtual_network.length != map.prefix) {
    r.diagnostics().error(map.at("prefix"),
                          fmt::format("prefix {} differs from the virtual network's /{}",
                                      map.prefix, virtual_network.length),
                          "give the length once");
  }
  m.optional("comment", map.comment, as_text);
  m.finish();
  if (!ok) return std::nullopt;
  return map;
}

void parse_local_nat(Reader& r, const YAML::Node& n, const std::string& path, LocalNat& out) {
  MapReader m(r, n, path, out);
  m.required("mode", out.mode,
             OneOf<LocalNat::Mode>{{"none", LocalNat::Mode::kNone},
                                   {"one_to_one", LocalNat::Mode::kOneToOne},
                                   {"masquerade", LocalNat::Mode::kMasquerade}});
  m.list("mappings", out.mappings, parse_vpn_mapping);
  m.optional("internal_network", out.internal_network, as_canonical_network);
  m.finish();
}

void parse_remote_nat(Reader& r, const YAML::Node& n, const std::string& path, RemoteNat& out) {
  MapReader m(r, n, path, out);
  m.required("mode", out.one_to_one, OneOf<bool>{{"none", false}, {"one_to_one", true}});
  m.optional("address", out.address, as_address);
  m.finish();
}

std::optional<Tunnel> parse_tunnel(Reader& r, const YAML::Node& n, const std::string& path) {
  Tunnel t;
  MapReader m(r, n, path, t);
  m.optional("type", t.transport, OneOf<bool>{{"tunnel", false}, {"transport", true}});
  m.optional("enabled", t.enabled, as_bool);
  Ipv4Prefix network;
  if (m.optional("local", network, as_canonical_network)) t.local = network;
  if (m.optional("remote", network, as_canonical_network)) t.remote = network;
  if (auto nat = m.take("local_nat")) parse_local_nat(r, *nat, join_path(path, "local_nat"), t.local_nat);
  if (auto nat = m.take("remote_nat")) {
    parse_remote_nat(r, *nat, join_path(path, "remote_nat"), t.remote_nat);
  }
  Ipv4Address vip;
  if (m.optional("virtual_ip", vip, as_address)) t.virtual_ip = vip;
  Ipv4Address client;
  if (m.optional("client", client, as_address)) t.client = client;
  m.optional("comment", t.comment, as_text);
  m.finish();
  return t;
}

void parse_authentication(Reader& r, const YAML::Node& n, const std::string& path,
                          VpnAuthentication& a) {
  MapReader m(r, n, path, a);
  m.required("method", a.x509, OneOf<bool>{{"psk", false}, {"x509", true}}, "psk or x509");
  SecretRef psk;
  if (m.optional("psk", psk, as_secret)) a.psk = psk;
  m.optional("local_certificate", a.local_certificate, as_name);
  m.optional("remote_certificate", a.remote_certificate, as_name);
  m.optional("remote_ca", a.remote_ca, as_name);
  m.optional("local_id", a.local_id, as_string);
  m.optional("remote_id", a.remote_id, as_string);
  m.finish();
}

std::optional<std::vector<std::string>> as_proposals(Reader& r, const YAML::Node& n,
                                                     const std::string& path) {
  auto names = as_name_list(r, n, path);
  if (!names) return std::nullopt;
  std::vector<std::string> out;
  for (auto& [name, origin] : *names) {
    // strongSwan proposal syntax: algorithms joined by '-', e.g. aes256-sha256-modp2048.
    if (name.find(' ') != std::string::npos || name.find('/') != std::string::npos) {
      r.diagnostics().error(origin, fmt::format("'{}' is not a proposal", name),
                            "write algorithms joined by '-', e.g. aes256-sha256-modp2048");
      return std::nullopt;
    }
    out.push_back(name);
  }
  return out;
}

void parse_ike(Reader& r, const YAML::Node& n, const std::string& path, IkeSettings& ike) {
  MapReader m(r, n, path, ike);
  uint32_t version = ike.version;
  m.optional("version", version, Integer{1, 2});
  ike.version = static_cast<uint8_t>(version);
  m.optional("mode", ike.aggressive, OneOf<bool>{{"main", false}, {"aggressive", true}});
  m.optional("proposals", ike.proposals, as_proposals);
  m.optional("lifetime", ike.lifetime, as_duration);
  m.optional("rekey_margin", ike.rekey_margin, as_duration);
  m.optional("rekey_fuzz", ike.rekey_fuzz, Integer{0, 1000});
  if (auto dpd = m.take("dpd")) {
    std::string dpd_path = join_path(path, "dpd");
    if (dpd->IsMap()) {
      Located section;
      MapReader d(r, *dpd, dpd_path, section);
      d.optional("delay", ike.dpd_delay, as_duration);
      d.optional("timeout", ike.dpd_timeout, as_duration);
      d.finish();
    } else if (auto on = as_bool(r, *dpd, dpd_path)) {
      ike.dpd = *on;
    }
  }
  m.finish();
}

void parse_esp(Reader& r, const YAML::Node& n, const std::string& path, EspSettings& esp) {
  MapReader m(r, n, path, esp);
  m.optional("proposals", esp.proposals, as_proposals);
  m.optional("lifetime", esp.lifetime, as_duration);
  m.optional("rekey_margin", esp.rekey_margin, as_duration);
  m.optional("pfs", esp.pfs, as_bool);
  m.optional("replay_window", esp.replay_window, Integer{0, 4096});
  m.finish();
}

std::optional<VpnConnection> parse_connection(Reader& r, const YAML::Node& n,
                                              const std::string& path) {
  VpnConnection c;
  MapReader m(r, n, path, c);
  bool ok = m.required("name", c.name, as_name);
  m.optional("enabled", c.enabled, as_bool);
  m.optional("initial_mode", c.initially_started,
             OneOf<bool>{{"started", true}, {"stopped", false}});
  ok &= m.required("remote_gateway", c.remote_gateway, as_string,
                   "the peer's address or host name, or %any to wait for any peer");
  m.optional("any_interface", c.any_interface, as_name);
  bool initiate = true;
  if (m.optional("startup", initiate, OneOf<bool>{{"initiate", true}, {"wait", false}})) {
    c.initiate = initiate;
  }
  if (auto control = m.take("controlled_by")) {
    c.controlled_by = parse_control(r, *control, join_path(path, "controlled_by"), false);
  }
  m.optional("deactivation_timeout", c.deactivation_timeout, as_duration);
  if (auto tcp = m.take("tcp_encapsulation")) {
    std::string tcp_path = join_path(path, "tcp_encapsulation");
    Located section;
    MapReader t(r, *tcp, tcp_path, section);
    c.tcp_encapsulation = true;
    t.optional("enabled", c.tcp_encapsulation, as_bool);
    uint32_t port = c.tcp_port;
    t.optional("port", port, Integer{1, 65535});
    c.tcp_port = static_cast<uint16_t>(port);
    t.finish();
  }
  m.optional("force_udp_encapsulation", c.force_udp_encapsulation, as_bool);
  if (auto auth = m.take("authentication")) {
    parse_authentication(r, *auth, join_path(path, "authentication"), c.authentication);
  } else if (m.ok()) {
    m.missing("authentication", "{method: psk, psk: {env: …}} or {method: x509, …}");
  }
  if (auto ike = m.take("ike")) parse_ike(r, *ike, join_path(path, "ike"), c.ike);
  if (auto esp = m.take("esp")) parse_esp(r, *esp, join_path(path, "esp"), c.esp);
  m.non_empty_list("tunnels", c.tunnels, parse_tunnel,
                   "at least one entry: {type: tunnel, local: …, remote: …}");
  c.firewall_incoming.policy = DefaultPolicy::kAccept;
  c.firewall_outgoing.policy = DefaultPolicy::kAccept;
  if (auto fw = m.take("firewall")) {
    std::string fw_path = join_path(path, "firewall");
    Located section;
    MapReader f(r, *fw, fw_path, section);
    if (auto l = f.take("incoming")) {
      c.firewall_incoming.policy = DefaultPolicy::kRules;
      parse_rule_list(r, *l, join_path(fw_path, "incoming"), RuleContext::kVpn, c.firewall_incoming);
    }
    if (auto l = f.take("outgoing")) {
      c.firewall_outgoing.policy = DefaultPolicy::kRules;
      parse_rule_list(r, *l, join_path(fw_path, "outgoing"), RuleContext::kVpn, c.firewall_outgoing);
    }
    f.finish();
  }
  m.optional("comment", c.comment, as_text);
  m.finish();
  if (!ok) return std::nullopt;
  return c;
}

}  // namespace

void parse_ipsec(Reader& r, const YAML::Node& n, IpsecSection& out) {
  MapReader m(r, n, "ipsec", out);
  m.optional("forward_between_connections", out.forward_between_connections, as_bool);
  m.optional("ike_fragmentation", out.ike_fragmentation, as_bool);
  uint32_t mtu = out.mtu;
  m.optional("mtu", mtu, Integer{576, 1500});
  out.mtu = static_cast<uint16_t>(mtu);
  if (auto tcp = m.take("tcp_encapsulation")) {
    Located section;
    MapReader t(r, *tcp, "ipsec.tcp_encapsulation", section);
    t.optional("listen", out.tcp_listen, as_bool);
    uint32_t port = out.tcp_listen_port;
    t.optional("port", port, Integer{1, 65535});
    out.tcp_listen_port = static_cast<uint16_t>(port);
    t.finish();
  }
  if (auto certs = m.take("certificates")) {
    Located section;
    MapReader c(r, *certs, "ipsec.certificates", section);
    c.list("machine", out.machine_certificates, [](Reader& r, const YAML::Node& n, const std::string& p) {
      return parse_certificate(r, n, p, true);
    });
    c.list("ca", out.ca_certificates, [](Reader& r, const YAML::Node& n, const std::string& p) {
      return parse_certificate(r, n, p, false);
    });
    c.list("remote", out.remote_certificates, [](Reader& r, const YAML::Node& n, const std::string& p) {
      return parse_certificate(r, n, p, false);
    });
    c.finish();
  }
  m.list("connections", out.connections, parse_connection);
  m.finish();
}

}  // namespace bulwark::config
