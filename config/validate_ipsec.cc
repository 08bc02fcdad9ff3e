// Semantic checks of IPsec connections (manual chapters 10-15), including the configuration
// mistakes of chapter 15.2 that make a VPN connection fail before any packet is sent.
#include <regex>

#include <fmt/format.h>

#include "config/validate_context.h"

namespace bulwark::config {
namespace {

bool is_hostname(const std::string& s) {
  static const std::regex kHost(
      "^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$");
  return std::regex_match(s, kHost);
}

void check_lifetime(ValidationContext& ctx, const Located& where, const char* what,
                    uint32_t lifetime, uint32_t margin, uint32_t fuzz) {
  uint64_t needed = static_cast<uint64_t>(margin) * (100 + fuzz) / 100;
  if (lifetime <= needed) {
    ctx.diag.error(where.at("lifetime"),
                   fmt::format("{} lifetime [{}] must be greater than rekey_margin*(100+rekey_fuzz)/100 "
                               "[{}*(100+{})/100 = {}]",
                               what, lifetime, margin, fuzz, needed),
                   "raise the lifetime or lower rekey_margin (manual 15.2)");
  }
}

void validate_authentication(ValidationContext& ctx, const VpnConnection& c) {
  const VpnAuthentication& a = c.authentication;
  if (a.origin.file.empty()) return;  // missing entirely: reported by the parser
  if (!a.x509) {
    if (!a.psk) {
      ctx.diag.error(a.origin, "PSK authentication needs a psk", "e.g. psk: {env: VPN_PSK}");
    }
    for (const char* key : {"local_certificate", "remote_certificate", "remote_ca"}) {
      if (a.has(key)) {
        ctx.diag.error(a.at(key), fmt::format("{} is only used with method: x509", key));
      }
    }
    bool any_peer = c.remote_gateway == "%any";
    if (any_peer && c.ike.version == 1 && !c.ike.aggressive) {
      ctx.diag.error(c.at("remote_gateway"),
                     "a PSK responder for %any needs IKEv1 aggressive mode or IKEv2",
                     "in IKEv1 main mode the PSK is chosen by the peer's address before the peer "
                     "is identified; use ike: {version: 2}, X.509 certificates, or mode: aggressive "
                     "(weaker)");
    }
    return;
  }
  if (a.psk) ctx.diag.error(a.at("psk"), "a psk is only used with method: psk");
  if (a.local_certificate.empty()) {
    ctx.diag.error(a.origin, "X.509 authentication needs local_certificate",
                   "the name of a machine certificate (ipsec.certificates.machine)");
  } else {
    ctx.machine_certificates.check(a.local_certificate, a.at("local_certificate"), ctx.diag);
  }
  if (a.remote_certificate.empty() == a.remote_ca.empty()) {
    ctx.diag.error(a.origin, "X.509 authentication needs exactly one of remote_certificate and remote_ca",
                   "remote_certificate pins the peer's certificate; remote_ca accepts any "
                   "certificate the CA signed");
  }
  if (!a.remote_certificate.empty()) {
    ctx.remote_certificates.check(a.remote_certificate, a.at("remote_certificate"), ctx.diag);
  }
  if (!a.remote_ca.empty()) ctx.ca_certificates.check(a.remote_ca, a.at("remote_ca"), ctx.diag);
}

// The addresses the box may use as its IKE endpoint: those of the external interfaces, or of
// the interface named for %any.
std::vector<Ipv4Address> endpoint_addresses(ValidationContext& ctx, const VpnConnection& c) {
  std::vector<Ipv4Address> out;
  for (const auto& i : ctx.model.interfaces) {
    bool chosen = c.any_interface.empty() ? i.role == Role::kExternal : i.name == c.any_interface;
    if (!chosen) continue;
    for (const auto& a : i.addresses) out.push_back(a.prefix.address);
  }
  return out;
}

// Manual 12.4: a stealth box adopts its one client's address, so the virtual IP needs nothing
// more there. A router has many hosts behind it: the configuration names the one the virtual
// IP stands for, and the tunnel translates between the two (1:1, both ways).
void validate_virtual_ip_client(ValidationContext& ctx, const Tunnel& t) {
  if (t.virtual_ip && !t.client) {
    ctx.diag.error(t.at("virtual_ip"), "a virtual IP needs the client it stands for",
                   "add client: ADDRESS (the host behind the box that peers reach by the virtual IP; "
                   "give it a DHCP reservation if it gets its address by DHCP)");
  }
  if (t.client && !t.virtual_ip) {
    ctx.diag.error(t.at("client"), "client is only meaningful with virtual_ip",
                   "the client is the host that peers reach by the tunnel's virtual IP (manual 12.4)");
  }
  if (!t.virtual_ip || !t.client) return;
  if (t.local_nat.mode != LocalNat::Mode::kNone) {
    ctx.diag.error(t.at("virtual_ip"), "a virtual IP and local_nat both translate the local side of a tunnel",
                   "use one of them: the virtual IP is a 1:1 NAT of the client's single address");
  }
  if (*t.client == *t.virtual_ip) {
    ctx.diag.error(t.at("client"), fmt::format("the client {} is the virtual IP itself", t.client->str()),
                   "the virtual IP is the address peers use; the client is the host's real address");
  }
}

void validate_tunnel(ValidationContext& ctx, const VpnConnection& c, const Tunnel& t) {
  if (t.transport) {
    for (const char* key : {"local", "remote", "local_nat", "remote_nat", "virtual_ip", "client"}) {
      if (t.has(key)) {
        ctx.diag.error(t.at(key), fmt::format("a transport connection takes no {}", key),
                       "transport mode protects the traffic between the two gateways themselves; "
                       "use type: tunnel to connect networks");
      }
    }
    return;
  }
  if (!t.local || !t.remote) {
    // A value that was given but invalid has been reported already.
    if (t.has("local") || t.has("remote")) return;
    ctx.diag.error(t.origin, "a tunnel needs local and remote networks",
                   "e.g. local: 192.168.1.0/24, remote: 192.168.2.0/24");
    return;
  }
  if (*t.local == *t.remote) {
    ctx.diag.error(t.at("remote"),
                   fmt::format("local and remote are the same network {}", t.local->str()),
                   "a tunnel connects different networks; for sites with the same internal "
                   "network use local_nat one_to_one (manual 13.2)");
  }
  for (Ipv4Address own : endpoint_addresses(ctx, c)) {
    if (t.remote->contains(own)) {
      ctx.diag.error(t.at("remote"),
                     fmt::format("tunnel ignored: local address '{}' within remote network '{}'",
                                 own.str(), t.remote->str()),
                     "the box's own VPN endpoint address would be routed into the tunnel; narrow "
                     "the remote network (manual 15.2)");
    }
  }
  const LocalNat& nat = t.local_nat;
  switch (nat.mode) {
    case LocalNat::Mode::kNone:
      if (!nat.mappings.empty() || nat.has("internal_network")) {
        ctx.diag.error(nat.origin, "mappings and internal_network need a local_nat mode");
      }
      break;
    case LocalNat::Mode::kOneToOne:
      if (nat.mappings.empty()) {
        ctx.diag.error(nat.origin, "local 1:1 NAT needs mappings",
                       "e.g. mappings: [{real: 192.168.1.0, virtual: 192.168.10.0, prefix: 24}]");
      }
      for (const auto& m : nat.mappings) {
        Ipv4Prefix virt{m.virtual_address, m.prefix};
        Ipv4Prefix real{m.real, m.prefix};
        if (!virt.is_canonical() || !real.is_canonical()) {
          ctx.diag.error(m.origin, fmt::format("real and virtual must be network addresses for /{}", m.prefix),
                         fmt::format("e.g. {} and {}", real.canonical().str(), virt.canonical().str()));
        }
        if (!t.local->contains(virt.canonical())) {
          ctx.diag.error(m.at("virtual"),
                         fmt::format("virtual network {} is not inside the tunnel's local network {}",
                                     virt.canonical().str(), t.local->str()),
                         "with local 1:1 NAT the tunnel's local network is the virtual one");
        }
      }
      break;
    case LocalNat::Mode::kMasquerade:
      if (!nat.has("internal_network")) {
        ctx.diag.error(nat.origin, "local masquerading needs internal_network",
                       "the local network whose addresses are hidden, e.g. 10.2.0.0/16");
      }
      if (t.local->length != 32) {
        ctx.diag.error(t.at("local"),
                       fmt::format("local masquerading hides the network behind one address, but "
                                   "local is {}",
                                   t.local->str()),
                       "give the masquerading address as a /32, e.g. 172.16.0.5/32 (manual 13.4)");
      }
      break;
  }
  if (t.remote_nat.one_to_one) {
    Ipv4Prefix mapped{t.remote_nat.address, t.remote->length};
    if (!t.remote_nat.has("address")) {
      ctx.diag.error(t.remote_nat.origin, "remote 1:1 NAT needs an address",
                     "a free address in the internal network, e.g. 192.168.1.253");
    } else if (!mapped.is_canonical()) {
      ctx.diag.error(t.remote_nat.at("address"),
                     fmt::format("{} does not start a /{} block like the remote network {}",
                                 t.remote_nat.address.str(), t.remote->length, t.remote->str()),
                     fmt::format("use {}", mapped.canonical().str()));
    } else {
      for (const auto& [address, iface] : ctx.own_addresses()) {
        if (mapped.contains(address)) {
          ctx.diag.error(t.remote_nat.at("address"),
                         fmt::format("remote 1:1 NAT network {} contains the box's address {}",
                                     mapped.str(), address.str()),
                         "the mapped addresses must be unused (manual 13.5)");
        }
      }
    }
  } else if (t.remote_nat.has("address")) {
    ctx.diag.error(t.remote_nat.at("address"), "an address needs remote_nat mode one_to_one");
  }
  if (t.virtual_ip && !t.local->contains(*t.virtual_ip)) {
    ctx.diag.error(t.at("virtual_ip"),
                   fmt::format("virtual IP {} is not inside the tunnel's local network {}",
                               t.virtual_ip->str(), t.local->str()),
                   "peers reach the client by the virtual IP through this tunnel (manual 12.4)");
  }
  validate_virtual_ip_client(ctx, t);
}

void validate_connection(ValidationContext& ctx, const VpnConnection& c) {
  bool any_peer = c.remote_gateway == "%any";
  if (!any_peer && !c.remote_gateway.empty() && !Ipv4Address::parse(c.remote_gateway) &&
      !is_hostname(c.remote_gateway)) {
    ctx.diag.error(c.at("remote_gateway"),
                   fmt::format("'{}' is neither an address, a host name nor %any", c.remote_gateway));
  }
  if (any_peer && c.initiate == true) {
    ctx.diag.error(c.at("startup"), "a connection to %any cannot initiate",
                   "the box does not know whom to call; use startup: wait");
  }
  if (!c.any_interface.empty()) {
    if (ctx.interfaces.check(c.any_interface, c.at("any_interface"), ctx.diag) && !any_peer) {
      ctx.diag.warning(c.at("any_interface"), "any_interface is only used with remote_gateway: %any");
    }
  }
  if (c.controlled_by) ctx.switches.check(c.controlled_by->name, c.controlled_by->at("switch"), ctx.diag);
  if (c.ike.version == 2 && c.ike.aggressive) {
    ctx.diag.error(c.ike.at("mode"), "aggressive mode exists only in IKEv1",
                   "remove mode, or set version: 1");
  }
  check_lifetime(ctx, c.ike, "IKE", c.ike.lifetime, c.ike.rekey_margin, c.ike.rekey_fuzz);
  check_lifetime(ctx, c.esp, "ESP", c.esp.lifetime, c.esp.rekey_margin, c.ike.rekey_fuzz);
  if (c.ike.dpd && c.ike.dpd_timeout <= c.ike.dpd_delay) {
    ctx.diag.error(c.ike.at("dpd"), "the DPD timeout must be longer than the DPD delay",
                   "e.g. dpd: {delay: 30s, timeout: 150s}");
  }
  if (c.tcp_encapsulation && c.force_udp_encapsulation) {
    ctx.diag.error(c.at("force_udp_encapsulation"),
                   "a connection is encapsulated in TCP or in UDP, not both");
  }
  validate_authentication(ctx, c);
  for (const auto& t : c.tunnels) validate_tunnel(ctx, c, t);
  for (const auto* list : {&c.firewall_incoming, &c.firewall_outgoing}) {
    for (const auto& rule : list->rules) validate_rule(ctx, rule);
  }
}

// Virtual networks (local 1:1 NAT) must be unique across connections and must not collide
// with the 1:1 NAT of the box itself.
void validate_virtual_networks(ValidationContext& ctx) {
  struct Use {
    Ipv4Prefix network;
    const VpnConnection* connection;
    const Origin* origin;
  };
  std::vector<Use> uses;
  for (const auto& c : ctx.model.ipsec.connections) {
    for (const auto& t : c.tunnels) {
      if (t.local_nat.mode != LocalNat::Mode::kOneToOne) continue;
      for (const auto& m : t.local_nat.mappings) {
        Ipv4Prefix virt = Ipv4Prefix{m.virtual_address, m.prefix}.canonical();
        for (const auto& u : uses) {
          if (u.connection != &c && u.network.overlaps(virt)) {
            ctx.diag.error(m.at("virtual"),
                           fmt::format("virtual network {} is already used by VPN connection '{}'",
                                       virt.str(), u.connection->name),
                           "each connection needs virtual networks of its own (manual 13.4)");
          }
        }
        for (const auto& n : ctx.model.nat.one_to_one) {
          Ipv4Prefix other = Ipv4Prefix{n.virtual_address, n.prefix}.canonical();
          if (other.overlaps(virt)) {
            ctx.diag.error(m.at("virtual"),
                           fmt::format("virtual network {} overlaps the 1:1 NAT network {}",
                                       virt.str(), other.str()));
          }
        }
        uses.push_back({virt, &c, &m.origin});
      }
    }
  }
}

// Settings the configuration language has but the box does not carry out yet: refused, so that
// nobody relies on a setting that does nothing.
// Manual 10.2, 10.9: a switch starts and stops the connection, the deactivation timeout stops
// one that a switch or `bulwark vpn up` started. Both start negotiations, which a connection that
// waits for its peer never does.
void validate_activation(ValidationContext& ctx, const VpnConnection& c) {
  for (const char* key : {"controlled_by", "deactivation_timeout"}) {
    const bool given = key[0] == 'c' ? c.controlled_by.has_value() : c.deactivation_timeout > 0;
    if (given && !c.initiates()) {
      ctx.diag.error(c.at(key), fmt::format("{} needs a connection that initiates", key),
                     "a connection with startup: wait never starts a negotiation, so nothing could start it; "
                     "use startup: initiate");
    }
  }
  // The manual's connections under a switch say "Initial mode: Started" (Figure 10-12), which is
  // the default; "stopped" would contradict the switch.
  if (c.controlled_by && !c.initially_started) {
    ctx.diag.error(c.at("initial_mode"), "a connection controlled by a switch starts and stops with it",
                   "remove initial_mode: stopped: the switch's initial state decides");
  }
}

void refuse_unimplemented(ValidationContext& ctx, const VpnConnection& c) {
  if (c.tcp_encapsulation) {
    ctx.diag.error(c.at("tcp_encapsulation"), "TCP encapsulation of IKE and ESP is not implemented yet",
                   "remove tcp_encapsulation or set enabled: false; the connection uses UDP (NAT-T)");
  }
}

}  // namespace

void validate_ipsec(ValidationContext& ctx) {
  for (const auto& c : ctx.model.ipsec.connections) {
    validate_connection(ctx, c);
    validate_activation(ctx, c);
    refuse_unimplemented(ctx, c);
  }
  if (ctx.model.ipsec.tcp_listen) {
    ctx.diag.error(ctx.model.ipsec.at("tcp_encapsulation"), "listening for TCP-encapsulated IKE is not implemented yet",
                   "remove ipsec.tcp_encapsulation or set listen: false");
  }
  validate_virtual_networks(ctx);
  const IpsecSection& ipsec = ctx.model.ipsec;
  if (ipsec.mtu > 1414 && ipsec.has("mtu")) {
    ctx.diag.warning(ipsec.at("mtu"),
                     fmt::format("an IPsec MTU of {} may fragment on paths with a smaller MTU",
                                 ipsec.mtu),
                     "1414 or less is safe (manual 11.4, 15.6.2)");
  }
}

}  // namespace bulwark::config
