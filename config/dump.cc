#include "config/dump.h"

#include <fmt/format.h>

namespace bulwark::config {
namespace {

const char* role_name(Role r) {
  switch (r) {
    case Role::kInternal: return "internal";
    case Role::kExternal: return "external";
    case Role::kDmz: return "dmz";
  }
  return "?";
}

const char* policy_name(DefaultPolicy p) {
  switch (p) {
    case DefaultPolicy::kAccept: return "accept all";
    case DefaultPolicy::kDrop: return "drop all";
    case DefaultPolicy::kRules: return "use rules, drop the rest";
  }
  return "?";
}

std::string protocol_name(std::optional<uint8_t> p) {
  if (!p) return "all";
  switch (*p) {
    case kProtoIcmp: return "icmp";
    case kProtoTcp: return "tcp";
    case kProtoUdp: return "udp";
    case kProtoGre: return "gre";
    case kProtoEsp: return "esp";
    case kProtoAh: return "ah";
    default: return fmt::format("{}", *p);
  }
}

template <class T>
std::string list_or_any(const std::vector<T>& values) {
  if (values.empty()) return "any";
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : ",") + v.str();
  return out;
}

std::string secret(const std::optional<SecretRef>& s) { return s ? "<" + s->str() + ">" : "-"; }

class Dumper {
 public:
  explicit Dumper(const Tables& t) : t_(t) {}

  std::string run() {
    line("generation {}  hostname {}", t_.generation, t_.hostname);
    interfaces();
    routes();
    proxy_arp();
    switches();
    firewall();
    nat();
    user_firewall();
    ipsec();
    cifs();
    return out_;
  }

 private:
  template <class... Args>
  void line(fmt::format_string<Args...> f, Args&&... args) {
    out_ += fmt::format(f, std::forward<Args>(args)...);
    out_ += '\n';
  }

  std::string iface(uint16_t index) const {
    return index < t_.interfaces.size() ? t_.interfaces[index].name : "any";
  }

  void interfaces() {
    line("\ninterfaces ({}):", t_.interfaces.size());
    for (const auto& i : t_.interfaces) {
      line("  [{}] {:<12} {:<9} port {}  mtu {}{}", i.index, i.name, role_name(i.role), i.port, i.mtu,
           i.mac ? "  mac " + i.mac->str() : "");
      for (const auto& a : i.addresses) {
        line("        {}{}", a.prefix.str(), a.vlan ? fmt::format("  vlan {}", a.vlan) : "");
      }
    }
    if (t_.extern_address) line("  %extern = {}", t_.extern_address->str());
  }

  void routes() {
    line("\nroutes ({}):", t_.routes.size());
    for (const auto& r : t_.routes) {
      const char* kind = r.kind == RouteKind::kConnected ? "connected"
                         : r.kind == RouteKind::kDefault ? "default"
                                                         : "additional";
      line("  {:<18} {:<15} dev {}{}  {:<10}  {}", r.network.str(),
           r.kind == RouteKind::kConnected ? "-" : "via " + r.gateway.str(), iface(r.interface),
           r.vlan ? fmt::format(".{}", r.vlan) : "", kind, r.source.position);
    }
  }

  void proxy_arp() {
    line("\nproxy ARP ({}):", t_.proxy_arp.size());
    for (const auto& p : t_.proxy_arp) {
      const char* why = p.reason == ProxyArpReason::kOneToOneNat ? "1:1 NAT" : "VPN remote 1:1 NAT";
      line("  {:<18} on {:<10} {}", p.range.str(), iface(p.interface), why);
    }
  }

  void switches() {
    if (t_.switches.empty()) return;
    line("\nswitches:");
    for (const auto& s : t_.switches) line("  [{}] {} initially {}", s.index, s.name, s.initial_on ? "on" : "off");
  }

  void rules(const RuleListEntry& list, const char* indent) {
    for (const auto& r : list.rules) {
      std::string action;
      switch (r.action) {
        case ActionKind::kAccept: action = "accept"; break;
        case ActionKind::kDrop: action = "drop"; break;
        case ActionKind::kReject: action = "reject"; break;
        case ActionKind::kRecord: action = "record " + t_.firewall.records[r.record].name; break;
      }
      line("{}{:>3}. #{:<4} {:<6} {:<8} {}:{} -> {}:{}  {}{}{}  ({})", indent, r.position, r.id,
           protocol_name(r.protocol), r.interface == kNoIndex ? "" : iface(r.interface),
           list_or_any(r.from), list_or_any(r.from_ports), list_or_any(r.to), list_or_any(r.to_ports),
           action, r.log ? " log" : "", r.comment.empty() ? "" : "  # " + r.comment, r.source.position);
    }
  }

  void firewall() {
    const FirewallTables& fw = t_.firewall;
    line("\nfirewall (abort existing connections on reconfiguration: {}):",
         fw.abort_on_reconfiguration ? "yes" : "no");
    for (const auto* list : {&fw.incoming, &fw.outgoing, &fw.dmz}) {
      const char* name = list == &fw.incoming ? "incoming" : list == &fw.outgoing ? "outgoing" : "dmz";
      line("  {}: {}", name, policy_name(list->policy));
      rules(*list, "    ");
    }
    for (const auto& r : fw.records) {
      std::string control = r.control == ControlKind::kSwitch ? " switch " + t_.switches[r.control_index].name
                            : r.control == ControlKind::kVpn
                                ? " vpn " + t_.ipsec.connections[r.control_index].name
                                : "";
      line("  record [{}] {}: initially {}, deactivation after {} s{}", r.index, r.name,
           r.initially_active ? "active" : "inactive", r.deactivation_timeout, control);
      rules(r.rules, "    ");
    }
  }

  void nat() {
    const NatTables& n = t_.nat;
    line("\nNAT (masquerading pool {}, mapping {}):", n.port_range.str(),
         n.mapping == MappingBehaviour::kEndpointIndependent ? "endpoint-independent"
                                                             : "address-and-port-dependent");
    for (const auto& o : n.one_to_one) {
      line("  1:1        {:<18} <-> {:<18} on {}", o.real.str(), o.virtual_network.str(), iface(o.interface));
    }
    for (const auto& m : n.masquerade) {
      line("  masquerade {} -> {} out {}", list_or_any(m.from), m.address.str(), iface(m.interface));
    }
    for (const auto& f : n.port_forwarding) {
      line("  forward    {} from {}:{} to {}:{} -> {}:{}{}", protocol_name(f.protocol),
           f.from.str(), f.from_port.str(), f.incoming_ip.str(), f.incoming_port.str(),
           f.redirect_ip.str(), f.redirect_port.str(), f.log ? " log" : "");
    }
  }

  void user_firewall() {
    const UserFirewallTables& u = t_.user_firewall;
    if (u.users.empty() && u.templates.empty()) return;
    std::string logins;
    for (uint16_t i : u.login_interfaces) logins += (logins.empty() ? "" : ",") + iface(i);
    line("\nuser firewall ({}; login on {}):", u.enabled ? "enabled" : "disabled", logins);
    const ManagementTables& m = t_.management;
    line("  login portal https port {}, certificate {}", m.https_port,
         m.certificate ? fmt::format("{} key {}", *m.certificate, secret(m.private_key))
                       : std::string("self-signed (generated)"));
    for (const auto& user : u.users) {
      line("  user {} ({}) hash {}", user.name,
           user.authentication == FirewallUser::Auth::kLocal ? "local" : "radius", secret(user.password_hash));
    }
    for (const auto& r : u.radius_servers) {
      line("  radius {}:{} secret <{}> timeout {} s{}", r.address.str(), r.port, r.secret.str(), r.timeout,
           r.require_message_authenticator ? ", Message-Authenticator required" : "");
    }
    for (const auto& t : u.templates) {
      std::string users;
      for (const auto& name : t.users) users += (users.empty() ? "" : ",") + name;
      line("  template {}: {} timeout {} s, source {}, users {}", t.name,
           t.dynamic_timeout ? "dynamic" : "static", t.timeout,
           t.source_ip ? t.source_ip->str() : "%authorized_ip", users);
      rules(t.rules, "    ");
    }
  }

  void ipsec() {
    const IpsecTables& s = t_.ipsec;
    if (s.connections.empty() && s.machine_certificates.empty()) return;
    line("\nIPsec (MTU {}, IKE fragmentation {}, hub and spoke {}, TCP listener {}):", s.mtu,
         s.ike_fragmentation ? "on" : "off", s.forward_between_connections ? "on" : "off",
         s.tcp_listen ? fmt::format("port {}", s.tcp_listen_port) : "off");
    for (const auto& c : s.machine_certificates) line("  machine certificate {} {} password {}", c.name, c.path, secret(c.password));
    for (const auto& c : s.ca_certificates) line("  CA certificate {} {}", c.name, c.path);
    for (const auto& c : s.remote_certificates) line("  remote certificate {} {}", c.name, c.path);
    for (const auto& c : s.connections) {
      std::string auth = c.x509 ? fmt::format("x509 {} / {}", s.machine_certificates[c.local_certificate].name,
                                              c.remote_ca != kNoIndex
                                                  ? "CA " + s.ca_certificates[c.remote_ca].name
                                                  : s.remote_certificates[c.remote_certificate].name)
                                : "psk " + secret(c.psk);
      line("  [{}] {}: {} {} via {}, {}, IKEv{}{}, {}", c.index, c.name, c.initiate ? "initiate to" : "wait for",
           c.remote_gateway, iface(c.interface), c.initially_started ? "started" : "stopped", c.ike.version,
           c.ike.aggressive ? " aggressive" : "", auth);
      line("      IKE {} life {} s; ESP {} life {} s{}{}", fmt::join(c.ike.proposals, ","), c.ike.lifetime,
           fmt::join(c.esp.proposals, ","), c.esp.lifetime, c.esp.pfs ? " pfs" : "",
           c.tcp_encapsulation ? fmt::format(" tcp-encap {}", c.tcp_port) : "");
      for (const auto& t : c.tunnels) {
        if (t.transport) {
          line("      transport");
          continue;
        }
        std::string nat;
        for (const auto& m : t.local_nat_map) nat += fmt::format(" local 1:1 {}<->{}", m.real.str(), m.virtual_network.str());
        if (t.local_nat == LocalNat::Mode::kMasquerade) nat += " masquerade " + t.masquerade_internal.str();
        if (t.remote_nat) nat += " remote 1:1 " + t.remote_nat->str();
        if (t.virtual_ip) nat += " virtual IP " + t.virtual_ip->str();
        line("      tunnel {} <-> {}{}", t.local.str(), t.remote.str(), nat);
      }
      line("      firewall in: {}", policy_name(c.firewall_incoming.policy));
      rules(c.firewall_incoming, "        ");
      line("      firewall out: {}", policy_name(c.firewall_outgoing.policy));
      rules(c.firewall_outgoing, "        ");
    }
  }

  void cifs() {
    const CifsTables& c = t_.cifs;
    if (c.jobs.empty() && c.shares.empty()) return;
    line("\nCIFS integrity monitoring (signed with {}, e-mail {}):",
         c.integrity_certificate == kNoIndex ? "-" : t_.ipsec.machine_certificates[c.integrity_certificate].name,
         c.notify_email.empty() ? "-" : c.notify_email);
    for (const auto& s : c.shares) {
      line("  share {} = //{}:{}/{} user {} password {}", s.name, s.server, s.port, s.share,
           s.username.empty() ? "-" : s.username, secret(s.password));
    }
    for (const auto& j : c.jobs) {
      std::string when;
      switch (j.schedule.kind) {
        case Schedule::Kind::kManual: when = "manual"; break;
        case Schedule::Kind::kDaily: when = fmt::format("daily {:02}:{:02}", j.schedule.hour, j.schedule.minute); break;
        case Schedule::Kind::kWeekly:
          when = fmt::format("weekly day {} {:02}:{:02}", j.schedule.weekday + 1, j.schedule.hour, j.schedule.minute);
          break;
        case Schedule::Kind::kInterval: when = fmt::format("every {} s", j.schedule.interval); break;
      }
      line("  check {}: {} -> {}, patterns {}, {}{}", j.name, c.shares[j.share].name,
           c.shares[j.checksum_share].name, j.pattern_set, when, j.enabled ? "" : " (disabled)");
      for (const auto& p : j.patterns) line("      {} {}", p.include ? "include" : "exclude", p.pattern);
    }
  }

  const Tables& t_;
  std::string out_;
};

}  // namespace

std::string dump_tables(const Tables& tables) { return Dumper(tables).run(); }

}  // namespace bulwark::config
