// NAT inside VPN tunnels (manual chapter 13), stateless and symmetrical, so that the connection
// table sees every connection by its local addresses in both directions:
//
//   local 1:1 NAT (13.2)   the local network's real addresses appear in the tunnel as the
//                          virtual network (the tunnel's negotiated local network): sites with the
//                          same internal network can be connected;
//   remote 1:1 NAT (13.5)  the remote network appears locally as a mapped block (the box answers
//                          ARP for it), so hosts without a route to the remote network reach it;
//   local masquerading     a whole internal network leaves through the tunnel from the tunnel's
//   (13.4)                 single local address, one-directional: this one is stateful (ports are
//                          allocated and the connection table translates the answers), so
//                          `outbound` only names the address and the caller tracks the rest.
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
  bool empty() const { return tunnels_.empty() && masquerades_.empty(); }

  // From the local side into a tunnel: the tunnel's addresses in `src`, `dst` when a tunnel with
  // NAT covers the packet; kMasquerade: `src` is the address to masquerade behind.
  enum class Outbound : uint8_t { kNone, kOneToOne, kMasquerade };
  Outbound outbound(uint32_t& src, uint32_t& dst) const;
  // True when `dst` is a local masquerading address of a tunnel (nothing may open a connection
  // to it from the tunnel).
  bool masquerades(uint32_t dst) const;
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
  struct Masquerade {
    config::Ipv4Prefix internal, remote_network;
    uint32_t address = 0;
  };
  std::vector<Tunnel> tunnels_;  // only tunnels with 1:1 NAT
  std::vector<Masquerade> masquerades_;
};

}  // namespace bulwark::nat
