// The fast path: Ethernet, IPv4 checks, local delivery, routing, TTL, neighbour, transmit.
#include "dataplane/pipeline.h"

#include <rte_cycles.h>

#include <cstring>

#include "dataplane/checksum.h"
#include "dataplane/headers.h"

namespace bulwark::dataplane {
namespace {

constexpr uint8_t kBroadcastMac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

bool is_martian_source(uint32_t ip) {
  uint8_t first = static_cast<uint8_t>(ip >> 24);
  return first == 0 || first == 127 || first >= 224;
}

bool is_not_routable_destination(uint32_t ip) {
  return (ip >> 28) == 0xe || ip == 0xffffffff || (ip >> 24) == 0 || (ip >> 24) == 127;
}

// A DHCP server's answer to a client (RFC 2131: server port 67 to client port 68), untagged and
// not out of a tunnel.
bool is_dhcp_answer(const Pipeline::Flow& f, uint16_t vlan) {
  return vlan == 0 && !f.via && !f.trailing_fragment && f.key.protocol == 17 && f.key.src_port == 67 &&
         f.key.dst_port == 68;
}

}  // namespace

Pipeline::Pipeline(const PipelineResources& resources, WorkerCounters& counters, Transmitter& tx)
    : res_(resources),
      counters_(counters),
      tx_(tx),
      conntrack_(resources.conntrack_capacity,
                 conntrack::Timeouts::from_config(config::ConntrackTimeouts{}, resources.hz),
                 resources.conntrack_seed),
      endpoint_mappings_(resources.conntrack_capacity / 2),
      reassembly_(resources.hz) {
  conntrack_.set_session_observer(this);
}

void Pipeline::drop(rte_mbuf* m, DropReason reason) {
  counters_.drop(reason);
  if (drop_count_ == drops_.size()) flush_drops();
  drops_[drop_count_++] = m;
}

void Pipeline::flush_drops() {
  if (drop_count_) rte_pktmbuf_free_bulk(drops_.data(), drop_count_);
  drop_count_ = 0;
}

void Pipeline::punt(const Generation& g, rte_mbuf* m, uint16_t interface) {
  uint16_t port = g.interfaces()[interface].punt_port;
  if (port == kNoPort) {
    drop(m, DropReason::punt_unavailable);
    return;
  }
  tx_.send(port, m, TxKind::kPunted);
}

void Pipeline::punt_ip(const Generation& g, rte_mbuf* m, uint16_t interface, uint16_t ip_offset) {
  const uint16_t mtu = g.interfaces()[interface].mtu;
  const uint16_t port = g.interfaces()[interface].punt_port;
  if (port == kNoPort || rte_pktmbuf_mtod_offset(m, const Ipv4Header*, ip_offset)->total_length.to_host() <= mtu) {
    punt(g, m, interface);
    return;
  }
  punt_in_pieces(m, port, ip_offset, mtu);
}

bool Pipeline::check_ipv4(rte_mbuf* m, uint16_t offset) {
  uint32_t l3_len = rte_pktmbuf_pkt_len(m) - offset;
  if (rte_pktmbuf_data_len(m) < offset + sizeof(Ipv4Header)) {
    drop(m, DropReason::ipv4_truncated);
    return false;
  }
  const auto* h = rte_pktmbuf_mtod_offset(m, const Ipv4Header*, offset);
  if (h->version() != 4) {
    drop(m, DropReason::ipv4_bad_version);
    return false;
  }
  unsigned ihl = h->header_length();
  if (ihl < sizeof(Ipv4Header)) {
    drop(m, DropReason::ipv4_bad_ihl);
    return false;
  }
  if (rte_pktmbuf_data_len(m) < offset + ihl) {
    drop(m, DropReason::ipv4_truncated);
    return false;
  }
  unsigned total = h->total_length.to_host();
  if (total < ihl || total > l3_len) {
    drop(m, DropReason::ipv4_bad_length);
    return false;
  }
  if (!ipv4_header_valid(*h)) {
    drop(m, DropReason::ipv4_bad_checksum);
    return false;
  }
  if (is_martian_source(h->src.to_host())) {
    drop(m, DropReason::ipv4_martian_source);
    return false;
  }
  if (total < l3_len) rte_pktmbuf_trim(m, static_cast<uint16_t>(l3_len - total));
  return true;
}

bool Pipeline::translates_ports(const Generation& g, const Ipv4Header& h, const SaRuntime* via) const {
  const uint32_t src = h.src.to_host(), dst = h.dst.to_host();
  const nat::VpnNat* vpn_nat = g.vpn_nat();
  // Out of a tunnel: answers to local masquerading (13.4), when the SA admits them at all.
  if (via) return vpn_nat && via->admits(src, dst) && vpn_nat->masquerades(dst);
  const nat::Rules& rules = g.nat();
  if (!rules.empty() && rules.needs_whole_packets(src, dst, rules.has_masquerading() ? g.egress_interface(dst) : -1)) {
    return true;
  }
  // Into a tunnel with local masquerading.
  uint32_t tunnel_src = src, tunnel_dst = dst;
  return vpn_nat && vpn_nat->outbound(tunnel_src, tunnel_dst) == nat::VpnNat::Outbound::kMasquerade;
}

void Pipeline::process(const Generation& g, rte_mbuf** pkts, uint16_t n, uint16_t port,
                       uint64_t now, bool handed_over) {
  if (!handed_over) counters_.received.add(n);
  counters_.stage(Stage::ethernet, n);
  users_ = g.users();
  // Per-stage cycle accounting, for bulwark bench only: one branch per burst otherwise.
  uint64_t mark = res_.profile ? rte_rdtsc() : 0;
  auto lap = [&](Stage s) {
    if (!res_.profile) return;
    uint64_t t = rte_rdtsc();
    counters_.stage_cycles[static_cast<size_t>(s)].add(t - mark);
    mark = t;
  };
  int in = g.interface_of_port(port);
  if (in < 0) {
    for (uint16_t i = 0; i < n; ++i) drop(pkts[i], DropReason::no_tables);
    flush_drops();
    return;
  }
  const auto iface = static_cast<uint16_t>(in);
  const uint8_t* own_mac = g.interfaces()[iface].mac;
  if (g.number() != timeouts_generation_) {
    conntrack_.set_timeouts(g.timeouts());
    timeouts_generation_ = g.number();
  }

  // Stage 1: Ethernet. IPv4 frames continue in `ip`, with their VLAN and L3 offset.
  rte_mbuf* ip[kBurstSize];
  uint16_t ip_vlan[kBurstSize];
  uint16_t ip_offset[kBurstSize];
  bool ip_broadcast[kBurstSize];
  uint16_t ip_count = 0;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    uint16_t len = rte_pktmbuf_data_len(m);
    if (len < sizeof(EthernetHeader)) {
      drop(m, DropReason::frame_truncated);
      continue;
    }
    const auto* eth = rte_pktmbuf_mtod(m, const EthernetHeader*);
    bool broadcast = std::memcmp(eth->dst, kBroadcastMac, 6) == 0;
    if (!broadcast && std::memcmp(eth->dst, own_mac, 6) != 0) {
      drop(m, (eth->dst[0] & 1) ? DropReason::l2_multicast : DropReason::l2_not_for_us);
      continue;
    }
    uint16_t type = eth->ether_type.to_host();
    uint16_t offset = sizeof(EthernetHeader);
    uint16_t vlan = 0;
    if (type == kEtherTypeVlan) {
      if (len < sizeof(EthernetHeader) + sizeof(VlanTag)) {
        drop(m, DropReason::frame_truncated);
        continue;
      }
      const auto* tag = reinterpret_cast<const VlanTag*>(eth + 1);
      vlan = tag->tci.to_host() & 0x0fff;
      type = tag->ether_type.to_host();
      offset += sizeof(VlanTag);
      if (type == kEtherTypeVlan || type == kEtherTypeQinq) {
        drop(m, DropReason::vlan_unsupported);
        continue;
      }
    } else if (type == kEtherTypeQinq) {
      drop(m, DropReason::vlan_unsupported);
      continue;
    }
    if (type == kEtherTypeIpv6) {
      drop(m, DropReason::ipv6);
      continue;
    }
    if (type != kEtherTypeIpv4 && type != kEtherTypeArp) {
      drop(m, DropReason::ethertype_unsupported);
      continue;
    }
    if (!g.has_vlan(iface, vlan)) {
      drop(m, DropReason::vlan_unknown);
      continue;
    }
    if (type == kEtherTypeArp) {
      counters_.stage(Stage::arp, 1);
      handle_arp(g, m, iface, vlan, offset, now);
      continue;
    }
    ip[ip_count] = m;
    ip_vlan[ip_count] = vlan;
    ip_offset[ip_count] = offset;
    ip_broadcast[ip_count] = broadcast;
    ++ip_count;
  }

  lap(Stage::ethernet);
  // Stage 2a: IPv4 header checks and the flow of every packet, whose connection-table lines are
  // prefetched for the whole burst before stage 2b looks them up.
  counters_.stage(Stage::ipv4, ip_count);
  std::array<Flow, kBurstSize>& flows = flows_;
  uint16_t checked = 0;
  for (uint16_t i = 0; i < ip_count; ++i) {
    rte_mbuf* m = ip[i];
    const uint16_t offset = ip_offset[i];
    // ESP for the box is decrypted here; its inner packet is then checked like any received one.
    const SaRuntime* via = nullptr;
    bool valid = false;
    while (check_ipv4(m, offset)) {
      const auto* h = rte_pktmbuf_mtod_offset(m, const Ipv4Header*, offset);
      if (res_.owner && !via && for_owner(g, m, offset)) {
        m->port = port;
        handover_[handover_count_++] = m;
        break;
      }
      if (ipsec_ && !via && (h->protocol == 50 || h->protocol == 17) && g.is_local(h->dst.to_host())) {
        if (h->is_fragment()) {
          m = reassemble(m, offset, now);
          if (!m) break;
          continue;  // the whole packet, checked again
        }
        EspInbound r = decapsulate(m, offset, via, now);
        if (r == EspInbound::kDropped) break;
        if (r == EspInbound::kDecrypted) continue;
      }
      if (h->is_fragment() && translates_ports(g, *h, via)) {
        m = reassemble(m, offset, now);
        if (!m) break;
        continue;  // the whole packet, checked again
      }
      valid = true;
      break;
    }
    if (!valid) continue;
    if (via) {
      // Out of a tunnel: inside the SA's selectors, then translated to the local view (VPN NAT).
      auto* h = rte_pktmbuf_mtod_offset(m, Ipv4Header*, offset);
      uint32_t src = h->src.to_host(), dst = h->dst.to_host();
      if (!via->admits(src, dst)) {
        drop(m, DropReason::esp_selector_mismatch);
        continue;
      }
      if (g.vpn_nat() && g.vpn_nat()->inbound(src, dst)) translate(m, offset, src, dst);
    }
    flows[checked].reset();
    if (!prepare_flow(m, offset, flows[checked])) {
      drop(m, DropReason::ipv4_truncated);
      continue;
    }
    flows[checked].via = via;
    if (ipsec_ && !via && !plaintext_allowed(g, m, offset)) {
      drop(m, DropReason::ipsec_plaintext);
      continue;
    }
    if (ipsec_) look_up_policy(m, offset, flows[checked]);
    ip[checked] = m;
    ip_vlan[checked] = ip_vlan[i];
    ip_offset[checked] = offset;
    ip_broadcast[checked] = ip_broadcast[i];
    ++checked;
  }

  if (handover_count_) hand_over_burst();
  for (uint16_t i = 0; i < checked; ++i) {
    if (flows[i].hash) conntrack_.prefetch_entries(flows[i].hash);
  }

  // Stage 2b: connections and the translations of known ones (before local delivery and
  // routing: the answers to a masqueraded connection are addressed to the box but belong to an
  // internal host); stage 3: local delivery. Survivors are compacted in place.
  counters_.stage(Stage::filter, checked);
  uint16_t fwd_count = 0;
  uint16_t local_count = 0;
  uint32_t dst[kBurstSize];
  const bool dhcp_client = g.interfaces()[iface].dhcp;
  for (uint16_t i = 0; i < checked; ++i) {
    rte_mbuf* m = ip[i];
    uint16_t offset = ip_offset[i];
    Flow& flow = flows[i];
    // A DHCP server's answers reach the box's DHCP client whatever their destination (before a
    // lease the box has no address; offers go to the offered one or to broadcast), unfiltered
    // like the kernel's DHCP clients see them on their raw sockets (docs/dhcp.md).
    if (dhcp_client && is_dhcp_answer(flow, ip_vlan[i])) {
      punt_ip(g, m, iface, offset);
      continue;
    }
    if (!track(g, m, offset, now, flow)) continue;
    auto* h = rte_pktmbuf_mtod_offset(m, Ipv4Header*, offset);
    uint32_t d = h->dst.to_host();
    ++local_count;
    if (g.is_local(d)) {
      const bool admitted = !flow.is_new || (flow.via ? admit_vpn(g, m, offset, flow, flow.via, nullptr, iface, ip_vlan[i], -1, 0, now)
                                                      : admit_new(g, m, offset, flow, iface, ip_vlan[i], -1, now));
      if (admitted) punt_ip(g, m, iface, offset);
      continue;
    }
    if (is_not_routable_destination(d) || ip_broadcast[i]) {
      drop(m, DropReason::ipv4_not_routable);
      continue;
    }
    // TTL: checked before routing so that the error quotes the packet as received.
    if (h->ttl <= 1) {
      if (flow.via) {
        const conntrack::FlowKey sent = as_sent(g, flow.key);
        send_icmp_error(g, m, offset, iface, ip_vlan[i], kIcmpTimeExceeded, 0, 0, now, &sent, true);
      } else {
        send_icmp_error(g, m, offset, iface, ip_vlan[i], kIcmpTimeExceeded, 0, 0, now, &flow.key);
      }
      drop(m, DropReason::ttl_exceeded);
      continue;
    }
    // Local masquerading in a tunnel is one-directional (13.4.1): nothing opens a connection to
    // its address from the tunnel.
    if (flow.via && flow.is_new && g.vpn_nat() && g.vpn_nat()->masquerades(d)) {
      drop(m, DropReason::vpn_nat_unsolicited);
      continue;
    }
    // Into a tunnel: from here on the packet is the outer one (esp_stage.cc).
    uint16_t fwd_offset = offset;
    if (ipsec_) {
      const Protect r = into_tunnel(g, m, offset, flow, iface, ip_vlan[i], d, fwd_count, now);
      if (r == Protect::kDropped) continue;
      if (r == Protect::kEncrypted) fwd_offset = 0;
    }
    ip[fwd_count] = m;
    ip_vlan[fwd_count] = ip_vlan[i];
    ip_offset[fwd_count] = fwd_offset;
    dst[fwd_count] = d;
    if (fwd_count != i) flows[fwd_count] = flow;
    ++fwd_count;
  }
  counters_.stage(Stage::local, local_count);
  if (sealing_count_) seal_burst(ip, now);

  lap(Stage::ipv4);
  // Stage 4: route lookup for the whole burst.
  counters_.stage(Stage::route, fwd_count);
  int32_t hop[kBurstSize];
  g.route(dst, hop, fwd_count);
  lap(Stage::route);
  for (uint16_t i = 0; i < fwd_count; ++i) {
    rte_mbuf* m = ip[i];
    if (!m) continue;  // dropped while sealing
    if (hop[i] < 0) {
      rte_pktmbuf_adj(m, ip_offset[i]);
      send_icmp_error_about(g, m, iface, ip_vlan[i], flows[i], kIcmpUnreachable, 0, 0, now);
      drop(m, DropReason::no_route);
      continue;
    }
    const NextHop& nh = g.next_hop(hop[i]);
    rte_pktmbuf_adj(m, ip_offset[i]);
    if (flows[i].is_new && !(flows[i].via ? admit_vpn(g, m, 0, flows[i], flows[i].via, nullptr, iface, ip_vlan[i], nh.interface, 0, now)
                                          : admit_new(g, m, 0, flows[i], iface, ip_vlan[i], nh.interface, now))) {
      continue;
    }
    auto* h = rte_pktmbuf_mtod(m, Ipv4Header*);
    Egress out{nh.interface, nh.vlan, nh.gateway ? nh.gateway : dst[i]};
    uint16_t mtu = g.interfaces()[nh.interface].mtu;
    if (h->is_fragment()) counters_.event(Event::fragments_forwarded);
    if (h->total_length.to_host() > mtu) {
      if (h->dont_fragment()) {
        send_icmp_error_about(g, m, iface, ip_vlan[i], flows[i], kIcmpUnreachable, 4, mtu, now);
        drop(m, DropReason::mtu_exceeded);
        continue;
      }
      if (!flows[i].encapsulated) ipv4_decrement_ttl(*h);
      fragment_and_send(g, m, out, now);
      continue;
    }
    if (!flows[i].encapsulated) ipv4_decrement_ttl(*h);
    emit(g, m, out, TxKind::kForwarded, now);
  }
  lap(Stage::transmit);
  flush_drops();
}

void Pipeline::emit(const Generation& g, rte_mbuf* m, const Egress& out, TxKind kind,
                    uint64_t now) {
  counters_.stage(Stage::neighbour, 1);
  uint8_t mac[6];
  if (res_.neighbours->lookup(out.next_hop_ip, now, mac)) {
    write_l2_and_send(g, m, out.interface, out.vlan, mac, kind);
  } else {
    hold(g, m, out, kind, now);
  }
}

void Pipeline::write_l2_and_send(const Generation& g, rte_mbuf* m, uint16_t interface,
                                 uint16_t vlan, const uint8_t dst_mac[6], TxKind kind) {
  counters_.stage(Stage::transmit, 1);
  const InterfaceRuntime& out = g.interfaces()[interface];
  auto* eth = reinterpret_cast<EthernetHeader*>(rte_pktmbuf_prepend(m, l2_length(vlan)));
  if (!eth) {  // no headroom: only possible for malformed chains; count and drop
    if (kind == TxKind::kForwarded) {
      drop(m, DropReason::tx_full);
    } else {
      counters_.event(Event::tx_generated_failed);
      rte_pktmbuf_free(m);
    }
    return;
  }
  write_ethernet(eth, dst_mac, out.mac, vlan, kEtherTypeIpv4);
  tx_.send(out.port, m, kind);
}

}  // namespace bulwark::dataplane
