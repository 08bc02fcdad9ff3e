#include "dataplane/generation.h"

#include "dataplane/ipsec_tables.h"

#include <rte_errno.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include <fmt/format.h>

namespace bulwark::dataplane {
namespace {

constexpr uint32_t kMaxNextHops = 1u << 24;  // rte_lpm next hops are 24 bits

}  // namespace

std::unique_ptr<Generation> Generation::build(const config::Tables& tables,
                                              const std::vector<PortBinding>& ports,
                                              unsigned workers, uint64_t hz, std::string& error) {
  if (ports.size() != tables.interfaces.size()) {
    error = fmt::format("the configuration has {} interfaces but the dataplane runs {} ports; "
                        "changing the set of interfaces needs a restart",
                        tables.interfaces.size(), ports.size());
    return nullptr;
  }
  std::unique_ptr<Generation> g(new Generation());
  g->number_ = tables.generation;
  g->filter_ = Filter::build(tables.firewall, tables.ipsec.connections, tables.user_firewall.templates, workers, error);
  if (!g->filter_) return nullptr;
  g->nat_ = nat::Rules(tables.nat);
  g->ipsec_mtu_ = tables.ipsec.mtu;
  g->vpn_nat_ = nat::VpnNat(tables.ipsec.connections);
  for (const auto& c : tables.ipsec.connections) {
    g->vpn_names_.push_back(c.name);
    for (const auto& t : c.tunnels) {
      if (!t.transport) g->vpn_tunnels_.push_back({t.local, t.remote, static_cast<uint16_t>(g->vpn_names_.size() - 1)});
    }
  }
  for (const auto& t : tables.user_firewall.templates) {
    g->template_names_.push_back(t.name);
    g->template_vpn_.push_back(t.vpn_connection);
  }
  g->forward_between_vpns_ = tables.ipsec.forward_between_connections;
  g->timeouts_ = conntrack::Timeouts::from_config(tables.dataplane.timeouts, hz);

  for (size_t i = 0; i < tables.interfaces.size(); ++i) {
    const auto& in = tables.interfaces[i];
    InterfaceRuntime rt;
    rt.name = in.name;
    rt.port = ports[i].port;
    rt.punt_port = ports[i].punt_port;
    rt.mtu = in.mtu;
    rt.dhcp = in.dhcp;
    if (in.mac) {
      std::memcpy(rt.mac, in.mac->bytes.data(), 6);
    } else {
      std::memcpy(rt.mac, ports[i].mac, 6);
    }
    g->interfaces_.push_back(rt);
    g->roles_.push_back(in.role);
    std::vector<uint16_t> vlans;
    for (const auto& a : in.addresses) {
      AttachedNetwork net;
      net.address = a.prefix.address.value;
      net.mask = a.prefix.mask();
      net.network = net.address & net.mask;
      net.broadcast = net.network | ~net.mask;
      net.interface = static_cast<uint16_t>(i);
      net.vlan = a.vlan;
      g->networks_.push_back(net);
      g->local_.push_back(net.address);
      if (a.prefix.length < 31) g->local_.push_back(net.broadcast);
      if (std::find(vlans.begin(), vlans.end(), a.vlan) == vlans.end()) vlans.push_back(a.vlan);
    }
    // A DHCP interface waiting for its lease is still an untagged link: its client talks there.
    if (in.dhcp && vlans.empty()) vlans.push_back(0);
    g->vlans_.push_back(vlans);
    if (rt.port >= g->port_to_interface_.size()) g->port_to_interface_.resize(rt.port + 1, -1);
    g->port_to_interface_[rt.port] = static_cast<int>(i);
  }
  std::sort(g->local_.begin(), g->local_.end());

  for (const auto& p : tables.proxy_arp) {
    g->proxy_arp_.push_back({p.range.network().value, p.range.mask(), p.interface});
  }

  // Routes: connected networks and additional routes become LPM entries whose next hop
  // index points into next_hops_.
  static std::atomic<uint32_t> lpm_serial{0};
  std::string name = fmt::format("bw_lpm_{}", lpm_serial.fetch_add(1));
  rte_lpm_config lpm_config{};
  lpm_config.max_rules = std::max<uint32_t>(64, static_cast<uint32_t>(tables.routes.size() * 2));
  lpm_config.number_tbl8s = 256;
  g->lpm_ = rte_lpm_create(name.c_str(), SOCKET_ID_ANY, &lpm_config);
  if (!g->lpm_) {
    error = fmt::format("cannot allocate the route table: {}; give the dataplane more memory "
                        "(dataplane.memory_mb: each worker has its own packet buffers and share of "
                        "the connection table)", rte_strerror(rte_errno));
    return nullptr;
  }
  for (const auto& r : tables.routes) {
    NextHop hop{r.kind == config::RouteKind::kConnected ? 0 : r.gateway.value, r.interface, r.vlan};
    if (g->next_hops_.size() >= kMaxNextHops) {
      error = "too many routes";
      return nullptr;
    }
    uint32_t index = static_cast<uint32_t>(g->next_hops_.size());
    g->next_hops_.push_back(hop);
    if (r.network.length == 0) {
      g->default_hop_ = static_cast<int32_t>(index);
      continue;
    }
    int rc = rte_lpm_add(g->lpm_, r.network.network().value, r.network.length, index);
    if (rc < 0) {
      error = fmt::format("cannot add route {}: {}", r.network.str(), rte_strerror(-rc));
      return nullptr;
    }
  }
  return g;
}

Generation::~Generation() {
  delete users_.load();
  if (lpm_) rte_lpm_free(lpm_);
}

const AttachedNetwork* Generation::network_for(uint16_t interface, uint16_t vlan, uint32_t ip) const {
  for (const auto& n : networks_) {
    if (n.interface == interface && n.vlan == vlan && n.contains(ip)) return &n;
  }
  return nullptr;
}

uint32_t Generation::first_address(uint16_t interface, uint16_t vlan) const {
  for (const auto& n : networks_) {
    if (n.interface == interface && n.vlan == vlan) return n.address;
  }
  return 0;
}

bool Generation::owns(uint16_t interface, uint16_t vlan, uint32_t ip) const {
  for (const auto& n : networks_) {
    if (n.interface == interface && n.vlan == vlan && n.address == ip) return true;
  }
  return false;
}

bool Generation::proxies(uint16_t interface, uint32_t ip) const {
  for (const auto& p : proxy_arp_) {
    if (p.interface == interface && (ip & p.mask) == p.network) return true;
  }
  return false;
}

void Generation::route(const uint32_t* destinations, int32_t* next_hops, unsigned count) const {
  uint32_t hops[64];
  for (unsigned done = 0; done < count;) {
    unsigned n = std::min(count - done, 64u);
    rte_lpm_lookup_bulk(lpm_, destinations + done, hops, n);
    for (unsigned i = 0; i < n; ++i) {
      next_hops[done + i] = (hops[i] & RTE_LPM_LOOKUP_SUCCESS)
                                ? static_cast<int32_t>(hops[i] & 0x00ffffff)
                                : default_hop_;
    }
    done += n;
  }
}

int32_t Generation::route(uint32_t destination) const {
  uint32_t hop = 0;
  return rte_lpm_lookup(lpm_, destination, &hop) == 0 ? static_cast<int32_t>(hop) : default_hop_;
}

int Generation::vpn_connection(const SaRuntime& sa) const {
  if (sa.local_ts.empty() || sa.remote_ts.empty()) return -1;
  const uint32_t local = sa.local_ts.front().network, remote = sa.remote_ts.front().network;
  for (const auto& t : vpn_tunnels_) {
    if (t.local.contains(config::Ipv4Address{local}) && t.remote.contains(config::Ipv4Address{remote})) {
      return t.connection;
    }
  }
  return -1;
}

}  // namespace bulwark::dataplane
