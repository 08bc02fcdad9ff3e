// NAT inside VPN tunnels (manual chapter 13), stateless and symmetrical, so that the connection
// table sees every connection by its local addresses in both directions:
//
//   local 1:1 NAT (13.2)   the local network's real addresses appear in the tunnel as the
//                          virtual network (the tunnel's negotiated local network): sites with the
//                          same internal network can be connected;
//   remote 1:1 NAT (13.5)  the remote network appears locally as a mapped block (the box answers
//                          ARP for it), so hosts without a route to the remote network reach it.
//
// Outbound (after connection tracking, before the policy lookup) a packet from a real local
// address to a mapped remote address is translated to the tunnel's addresses; inbound (after
// decryption and the selector check, before connection tracking) the other way. Address blocks
// map by offset, like 1:1 NAT of networks (manual 3.4).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "config/tables.h"

namespace bulwark::nat {

class VpnNat {
 public:
  VpnNat() = default;
  explicit VpnNat(const std::vector<config::VpnConnectionEntry>& connections);
  bool empty() const { return tunnels_.empty(); }

  // From the local side into a tunnel: true (and the tunnel's addresses in `src`, `dst`) when a
  // tunnel with NAT covers the packet.
  bool outbound(uint32_t& src, uint32_t& dst) const;
  // Out of a tunnel (decrypted, tunnel addresses) to the local side: true (and the local view's
  // addresses) when a tunnel with NAT covers it.
  bool inbound(uint32_t& src, uint32_t& dst) const;

 private:
  struct Block {
    config::Ipv4Prefix from, to;  // same length
    bool contains(uint32_t ip) const { return from.contains(config::Ipv4Address{ip}); }
    uint32_t map(uint32_t ip) const { return to.network().value | (ip & ~from.mask()); }
  };
  struct Tunnel {
    std::vector<Block> local;            // real -> virtual; empty: the tunnel's local network as is
    config::Ipv4Prefix local_network;    // the tunnel's (virtual) local network
    std::optional<Block> remote;         // mapped -> real remote; none: the remote network as is
    config::Ipv4Prefix remote_network;
  };
  std::vector<Tunnel> tunnels_;  // only tunnels with some NAT
};

}  // namespace bulwark::nat
