// One generation of the dataplane's lookup tables, built from compiled configuration tables.
//
// A Generation is immutable once built: workers read it without locks through the pointer the
// Dataplane publishes, and it is destroyed only after an RCU grace period (see dataplane.h).
// Building can fail (for example when the LPM cannot be allocated); then the caller keeps the
// running generation.
#pragma once

#include <rte_lpm.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/tables.h"
#include "conntrack/conntrack.h"
#include "dataplane/filter.h"
#include "dataplane/user_table.h"
#include "nat/rules.h"
#include "nat/vpn_nat.h"

namespace bulwark::dataplane {

// A network the box is attached to: one address of the box with its prefix, on an
// interface and VLAN (0 = untagged).
struct AttachedNetwork {
  uint32_t address = 0;  // the box's address, host order
  uint32_t network = 0;
  uint32_t mask = 0;
  uint32_t broadcast = 0;
  uint16_t interface = 0;
  uint16_t vlan = 0;

  bool contains(uint32_t ip) const { return (ip & mask) == network; }
};

struct NextHop {
  uint32_t gateway = 0;  // 0: the destination is on the attached network itself
  uint16_t interface = 0;
  uint16_t vlan = 0;
};

struct InterfaceRuntime {
  std::string name;
  uint16_t port = 0;       // DPDK port id
  uint16_t punt_port = 0;  // exception-path port id, or kNoPort
  uint8_t mac[6] = {};
  uint16_t mtu = 1500;
  bool dhcp = false;  // the box's DHCP client runs on it: server answers go to the exception path
};

inline constexpr uint16_t kNoPort = 0xffff;

struct ProxyArpRange {
  uint32_t network = 0;
  uint32_t mask = 0;
  uint16_t interface = 0;
};

// Where each configured interface is in DPDK terms; built by the Dataplane when it sets up ports.
struct PortBinding {
  uint16_t port = 0;
  uint16_t punt_port = kNoPort;
  uint8_t mac[6] = {};
};

class Generation {
 public:
  // Builds the lookup tables; on failure returns nullptr and sets `error`.
  // `workers` sizes per-worker counters; `hz` converts timeouts to clock ticks.
  static std::unique_ptr<Generation> build(const config::Tables& tables,
                                           const std::vector<PortBinding>& ports, unsigned workers,
                                           uint64_t hz, std::string& error);
  ~Generation();
  Generation(const Generation&) = delete;
  Generation& operator=(const Generation&) = delete;

  uint64_t number() const { return number_; }
  Filter& filter() const { return *filter_; }
  const nat::Rules& nat() const { return nat_; }
  const conntrack::Timeouts& timeouts() const { return timeouts_; }
  config::Role role(uint16_t interface) const { return roles_[interface]; }
  const std::vector<InterfaceRuntime>& interfaces() const { return interfaces_; }
  const std::vector<AttachedNetwork>& networks() const { return networks_; }
  // IPsec: the largest inner packet a tunnel carries (manual 11.4), and whether traffic from one
  // VPN connection may be encrypted into another (hub and spoke, chapter 14).
  uint16_t ipsec_mtu() const { return ipsec_mtu_; }
  // The VPN connection whose tunnel an SA belongs to (its selectors inside one of the tunnel
  // entries' networks), or -1. For the VPN firewall, on new connections only.
  int vpn_connection(const struct SaRuntime& sa) const;
  const std::vector<std::string>& vpn_names() const { return vpn_names_; }
  // The user firewall's templates (their lists are the Filter's) and the logged-in users' table
  // resolved against them, or nullptr (user_table.h). The table is the one part of a generation
  // that is replaced while it runs: by the control thread, one atomic exchange, the old table
  // freed after a grace period by the caller.
  const std::vector<std::string>& template_names() const { return template_names_; }
  const std::vector<uint16_t>& template_vpn() const { return template_vpn_; }
  const UserTable* users() const { return users_.load(std::memory_order_acquire); }
  UserTable* exchange_users(UserTable* t) { return users_.exchange(t, std::memory_order_acq_rel); }
  // NAT inside tunnels (chapter 13), or nullptr when no tunnel has any.
  const nat::VpnNat* vpn_nat() const { return vpn_nat_.empty() ? nullptr : &vpn_nat_; }
  bool forward_between_vpns() const { return forward_between_vpns_; }

  // Interface index of a DPDK port (an interface port, not a punt port), or -1.
  int interface_of_port(uint16_t port) const {
    return port < port_to_interface_.size() ? port_to_interface_[port] : -1;
  }
  // True when the interface carries untagged traffic or the given VLAN (asked for every packet,
  // as is_local is: both inline).
  bool has_vlan(uint16_t interface, uint16_t vlan) const {
    const auto& v = vlans_[interface];
    return std::find(v.begin(), v.end(), vlan) != v.end();
  }
  // Traffic to these addresses is for the box: its own addresses and directed broadcasts.
  bool is_local(uint32_t ip) const { return std::binary_search(local_.begin(), local_.end(), ip); }
  // The attached network on interface/VLAN that contains `ip`, if any.
  const AttachedNetwork* network_for(uint16_t interface, uint16_t vlan, uint32_t ip) const;
  // The first address of the box on interface/VLAN (source of ICMP errors), or 0.
  uint32_t first_address(uint16_t interface, uint16_t vlan) const;
  // True when `ip` is an address of the box on that interface/VLAN.
  bool owns(uint16_t interface, uint16_t vlan, uint32_t ip) const;
  bool proxies(uint16_t interface, uint32_t ip) const;

  // Bulk route lookup: next-hop index per destination, or -1 for no route.
  void route(const uint32_t* destinations, int32_t* next_hops, unsigned count) const;
  int32_t route(uint32_t destination) const;
  // The interface that the route to `destination` leaves by, or -1.
  int egress_interface(uint32_t destination) const {
    const int32_t hop = route(destination);
    return hop < 0 ? -1 : next_hops_[hop].interface;
  }
  const NextHop& next_hop(int32_t index) const { return next_hops_[index]; }

 private:
  Generation() = default;

  uint64_t number_ = 0;
  std::unique_ptr<Filter> filter_;
  nat::Rules nat_;
  conntrack::Timeouts timeouts_{};
  uint16_t ipsec_mtu_ = 1414;
  struct VpnTunnel {
    config::Ipv4Prefix local, remote;
    uint16_t connection;
  };
  std::vector<VpnTunnel> vpn_tunnels_;
  std::vector<std::string> vpn_names_;
  std::vector<std::string> template_names_;
  std::vector<uint16_t> template_vpn_;
  std::atomic<UserTable*> users_{nullptr};
  nat::VpnNat vpn_nat_;
  bool forward_between_vpns_ = false;
  std::vector<config::Role> roles_;
  std::vector<InterfaceRuntime> interfaces_;
  std::vector<std::vector<uint16_t>> vlans_;  // per interface; 0 = untagged
  std::vector<int> port_to_interface_;
  std::vector<AttachedNetwork> networks_;
  std::vector<uint32_t> local_;  // sorted
  std::vector<ProxyArpRange> proxy_arp_;
  std::vector<NextHop> next_hops_;
  int32_t default_hop_ = -1;  // rte_lpm has no /0: the default route is the miss result
  rte_lpm* lpm_ = nullptr;
};

}  // namespace bulwark::dataplane
