// Semantic validation: the entry point, name tables, and the checks of interfaces and routing.
#include <algorithm>
#include <regex>
#include <set>

#include <fmt/format.h>

#include "config/config.h"
#include "config/validate_context.h"
#include "config/yaml_reader.h"

namespace bulwark::config {

void NameTable::add(const std::string& name, const Origin& origin, Diagnostics& diag) {
  auto [it, inserted] = index_.emplace(name, static_cast<int>(names_.size()));
  if (!inserted) {
    diag.error(origin, fmt::format("{} '{}' is defined twice", kind_, name),
               fmt::format("the first definition is at {}; names must be unique",
                           origins_[name].position()));
    return;
  }
  origins_[name] = origin;
  names_.push_back(name);
}

int NameTable::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? -1 : it->second;
}

bool NameTable::check(const std::string& name, const Origin& origin, Diagnostics& diag) const {
  if (contains(name)) return true;
  std::string hint;
  if (auto near = closest_match(name, names_)) {
    hint = fmt::format("did you mean '{}'?", *near);
  } else if (names_.empty()) {
    hint = fmt::format("no {} is defined", kind_);
  } else {
    hint = fmt::format("defined: {}", fmt::join(names_, ", "));
  }
  diag.error(origin, fmt::format("unknown {} '{}'", kind_, name), hint);
  return false;
}

const Interface* ValidationContext::interface(const std::string& name) const {
  for (const auto& i : model.interfaces) {
    if (i.name == name) return &i;
  }
  return nullptr;
}

std::vector<std::pair<Ipv4Address, const Interface*>> ValidationContext::own_addresses() const {
  std::vector<std::pair<Ipv4Address, const Interface*>> out;
  for (const auto& i : model.interfaces) {
    for (const auto& a : i.addresses) out.emplace_back(a.prefix.address, &i);
  }
  return out;
}

void validate_network(ValidationContext& ctx) {
  const Model& m = ctx.model;
  Diagnostics& d = ctx.diag;
  static const std::regex kPci("^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7]$");
  static const std::regex kVdev(
      "^net_(pcap|af_packet|tap|null|memif|ring|virtio_user|af_xdp)[A-Za-z0-9_]*(,[^,=\\s]+=[^,\\s]*)*$");

  bool has_internal = false, has_external = false;
  std::map<std::string, const Interface*> ports;
  for (const auto& i : m.interfaces) {
    has_internal |= i.role == Role::kInternal;
    has_external |= i.role == Role::kExternal;
    if (!i.port.empty()) {
      if (!std::regex_match(i.port, kPci) && !std::regex_match(i.port, kVdev)) {
        d.error(i.at("port"), fmt::format("'{}' is neither a PCI address nor a DPDK vdev", i.port),
                "e.g. 0000:03:00.0, net_af_packet0,iface=eth1, net_pcap0,rx_pcap=in.pcap or "
                "net_tap0,iface=bw0");
      } else if (auto [it, inserted] = ports.emplace(i.port, &i); !inserted) {
        d.error(i.at("port"), fmt::format("port '{}' is already used by interface '{}'", i.port,
                                          it->second->name),
                "every interface needs a port of its own; use VLANs to share a link");
      }
    }
  }
  if (m.interfaces_complete && !m.interfaces.empty() && !has_internal) {
    d.error(m.interfaces.front().origin, "no interface has role internal",
            "declare the protected network's interface");
  }
  if (m.interfaces_complete && !m.interfaces.empty() && !has_external) {
    d.error(m.interfaces.front().origin, "no interface has role external",
            "declare the uplink interface; %extern and masquerading need it");
  }

  // DHCP (dhcp_lease.h): the uplink's address, its network and the default gateway come from
  // the lease, so nothing in the file may depend on them before there is one.
  bool any_dhcp = false;
  for (const auto& i : m.interfaces) {
    if (!i.dhcp) continue;
    any_dhcp = true;
    if (i.role != Role::kExternal) {
      d.error(i.at("dhcp"), "only an external interface can get its address by DHCP",
              "the box is the router of its internal and DMZ networks: give them fixed addresses");
    }
    if (!i.routes.empty()) {
      d.error(i.at("routes"), "additional routes through an interface with dhcp: true are not supported",
              "their gateway would have to be in the leased network, which is not known beforehand; "
              "the lease's router is the default gateway");
    }
  }
  if (any_dhcp && m.default_gateway && !m.default_gateway_from_lease) {
    d.error(m.default_gateway_origin, "with dhcp: true the default gateway is the router of the DHCP lease",
            "remove default_gateway");
  }

  // Networks of different interfaces (or different VLANs) must not overlap: a destination
  // must belong to one link only.
  struct Net {
    Ipv4Prefix prefix;
    const Interface* iface;
    std::optional<uint16_t> vlan;
    const InterfaceAddress* address;
  };
  std::vector<Net> nets;
  for (const auto& i : m.interfaces) {
    for (const auto& a : i.addresses) {
      for (const auto& other : nets) {
        bool same_link = other.iface == &i && other.vlan == a.vlan;
        if (other.prefix.address == a.prefix.address) {
          d.error(a.origin, fmt::format("address {} is already given", a.prefix.address.str()),
                  fmt::format("also at {}", other.address->origin.position()));
        } else if (!same_link && other.prefix.canonical().overlaps(a.prefix.canonical())) {
          d.error(a.origin,
                  fmt::format("network {} overlaps {} of interface '{}'", a.prefix.canonical().str(),
                              other.prefix.canonical().str(), other.iface->name),
                  "each network is reachable through one interface (and VLAN) only");
        }
      }
      nets.push_back({a.prefix, &i, a.vlan, &a});
    }
  }

  auto on_link = [&](const Interface& i, Ipv4Address gw) {
    return std::any_of(i.addresses.begin(), i.addresses.end(),
                       [&](const InterfaceAddress& a) { return a.prefix.contains(gw); });
  };
  std::map<Ipv4Prefix, const Route*> routes;
  for (const auto& i : m.interfaces) {
    for (const auto& r : i.routes) {
      if (!on_link(i, r.gateway)) {
        d.error(r.at("gateway"),
                fmt::format("gateway {} is not in a network of interface '{}'", r.gateway.str(),
                            i.name),
                "an additional route's gateway is a router on the interface's own network");
      }
      for (const auto& net : nets) {
        if (net.prefix.canonical().overlaps(r.network)) {
          d.error(r.at("network"),
                  fmt::format("{} overlaps the directly connected network {} of interface '{}'",
                              r.network.str(), net.prefix.canonical().str(), net.iface->name),
                  "connected networks need no route");
          break;
        }
      }
      if (auto [it, inserted] = routes.emplace(r.network, &r); !inserted) {
        d.error(r.at("network"), fmt::format("a route to {} is already given", r.network.str()),
                fmt::format("at {}", it->second->origin.position()));
      }
    }
  }

  if (m.default_gateway) {
    bool ok = std::any_of(m.interfaces.begin(), m.interfaces.end(), [&](const Interface& i) {
      return i.role == Role::kExternal && on_link(i, *m.default_gateway);
    });
    if (!ok) {
      d.error(m.default_gateway_origin,
              fmt::format("default gateway {} is not in a network of an external interface",
                          m.default_gateway->str()),
              "the default gateway is the upstream router on the external network");
    }
  }

  const DataplaneSection& dp = m.dataplane;
  std::set<uint32_t> lcores;
  for (uint32_t lcore : dp.worker_lcores) {
    if (lcore == dp.main_lcore || !lcores.insert(lcore).second) {
      d.error(dp.at("worker_lcores"),
              fmt::format("lcore {} is used twice", lcore),
              "each worker needs a core of its own, and none may be the main lcore");
    }
  }
  if (dp.has("worker_lcores") && dp.worker_lcores.empty()) {
    d.error(dp.at("worker_lcores"), "at least one worker lcore is needed");
  }
}

void validate(const Model& model, Diagnostics& diagnostics) {
  ValidationContext ctx{model, diagnostics};
  for (const auto& i : model.interfaces) ctx.interfaces.add(i.name, i.at("name"), diagnostics);
  for (const auto& s : model.switches) ctx.switches.add(s.name, s.at("name"), diagnostics);
  for (const auto& r : model.firewall.rule_records) {
    if (r.name == "accept" || r.name == "drop" || r.name == "reject") {
      diagnostics.error(r.at("name"), fmt::format("'{}' is an action, not a record name", r.name),
                        "choose another name");
    }
    ctx.records.add(r.name, r.at("name"), diagnostics);
  }
  for (const auto& g : model.firewall.ip_groups) ctx.ip_groups.add(g.name, g.origin, diagnostics);
  for (const auto& g : model.firewall.port_groups) ctx.port_groups.add(g.name, g.origin, diagnostics);
  for (const auto& c : model.ipsec.connections) ctx.connections.add(c.name, c.at("name"), diagnostics);
  for (const auto& c : model.ipsec.machine_certificates) {
    ctx.machine_certificates.add(c.name, c.at("name"), diagnostics);
  }
  for (const auto& c : model.ipsec.ca_certificates) ctx.ca_certificates.add(c.name, c.at("name"), diagnostics);
  for (const auto& c : model.ipsec.remote_certificates) {
    ctx.remote_certificates.add(c.name, c.at("name"), diagnostics);
  }
  for (const auto& u : model.user_firewall.users) ctx.users.add(u.name, u.at("name"), diagnostics);
  for (const auto& s : model.cifs.shares) ctx.shares.add(s.name, s.at("name"), diagnostics);
  for (const auto& p : model.cifs.pattern_sets) ctx.pattern_sets.add(p.name, p.at("name"), diagnostics);

  validate_network(ctx);
  validate_firewall(ctx);
  validate_user_firewall(ctx);
  validate_management(ctx);
  validate_nat(ctx);
  validate_ipsec(ctx);
  validate_cifs(ctx);
}

}  // namespace bulwark::config
