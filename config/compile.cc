// The compiler: a validated Model becomes the Tables both processes consume. It runs only on a
// model without errors, so it can rely on every reference being resolvable.
#include <algorithm>

#include <fmt/format.h>

#include "config/config.h"
#include "config/resolve.h"

namespace bulwark::config {
namespace {

SourceRef source_of(const Origin& o) { return {o.position(), o.path}; }

template <class T>
uint16_t index_of(const std::vector<T>& items, const std::string& name) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].name == name) return static_cast<uint16_t>(i);
  }
  return kNoIndex;
}

class Compiler {
 public:
  Compiler(const Model& model, Tables& out) : m_(model), t_(out) {}

  void run() {
    t_.hostname = m_.system.hostname;
    t_.dataplane = m_.dataplane;
    t_.smtp = m_.system.smtp;
    t_.syslog = m_.system.syslog;
    t_.log_file = m_.system.log_file;
    compile_interfaces();
    compile_routes();
    for (size_t i = 0; i < m_.switches.size(); ++i) {
      t_.switches.push_back({static_cast<uint16_t>(i), m_.switches[i].name, m_.switches[i].initial_on});
    }
    compile_firewall();
    compile_user_firewall();
    t_.management = {m_.management.https.port, m_.management.https.certificate,
                     m_.management.https.private_key, {}, m_.management.metrics.port};
    for (const auto& name : m_.management.metrics.interfaces) {
      t_.management.metrics_interfaces.push_back(interface_index(name));
    }
    compile_nat();
    compile_ipsec();
    compile_cifs();
    compile_proxy_arp();
  }

 private:
  uint16_t interface_index(const std::string& name) const { return index_of(m_.interfaces, name); }

  uint16_t first_external() const {
    for (const auto& i : t_.interfaces) {
      if (i.role == Role::kExternal) return i.index;
    }
    return kNoIndex;
  }

  // The interface whose network contains `address`, or kNoIndex.
  uint16_t interface_for(Ipv4Address address) const {
    for (const auto& i : t_.interfaces) {
      for (const auto& a : i.addresses) {
        if (a.prefix.contains(address)) return i.index;
      }
    }
    return kNoIndex;
  }

  void compile_interfaces() {
    for (size_t n = 0; n < m_.interfaces.size(); ++n) {
      const Interface& i = m_.interfaces[n];
      InterfaceEntry e{static_cast<uint16_t>(n), i.name, i.role, i.port, i.mac, i.mtu, {}, i.dhcp};
      for (const auto& a : i.addresses) e.addresses.push_back({a.prefix, a.vlan.value_or(0)});
      if (i.role == Role::kExternal && !t_.extern_address && !e.addresses.empty()) {
        t_.extern_address = e.addresses.front().prefix.address;
      }
      t_.interfaces.push_back(std::move(e));
    }
  }

  void compile_routes() {
    for (const auto& i : m_.interfaces) {
      uint16_t index = interface_index(i.name);
      for (const auto& a : i.addresses) {
        t_.routes.push_back({a.prefix.canonical(), {}, index, a.vlan.value_or(0),
                             RouteKind::kConnected, source_of(a.origin)});
      }
    }
    for (const auto& i : m_.interfaces) {
      for (const auto& r : i.routes) {
        uint16_t vlan = 0;
        for (const auto& a : i.addresses) {
          if (a.prefix.contains(r.gateway)) vlan = a.vlan.value_or(0);
        }
        t_.routes.push_back({r.network, r.gateway, interface_index(i.name), vlan,
                             RouteKind::kAdditional, source_of(r.origin)});
      }
    }
    if (m_.default_gateway) {
      uint16_t iface = interface_for(*m_.default_gateway);
      uint16_t vlan = 0;
      for (const auto& a : t_.interfaces[iface].addresses) {
        if (a.prefix.contains(*m_.default_gateway)) vlan = a.vlan;
      }
      t_.routes.push_back({Ipv4Prefix{}, *m_.default_gateway, iface, vlan, RouteKind::kDefault,
                           source_of(m_.default_gateway_origin)});
    }
    // Longest prefix first: the order a reader expects and the LPM builder does not care about.
    std::stable_sort(t_.routes.begin(), t_.routes.end(), [](const RouteEntry& a, const RouteEntry& b) {
      return a.network.length > b.network.length;
    });
  }

  RuleEntry compile_rule(const Rule& r, uint16_t position) {
    const FirewallSection& fw = m_.firewall;
    RuleEntry e;
    e.id = next_rule_id_++;
    e.position = position;
    if (r.interface) e.interface = interface_index(*r.interface);
    e.protocol = r.protocol;
    e.from = resolve_addresses(r.from, fw);
    e.to = resolve_addresses(r.to, fw);
    if (r.protocol == kProtoTcp || r.protocol == kProtoUdp) {
      e.from_ports = resolve_ports(r.from_port, fw);
      e.to_ports = resolve_ports(r.to_port, fw);
    }
    if (const auto* record = std::get_if<std::string>(&r.action)) {
      e.action = ActionKind::kRecord;
      e.record = index_of(fw.rule_records, *record);
    } else {
      switch (std::get<Verdict>(r.action)) {
        case Verdict::kAccept: e.action = ActionKind::kAccept; break;
        case Verdict::kDrop: e.action = ActionKind::kDrop; break;
        case Verdict::kReject: e.action = ActionKind::kReject; break;
      }
    }
    e.log = r.log;
    e.comment = r.comment;
    e.source = source_of(r.origin);
    return e;
  }

  RuleListEntry compile_list(RuleListKind kind, DefaultPolicy policy, const std::vector<Rule>& rules) {
    RuleListEntry list{kind, policy, {}};
    for (size_t i = 0; i < rules.size(); ++i) {
      list.rules.push_back(compile_rule(rules[i], static_cast<uint16_t>(i + 1)));
    }
    return list;
  }

  void compile_firewall() {
    const FirewallSection& fw = m_.firewall;
    FirewallTables& out = t_.firewall;
    out.abort_on_reconfiguration = fw.abort_on_reconfiguration;
    out.incoming = compile_list(RuleListKind::kIncoming, fw.incoming.policy, fw.incoming.rules);
    out.outgoing = compile_list(RuleListKind::kOutgoing, fw.outgoing.policy, fw.outgoing.rules);
    out.dmz = compile_list(RuleListKind::kDmz, fw.dmz.policy, fw.dmz.rules);
    for (size_t i = 0; i < fw.rule_records.size(); ++i) {
      const RuleRecord& r = fw.rule_records[i];
      RuleRecordEntry e;
      e.index = static_cast<uint16_t>(i);
      e.name = r.name;
      e.initially_active = r.initially_active;
      e.deactivation_timeout = r.deactivation_timeout;
      if (r.controlled_by) {
        bool by_switch = r.controlled_by->kind == Control::Kind::kSwitch;
        e.control = by_switch ? ControlKind::kSwitch : ControlKind::kVpn;
        e.control_index = by_switch ? index_of(m_.switches, r.controlled_by->name)
                                    : index_of(m_.ipsec.connections, r.controlled_by->name);
      }
      e.rules = compile_list(RuleListKind::kRecord, DefaultPolicy::kRules, r.rules);
      e.source = source_of(r.origin);
      out.records.push_back(std::move(e));
    }
  }

  void compile_user_firewall() {
    const UserFirewallSection& uf = m_.user_firewall;
    UserFirewallTables& out = t_.user_firewall;
    out.enabled = uf.enabled;
    for (const auto& name : uf.login_interfaces) out.login_interfaces.push_back(interface_index(name));
    for (const auto& u : uf.users) out.users.push_back({u.name, u.authentication, u.password_hash});
    for (const auto& r : uf.radius_servers) {
      out.radius_servers.push_back(
          {r.address, r.port, r.secret.value_or(SecretRef{}), r.timeout, r.require_message_authenticator});
    }
    for (const auto& t : uf.templates) {
      UserTemplateEntry e;
      e.name = t.name;
      e.timeout = t.timeout;
      e.dynamic_timeout = t.dynamic_timeout;
      if (t.vpn_connection) e.vpn_connection = index_of(m_.ipsec.connections, *t.vpn_connection);
      e.users = t.users;
      e.source_ip = t.source_ip;
      e.rules = compile_list(RuleListKind::kUser, DefaultPolicy::kRules, t.rules);
      out.templates.push_back(std::move(e));
    }
  }

  void compile_nat() {
    const NatSection& nat = m_.nat;
    NatTables& out = t_.nat;
    out.mapping = nat.mapping;
    out.port_range = nat.port_range;
    for (const auto& r : nat.one_to_one) {
      out.one_to_one.push_back({Ipv4Prefix{r.real, r.prefix}, Ipv4Prefix{r.virtual_address, r.prefix},
                                interface_index(r.interface), source_of(r.origin)});
    }
    for (const auto& r : nat.masquerade) {
      MasqueradeEntry e;
      e.interface = interface_index(r.interface);
      // An interface waiting for its DHCP lease has no address yet: 0.0.0.0, which nat::Rules skips.
      const auto& addresses = t_.interfaces[e.interface].addresses;
      e.address = addresses.empty() ? Ipv4Address{} : addresses.front().prefix.address;
      for (const auto& p : r.from) e.from.push_back(p.canonical());
      e.source = source_of(r.origin);
      out.masquerade.push_back(std::move(e));
    }
    for (const auto& r : nat.port_forwarding) {
      PortForwardEntry e;
      e.protocol = r.protocol;
      e.from = r.from_ip.canonical();
      e.from_port = r.from_port.value_or(PortRange{});
      e.incoming_ip = r.incoming_ip.value_or(t_.extern_address.value_or(Ipv4Address{}));
      e.interface = interface_for(e.incoming_ip);
      if (e.interface == kNoIndex) e.interface = first_external();  // %extern still waiting for its DHCP lease
      if (r.protocol != kProtoGre) {
        e.incoming_port = r.incoming_port.value_or(PortRange{});
        e.redirect_port = r.redirect_port.value_or(e.incoming_port);
      }
      e.redirect_ip = r.redirect_ip;
      e.log = r.log;
      e.source = source_of(r.origin);
      out.port_forwarding.push_back(std::move(e));
    }
  }

  static std::vector<CertificateEntry> certificates(const std::vector<Certificate>& in) {
    std::vector<CertificateEntry> out;
    for (const auto& c : in) out.push_back({c.name, c.path, c.password});
    return out;
  }

  void compile_ipsec() {
    const IpsecSection& ipsec = m_.ipsec;
    IpsecTables& out = t_.ipsec;
    out.forward_between_connections = ipsec.forward_between_connections;
    out.ike_fragmentation = ipsec.ike_fragmentation;
    out.mtu = ipsec.mtu;
    out.tcp_listen = ipsec.tcp_listen;
    out.tcp_listen_port = ipsec.tcp_listen_port;
    out.machine_certificates = certificates(ipsec.machine_certificates);
    out.ca_certificates = certificates(ipsec.ca_certificates);
    out.remote_certificates = certificates(ipsec.remote_certificates);
    for (size_t i = 0; i < ipsec.connections.size(); ++i) {
      const VpnConnection& c = ipsec.connections[i];
      if (!c.enabled) continue;
      VpnConnectionEntry e;
      e.index = static_cast<uint16_t>(out.connections.size());
      e.name = c.name;
      e.initially_started = c.initially_started;
      e.remote_gateway = c.remote_gateway;
      e.initiate = c.initiates();
      e.interface = ike_interface(c);
      if (c.controlled_by) e.controlling_switch = index_of(m_.switches, c.controlled_by->name);
      e.deactivation_timeout = c.deactivation_timeout;
      e.tcp_encapsulation = c.tcp_encapsulation;
      e.tcp_port = c.tcp_port;
      e.force_udp_encapsulation = c.force_udp_encapsulation;
      const VpnAuthentication& a = c.authentication;
      e.x509 = a.x509;
      e.psk = a.psk;
      e.local_certificate = index_of(ipsec.machine_certificates, a.local_certificate);
      e.remote_certificate = index_of(ipsec.remote_certificates, a.remote_certificate);
      e.remote_ca = index_of(ipsec.ca_certificates, a.remote_ca);
      e.local_id = a.local_id;
      e.remote_id = a.remote_id;
      e.ike = c.ike;
      e.esp = c.esp;
      for (const auto& t : c.tunnels) {
        if (t.enabled) e.tunnels.push_back(compile_tunnel(t, e.interface));
      }
      e.firewall_incoming =
          compile_list(RuleListKind::kVpnIn, c.firewall_incoming.policy, c.firewall_incoming.rules);
      e.firewall_outgoing =
          compile_list(RuleListKind::kVpnOut, c.firewall_outgoing.policy, c.firewall_outgoing.rules);
      e.source = source_of(c.origin);
      out.connections.push_back(std::move(e));
    }
  }

  uint16_t ike_interface(const VpnConnection& c) const {
    if (!c.any_interface.empty()) return interface_index(c.any_interface);
    if (auto peer = Ipv4Address::parse(c.remote_gateway)) {
      uint16_t direct = interface_for(*peer);
      if (direct != kNoIndex) return direct;
    }
    for (const auto& i : t_.interfaces) {
      if (i.role == Role::kExternal) return i.index;
    }
    return 0;
  }

  TunnelEntry compile_tunnel(const Tunnel& t, uint16_t interface) {
    TunnelEntry e;
    e.transport = t.transport;
    e.source = source_of(t.origin);
    if (t.transport) return e;
    e.local = *t.local;
    e.remote = *t.remote;
    e.local_nat = t.local_nat.mode;
    for (const auto& m : t.local_nat.mappings) {
      e.local_nat_map.push_back({Ipv4Prefix{m.real, m.prefix}, Ipv4Prefix{m.virtual_address, m.prefix},
                                 interface, source_of(m.origin)});
    }
    e.masquerade_internal = t.local_nat.internal_network;
    if (t.remote_nat.one_to_one) e.remote_nat = Ipv4Prefix{t.remote_nat.address, t.remote->length};
    e.virtual_ip = t.virtual_ip;
    if (t.virtual_ip && t.client) {  // manual 12.4: the client's address <-> the virtual IP
      e.local_nat = LocalNat::Mode::kOneToOne;
      e.local_nat_map.push_back({Ipv4Prefix{*t.client, 32}, Ipv4Prefix{*t.virtual_ip, 32}, interface,
                                 source_of(t.origin)});
    }
    return e;
  }

  void compile_cifs() {
    const CifsSection& cifs = m_.cifs;
    CifsTables& out = t_.cifs;
    out.integrity_certificate = index_of(m_.ipsec.machine_certificates, cifs.integrity_certificate);
    out.notify_email = cifs.notify_email;
    out.subject_prefix = cifs.subject_prefix;
    out.send = cifs.send;
    for (const auto& s : cifs.shares) {
      out.shares.push_back({s.name, s.server, s.share, s.port, s.username, s.password, s.domain});
    }
    for (const auto& c : cifs.checks) {
      CifsJobEntry job;
      job.name = c.name;
      job.share = index_of(cifs.shares, c.share);
      job.checksum_share = index_of(cifs.shares, c.checksum_share);
      job.pattern_set = c.patterns;
      job.patterns = cifs.pattern_sets[index_of(cifs.pattern_sets, c.patterns)].patterns;
      job.schedule = c.schedule;
      job.enabled = c.enabled;
      out.jobs.push_back(std::move(job));
    }
  }

  // The addresses the box answers ARP for on behalf of others: 1:1 NAT virtual networks and
  // remote 1:1 NAT networks of tunnels (on the interface whose network contains them).
  void compile_proxy_arp() {
    for (const auto& n : t_.nat.one_to_one) {
      t_.proxy_arp.push_back({n.virtual_network, n.interface, ProxyArpReason::kOneToOneNat, n.source});
    }
    for (const auto& c : t_.ipsec.connections) {
      for (const auto& t : c.tunnels) {
        if (t.remote_nat) {
          uint16_t iface = interface_for(t.remote_nat->address);
          if (iface != kNoIndex) {
            t_.proxy_arp.push_back({*t.remote_nat, iface, ProxyArpReason::kVpnRemoteNat, t.source});
          }
        }
      }
    }
  }

  const Model& m_;
  Tables& t_;
  uint32_t next_rule_id_ = 1;
};

}  // namespace

Tables compile(const Model& model, uint64_t generation) {
  Tables tables;
  tables.generation = generation;
  Compiler(model, tables).run();
  return tables;
}

}  // namespace bulwark::config
