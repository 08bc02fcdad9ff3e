#include "nat/vpn_nat.h"

namespace bulwark::nat {

VpnNat::VpnNat(const std::vector<config::VpnConnectionEntry>& connections) {
  for (const auto& c : connections) {
    for (const auto& t : c.tunnels) {
      if (t.transport) continue;
      if (t.local_nat == config::LocalNat::Mode::kMasquerade) {
        masquerades_.push_back({t.masquerade_internal, t.remote, t.local.network().value});
        continue;
      }
      const bool local = t.local_nat == config::LocalNat::Mode::kOneToOne && !t.local_nat_map.empty();
      if (!local && !t.remote_nat) continue;
      Tunnel tunnel;
      tunnel.local_network = t.local;
      tunnel.remote_network = t.remote;
      if (local) {
        for (const auto& m : t.local_nat_map) tunnel.local.push_back({m.real, m.virtual_network});
      }
      if (t.remote_nat) tunnel.remote = Block{*t.remote_nat, t.remote};
      tunnels_.push_back(std::move(tunnel));
    }
  }
}

VpnNat::Outbound VpnNat::outbound(uint32_t& src, uint32_t& dst) const {
  for (const auto& m : masquerades_) {
    if (m.internal.contains(config::Ipv4Address{src}) && m.remote_network.contains(config::Ipv4Address{dst})) {
      src = m.address;
      return Outbound::kMasquerade;
    }
  }
  for (const auto& t : tunnels_) {
    uint32_t s = src, d = dst;
    if (t.remote) {
      if (!t.remote->contains(d)) continue;
      d = t.remote->map(d);
    } else if (!t.remote_network.contains(config::Ipv4Address{d})) {
      continue;
    }
    bool local_ok = t.local.empty() && t.local_network.contains(config::Ipv4Address{s});
    for (const auto& b : t.local) {
      if (b.contains(s)) {
        s = b.map(s);
        local_ok = true;
        break;
      }
    }
    if (!local_ok) continue;
    src = s;
    dst = d;
    return Outbound::kOneToOne;
  }
  return Outbound::kNone;
}

bool VpnNat::masquerades(uint32_t dst) const {
  for (const auto& m : masquerades_) {
    if (m.address == dst) return true;
  }
  return false;
}

bool VpnNat::inbound(uint32_t& src, uint32_t& dst) const {
  for (const auto& t : tunnels_) {
    if (!t.remote_network.contains(config::Ipv4Address{src}) || !t.local_network.contains(config::Ipv4Address{dst})) {
      continue;
    }
    uint32_t s = src, d = dst;
    if (t.remote) s = Block{t.remote->to, t.remote->from}.map(s);
    for (const auto& b : t.local) {
      const Block back{b.to, b.from};
      if (back.contains(d)) {
        d = back.map(d);
        break;
      }
    }
    src = s;
    dst = d;
    return true;
  }
  return false;
}

}  // namespace bulwark::nat
