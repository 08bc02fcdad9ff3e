// Semantic checks of 1:1 NAT, masquerading and IP/port forwarding (manual chapters 3-5).
#include <algorithm>

#include <fmt/format.h>

#include "config/validate_context.h"

namespace bulwark::config {
namespace {

void validate_one_to_one(ValidationContext& ctx) {
  const auto& rules = ctx.model.nat.one_to_one;
  for (size_t i = 0; i < rules.size(); ++i) {
    const OneToOneNat& r = rules[i];
    Ipv4Prefix real{r.real, r.prefix};
    Ipv4Prefix virt{r.virtual_address, r.prefix};
    if (!real.is_canonical()) {
      ctx.diag.error(r.at("real"), fmt::format("{} has host bits set for prefix {}", r.real.str(), r.prefix),
                     fmt::format("the real network is {}", real.canonical().str()));
    }
    if (!virt.is_canonical()) {
      ctx.diag.error(r.at("virtual"),
                     fmt::format("{} has host bits set for prefix {}", r.virtual_address.str(), r.prefix),
                     fmt::format("the virtual network is {}", virt.canonical().str()));
    }
    virt = virt.canonical();
    if (!ctx.interfaces.check(r.interface, r.at("interface"), ctx.diag)) continue;
    const Interface* home = ctx.interface(r.interface);

    for (const auto& [address, iface] : ctx.own_addresses()) {
      if (virt.contains(address)) {
        ctx.diag.error(r.at("virtual"),
                       fmt::format("virtual network {} contains the box's own address {} ({})",
                                   virt.str(), address.str(), iface->name),
                       "the virtual addresses must be free: choose addresses no device uses");
      }
    }
    bool inside_home = false;
    for (const auto& iface : ctx.model.interfaces) {
      for (const auto& a : iface.addresses) {
        Ipv4Prefix net = a.prefix.canonical();
        if (&iface == home && net.contains(virt)) {
          inside_home = true;
          if (virt.length <= net.length) {
            ctx.diag.error(r.at("prefix"),
                           fmt::format("virtual network {} is the whole network {} of '{}'",
                                       virt.str(), net.str(), iface.name),
                           "the box would answer ARP for every address there; the 1:1 NAT "
                           "prefix must be longer than the interface network's (manual 3.2)");
          }
        } else if (&iface != home && net.overlaps(virt)) {
          ctx.diag.error(r.at("virtual"),
                         fmt::format("virtual network {} overlaps the local network {} of '{}'",
                                     virt.str(), net.str(), iface.name),
                         "virtual networks must be free addresses on the interface they live on");
        }
      }
    }
    if (!inside_home && home) {
      ctx.diag.warning(r.at("virtual"),
                       fmt::format("virtual network {} is outside every network of '{}'; the box "
                                   "will not answer ARP for it",
                                   virt.str(), home->name),
                       "the routers on that side need a route to it via this box");
    }
    for (size_t j = 0; j < i; ++j) {
      Ipv4Prefix other{rules[j].virtual_address, rules[j].prefix};
      if (other.canonical().overlaps(virt)) {
        ctx.diag.error(r.at("virtual"),
                       fmt::format("virtual network {} overlaps {} of 1:1 NAT rule {}", virt.str(),
                                   other.canonical().str(), j + 1),
                       "every virtual address can map to one real address only");
      }
    }
  }
}

void validate_masquerade(ValidationContext& ctx) {
  for (const auto& m : ctx.model.nat.masquerade) {
    ctx.interfaces.check(m.interface, m.at("interface"), ctx.diag);
  }
}

void validate_port_forwarding(ValidationContext& ctx) {
  const auto& rules = ctx.model.nat.port_forwarding;
  auto own = ctx.own_addresses();
  for (size_t i = 0; i < rules.size(); ++i) {
    const PortForward& r = rules[i];
    bool gre = r.protocol == kProtoGre;
    if (gre) {
      for (const char* key : {"from_port", "incoming_port", "redirect_port"}) {
        if (r.has(key)) {
          ctx.diag.error(r.at(key), "GRE has no ports", "remove the port; GRE is forwarded whole");
        }
      }
    } else if (!r.incoming_port || r.incoming_port->is_any()) {
      ctx.diag.error(r.has("incoming_port") ? r.at("incoming_port") : r.origin,
                     "TCP and UDP forwarding needs an incoming port",
                     "e.g. incoming_port: 8001, or a range such as 8000-8010");
    } else if (r.redirect_port && r.incoming_port->low != r.incoming_port->high) {
      ctx.diag.error(r.at("redirect_port"),
                     fmt::format("a port range ({}) keeps its ports; it cannot be redirected to one port",
                                 r.incoming_port->str()),
                     "remove redirect_port, or forward single ports");
    }
    if (r.incoming_ip) {
      bool owned = std::any_of(own.begin(), own.end(),
                               [&](const auto& a) { return a.first == *r.incoming_ip; });
      if (!owned) {
        ctx.diag.error(r.at("incoming_ip"),
                       fmt::format("{} is not an address of this box", r.incoming_ip->str()),
                       "forwarding applies to traffic sent to the box; use %extern for the "
                       "first external address");
      }
    }
    for (size_t j = 0; j < i; ++j) {
      const PortForward& o = rules[j];
      if (o.protocol != r.protocol || o.incoming_ip != r.incoming_ip) continue;
      bool clash = gre || !o.incoming_port || !r.incoming_port ||
                   (o.incoming_port->low <= r.incoming_port->high &&
                    r.incoming_port->low <= o.incoming_port->high);
      bool restricted = o.from_ip.length != 0 || r.from_ip.length != 0 || o.from_port || r.from_port;
      if (clash && !restricted) {
        ctx.diag.error(r.origin,
                       fmt::format("forwarding rule {} already forwards this incoming {}", j + 1,
                                   gre ? "GRE traffic" : "port"),
                       "each incoming address and port can be forwarded to one destination");
      }
    }
  }
}

}  // namespace

void validate_nat(ValidationContext& ctx) {
  validate_one_to_one(ctx);
  validate_masquerade(ctx);
  validate_port_forwarding(ctx);
  const NatSection& nat = ctx.model.nat;
  if (nat.port_range.low < 1024 && nat.has("port_range")) {
    ctx.diag.warning(nat.at("port_range"), "the masquerading pool includes well-known ports",
                     "the usual pool is 1024-65535");
  }
  bool needs_extern = std::any_of(nat.port_forwarding.begin(), nat.port_forwarding.end(),
                                  [](const PortForward& r) { return !r.incoming_ip; });
  bool has_extern = std::any_of(ctx.model.interfaces.begin(), ctx.model.interfaces.end(),
                                [](const Interface& i) {
                                  return i.role == Role::kExternal && (!i.addresses.empty() || i.dhcp);
                                });
  if (needs_extern && !has_extern) {
    ctx.diag.error(nat.at("port_forwarding"), "%extern needs an external interface with an address");
  }
}

}  // namespace bulwark::config
