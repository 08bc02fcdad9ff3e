// Parsers for `system`, `dataplane`, `interfaces` and `switches`.
#include <fmt/format.h>

#include "config/parse_sections.h"
#include "config/yaml_values.h"

namespace bulwark::config {
namespace {

std::optional<SyslogServer> parse_syslog(Reader& r, const YAML::Node& n, const std::string& path) {
  SyslogServer s;
  MapReader m(r, n, path, s);
  m.required("address", s.address, as_address);
  uint32_t port = s.port;
  m.optional("port", port, Integer{1, 65535});
  s.port = static_cast<uint16_t>(port);
  m.finish();
  return s;
}

void parse_smtp(Reader& r, const YAML::Node& n, const std::string& path, SmtpServer& s) {
  MapReader m(r, n, path, s);
  m.required("server", s.server, as_string, "the host name or address of the mail server");
  uint32_t port = s.port;
  m.optional("port", port, Integer{1, 65535});
  s.port = static_cast<uint16_t>(port);
  m.required("from", s.from, as_string, "the sender address of notifications");
  m.optional("username", s.username, as_string);
  SecretRef password;
  if (m.optional("password", password, as_secret)) s.password = password;
  m.optional("starttls", s.starttls, as_bool);
  m.finish();
}

void parse_timeouts(Reader& r, const YAML::Node& n, const std::string& path, ConntrackTimeouts& t) {
  MapReader m(r, n, path, t);
  m.optional("tcp_syn_sent", t.tcp_syn_sent, as_duration);
  m.optional("tcp_syn_recv", t.tcp_syn_recv, as_duration);
  m.optional("tcp_established", t.tcp_established, as_duration);
  m.optional("tcp_fin_wait", t.tcp_fin_wait, as_duration);
  m.optional("tcp_close_wait", t.tcp_close_wait, as_duration);
  m.optional("tcp_last_ack", t.tcp_last_ack, as_duration);
  m.optional("tcp_time_wait", t.tcp_time_wait, as_duration);
  m.optional("tcp_close", t.tcp_close, as_duration);
  m.optional("udp_unreplied", t.udp_unreplied, as_duration);
  m.optional("udp_assured", t.udp_assured, as_duration);
  m.optional("icmp", t.icmp, as_duration);
  m.optional("generic", t.generic, as_duration);
  m.finish();
}

std::optional<InterfaceAddress> parse_interface_address(Reader& r, const YAML::Node& n,
                                                        const std::string& path) {
  InterfaceAddress a;
  if (n.IsScalar()) {
    a.origin = r.origin(n, path);
    auto prefix = as_interface_address(r, n, path);
    if (!prefix) return std::nullopt;
    a.prefix = *prefix;
    return a;
  }
  MapReader m(r, n, path, a);
  bool ok = m.required("address", a.prefix, as_interface_address,
                       "e.g. address: 10.0.5.1/24");
  uint32_t vlan = 0;
  if (m.optional("vlan", vlan, Integer{1, 4094})) a.vlan = static_cast<uint16_t>(vlan);
  m.finish();
  if (!ok) return std::nullopt;
  return a;
}

std::optional<Route> parse_route(Reader& r, const YAML::Node& n, const std::string& path) {
  Route route;
  MapReader m(r, n, path, route);
  bool ok = m.required("network", route.network, as_canonical_network, "e.g. 192.168.1.0/24");
  ok &= m.required("gateway", route.gateway, as_address, "the next router, e.g. 10.1.0.1");
  m.optional("comment", route.comment, as_text);
  m.finish();
  if (!ok) return std::nullopt;
  return route;
}

std::optional<Interface> parse_interface(Reader& r, const YAML::Node& n, const std::string& path) {
  Interface i;
  MapReader m(r, n, path, i);
  bool ok = m.required("name", i.name, as_name, "e.g. name: internal");
  ok &= m.required("role", i.role,
                   OneOf<Role>{{"internal", Role::kInternal},
                               {"external", Role::kExternal},
                               {"dmz", Role::kDmz}},
                   "internal, external or dmz");
  ok &= m.required("port", i.port, as_string,
                   "a PCI address (0000:03:00.0) or a DPDK vdev (net_af_packet0,iface=eth1)");
  MacAddress mac;
  if (m.optional("mac", mac, as_mac)) i.mac = mac;
  uint32_t mtu = i.mtu;
  m.optional("mtu", mtu, Integer{576, 9000});
  i.mtu = static_cast<uint16_t>(mtu);
  m.optional("dhcp", i.dhcp, as_bool);
  if (i.dhcp) {
    if (auto given = m.take("addresses")) {
      r.error(*given, path + ".addresses", "an interface with dhcp: true gets its address from the DHCP server",
              "remove addresses, or remove dhcp to give the addresses yourself");
    }
  } else {
    m.non_empty_list("addresses", i.addresses, parse_interface_address,
                     "every interface needs at least one address, e.g. [192.168.1.1/24], or dhcp: true");
  }
  m.list("routes", i.routes, parse_route);
  m.optional("comment", i.comment, as_text);
  m.finish();
  if (!ok) return std::nullopt;
  return i;
}

}  // namespace

void parse_system(Reader& r, const YAML::Node& n, SystemSection& out) {
  MapReader m(r, n, "system", out);
  m.optional("hostname", out.hostname, as_name);
  m.list("syslog", out.syslog, parse_syslog);
  m.optional("log_file", out.log_file, as_string);
  if (auto smtp = m.take("smtp")) {
    out.smtp.emplace();
    parse_smtp(r, *smtp, "system.smtp", *out.smtp);
  }
  m.finish();
}

void parse_dataplane(Reader& r, const YAML::Node& n, DataplaneSection& out) {
  MapReader m(r, n, "dataplane", out);
  m.optional("main_lcore", out.main_lcore, Integer{0, 1023});
  if (auto workers = m.take("worker_lcores")) {
    out.worker_lcores.clear();
    m.read_sequence(*workers, "dataplane.worker_lcores", out.worker_lcores, Integer{0, 1023});
  }
  m.optional("memory_mb", out.memory_mb, Integer{64, 1048576});
  m.optional("hugepages", out.hugepages, as_bool);
  m.optional("mbufs", out.mbufs, Integer{1023, 16777215});
  m.optional("file_prefix", out.file_prefix, as_name);
  m.optional("control_socket", out.control_socket, as_string);
  m.optional("exception_namespace", out.exception_namespace, as_name);
  if (auto ct = m.take("conntrack")) {
    Located section;
    MapReader c(r, *ct, "dataplane.conntrack", section);
    c.optional("max_connections", out.max_connections, Integer{1024, 67108864});
    if (auto t = c.take("timeouts")) parse_timeouts(r, *t, "dataplane.conntrack.timeouts", out.timeouts);
    c.finish();
  }
  if (auto arp = m.take("arp")) {
    Located section;
    MapReader a(r, *arp, "dataplane.arp", section);
    a.optional("max_entries", out.arp_max_entries, Integer{16, 1048576});
    a.optional("timeout", out.arp_timeout, as_duration);
    a.finish();
  }
  std::string ipv6;
  m.optional("ipv6", ipv6, OneOf<std::string>{{"drop", "drop"}});
  m.finish();
}

bool parse_interfaces(Reader& r, const YAML::Node& n, std::vector<Interface>& out) {
  if (!n.IsSequence()) {
    r.error(n, "interfaces", "expected a list of interfaces",
            "write one '- name: …' entry per dataplane port");
    return false;
  }
  bool complete = true;
  for (size_t i = 0; i < n.size(); ++i) {
    if (auto iface = parse_interface(r, n[i], index_path("interfaces", i + 1))) {
      out.push_back(std::move(*iface));
    } else {
      complete = false;
    }
  }
  return complete;
}

void parse_switches(Reader& r, const YAML::Node& n, std::vector<Switch>& out) {
  if (!n.IsSequence()) {
    r.error(n, "switches", "expected a list of switches", "e.g. - {name: CMD1, initial: off}");
    return;
  }
  for (size_t i = 0; i < n.size(); ++i) {
    Switch s;
    std::string path = index_path("switches", i + 1);
    MapReader m(r, n[i], path, s);
    bool ok = m.required("name", s.name, as_name);
    m.optional("initial", s.initial_on, OneOf<bool>{{"on", true}, {"off", false}});
    m.optional("comment", s.comment, as_text);
    m.finish();
    if (ok) out.push_back(std::move(s));
  }
}

}  // namespace bulwark::config
