// The NAT rules of one generation, compiled from the configuration's NAT tables, and the
// decisions they make for a new connection (docs/nat.md):
//   destination() — before routing: port forwarding, then 1:1 NAT towards a virtual address;
//   source()      — after the filter: 1:1 NAT of a real source leaving through the virtual
//                   network's interface, then masquerading.
// Port allocation happens in the dataplane, which owns the connection table.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/tables.h"
#include "conntrack/conntrack.h"

namespace bulwark::nat {

struct DestinationNat {
  uint32_t dst = 0;
  uint16_t dst_port = 0;  // for TCP/UDP; unchanged otherwise
  bool forwarded = false; // a port forwarding: the packet filter does not apply
  uint16_t position = 0;  // the forwarding's 1-based place in nat.port_forwarding (0: 1:1 NAT)
  bool log = false;       // the forwarding's `log` flag
};

struct SourceNat {
  uint32_t src = 0;
  bool allocate_port = false;  // masquerading (and hairpin): a port from the range
};

class Rules {
 public:
  Rules() = default;
  explicit Rules(const config::NatTables& tables);

  bool empty() const { return one_to_one_.empty() && masquerade_.empty() && forwards_.empty(); }
  config::PortRange port_range() const { return port_range_; }
  bool endpoint_independent() const { return endpoint_independent_; }

  std::optional<DestinationNat> destination(const conntrack::FlowKey& k) const;
  std::optional<SourceNat> source(const conntrack::FlowKey& k, uint16_t out_interface) const;
  // Stateless 1:1 mapping for fragments after the first (they carry no ports).
  std::optional<uint32_t> virtual_to_real(uint32_t dst) const;
  std::optional<uint32_t> real_to_virtual(uint32_t src, uint16_t out_interface) const;
  // Addresses whose traffic needs a connection to be translated (masquerading, forwarding).
  bool is_stateful_address(uint32_t ip) const;
  // Must the fragments of a packet from `src` to `dst` be reassembled before translation? True
  // when the translation needs the ports, which only the first fragment carries: masquerading
  // (`toward_dst`: the interface the route to `dst` leaves by, or -1) and port forwarding, both
  // ways. 1:1 NAT translates fragments one by one.
  bool needs_whole_packets(uint32_t src, uint32_t dst, int toward_dst) const;
  // Could the connection of packet `k` be translated by these rules, in either direction? True
  // alike for a packet and its connection's answers (translated or not), so that one worker can
  // own all such connections (docs/conntrack.md, "Several workers"). `toward_dst` and
  // `toward_src`: the interfaces that the routes to k.dst and to k.src leave by, or -1.
  // `ports`: k carries its ports (not a fragment after the first). The box's own addresses are
  // the caller's to check.
  bool may_translate(const conntrack::FlowKey& k, bool ports, int toward_dst, int toward_src) const;
  bool has_masquerading() const { return !masquerade_.empty(); }
  // One line per configured mapping, for `bulwark nat`.
  std::vector<std::string> describe(const std::vector<std::string>& interface_names) const;

 private:
  struct OneToOne {
    uint32_t real, virt, mask;
    uint16_t interface;
  };
  std::vector<OneToOne> one_to_one_;
  std::vector<config::MasqueradeEntry> masquerade_;
  std::vector<config::PortForwardEntry> forwards_;
  config::PortRange port_range_{1024, 65535};
  bool endpoint_independent_ = false;
};

}  // namespace bulwark::nat
