// The pipeline's slow paths: ARP, ICMP errors, fragmentation, and the hold queue of packets
// waiting for their next hop to answer ARP.
#include <rte_ip_frag.h>

#include <algorithm>
#include <cstring>

#include "dataplane/checksum.h"
#include "dataplane/headers.h"
#include "dataplane/pipeline.h"
#include "nat/rewrite.h"

namespace bulwark::dataplane {
namespace {

constexpr unsigned kArpTries = 3;
constexpr size_t kIcmpErrorMax = 576;  // RFC 1812 4.3.2.3
constexpr double kIcmpRate = 100;      // errors per second per worker
constexpr double kIcmpBurst = 100;
constexpr unsigned kMaxFragments = 64;

bool is_icmp_error(uint8_t type) {
  return type == kIcmpUnreachable || type == 4 || type == 5 || type == kIcmpTimeExceeded ||
         type == kIcmpParameterProblem;
}

}  // namespace

// --- ARP ---------------------------------------------------------------------------------

void Pipeline::handle_arp(const Generation& g, rte_mbuf* m, uint16_t interface, uint16_t vlan,
                          uint16_t l3_offset, uint64_t now) {
  if (rte_pktmbuf_data_len(m) < l3_offset + sizeof(ArpPacket)) {
    drop(m, DropReason::arp_malformed);
    return;
  }
  auto* eth = rte_pktmbuf_mtod(m, EthernetHeader*);
  auto* arp = rte_pktmbuf_mtod_offset(m, ArpPacket*, l3_offset);
  uint16_t op = arp->operation.to_host();
  if (arp->hardware_type.to_host() != 1 || arp->protocol_type.to_host() != kEtherTypeIpv4 ||
      arp->hardware_length != 6 || arp->protocol_length != 4 ||
      (op != kArpRequest && op != kArpReply)) {
    drop(m, DropReason::arp_malformed);
    return;
  }
  uint32_t sender = arp->sender_ip.to_host();
  uint32_t target = arp->target_ip.to_host();
  const uint8_t* own_mac = g.interfaces()[interface].mac;
  bool for_us = g.owns(interface, vlan, target);
  bool proxied = !for_us && op == kArpRequest && g.proxies(interface, target) &&
                 !g.proxies(interface, sender);

  // Learn the sender when it is on this link: from replies, and from requests that are for us
  // or refresh an entry we have (RFC 826 merge).
  if (sender != 0 && g.network_for(interface, vlan, sender) && !g.owns(interface, vlan, sender)) {
    bool learn = op == kArpReply || for_us || res_.neighbours->contains(sender, now);
    if (learn) {
      res_.neighbours->learn(sender, arp->sender_mac, now);
      counters_.event(Event::neighbours_learned);
    }
  }

  // The kernel on the exception path sends its own ARP requests; give it the replies.
  uint16_t punt_port = g.interfaces()[interface].punt_port;
  if (op == kArpReply && punt_port != kNoPort && std::memcmp(eth->dst, own_mac, 6) == 0) {
    if (rte_mbuf* copy = rte_pktmbuf_copy(m, res_.pool, 0, UINT32_MAX)) {
      tx_.send(punt_port, copy, TxKind::kCopy);
    }
  }

  if (op != kArpRequest || !(for_us || proxied)) {
    counters_.consumed.add();
    rte_pktmbuf_free(m);
    return;
  }

  // Turn the request into the reply in place: the request is consumed, the reply generated.
  counters_.consumed.add();
  uint32_t pkt_len = rte_pktmbuf_pkt_len(m);
  if (pkt_len > l3_offset + sizeof(ArpPacket)) {
    rte_pktmbuf_trim(m, static_cast<uint16_t>(pkt_len - l3_offset - sizeof(ArpPacket)));
  }
  uint8_t requester_mac[6];
  std::memcpy(requester_mac, arp->sender_mac, 6);
  std::memcpy(eth->dst, requester_mac, 6);
  std::memcpy(eth->src, own_mac, 6);
  arp->operation = Be16::from_host(kArpReply);
  std::memcpy(arp->target_mac, requester_mac, 6);
  arp->target_ip = Be32::from_host(sender);
  std::memcpy(arp->sender_mac, own_mac, 6);
  arp->sender_ip = Be32::from_host(target);
  counters_.event(Event::arp_replies_sent);
  tx_.send(g.interfaces()[interface].port, m, TxKind::kGenerated);
}

void Pipeline::send_arp_request(const Generation& g, uint16_t interface, uint16_t vlan,
                                uint32_t target) {
  const AttachedNetwork* net = g.network_for(interface, vlan, target);
  rte_mbuf* m = rte_pktmbuf_alloc(res_.pool);
  if (!m) {
    counters_.event(Event::tx_generated_failed);
    return;
  }
  const uint16_t l2 = l2_length(vlan);
  auto* eth = reinterpret_cast<EthernetHeader*>(rte_pktmbuf_append(m, l2 + sizeof(ArpPacket)));
  if (!eth) {
    rte_pktmbuf_free(m);
    counters_.event(Event::tx_generated_failed);
    return;
  }
  const uint8_t* own_mac = g.interfaces()[interface].mac;
  static constexpr uint8_t kBroadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  write_ethernet(eth, kBroadcast, own_mac, vlan, kEtherTypeArp);
  auto* arp = rte_pktmbuf_mtod_offset(m, ArpPacket*, l2);
  arp->hardware_type = Be16::from_host(1);
  arp->protocol_type = Be16::from_host(kEtherTypeIpv4);
  arp->hardware_length = 6;
  arp->protocol_length = 4;
  arp->operation = Be16::from_host(kArpRequest);
  std::memcpy(arp->sender_mac, own_mac, 6);
  arp->sender_ip = Be32::from_host(net ? net->address : g.first_address(interface, vlan));
  std::memset(arp->target_mac, 0, 6);
  arp->target_ip = Be32::from_host(target);
  counters_.event(Event::arp_requests_sent);
  tx_.send(g.interfaces()[interface].port, m, TxKind::kGenerated);
}

// --- ICMP errors -------------------------------------------------------------------------

bool Pipeline::icmp_allowed(uint64_t now) {
  if (now > icmp_refill_) {
    icmp_tokens_ = std::min(kIcmpBurst, icmp_tokens_ + double(now - icmp_refill_) * kIcmpRate /
                                                           double(res_.hz));
  }
  icmp_refill_ = now;
  if (icmp_tokens_ < 1) {
    counters_.event(Event::icmp_rate_limited);
    return false;
  }
  icmp_tokens_ -= 1;
  return true;
}

void Pipeline::send_icmp_error(const Generation& g, const rte_mbuf* offending, uint16_t ip_offset,
                               uint16_t interface, uint16_t vlan, uint8_t type, uint8_t code,
                               uint16_t mtu, uint64_t now, const conntrack::FlowKey* original,
                               bool out_of_tunnel) {
  const auto* orig = rte_pktmbuf_mtod_offset(offending, const Ipv4Header*, ip_offset);
  // RFC 1812 4.3.2.7: never about ICMP errors, non-first fragments, or from broadcasts.
  if (orig->fragment_offset() != 0) return;
  if (orig->protocol == 1 &&
      orig->header_length() + sizeof(IcmpHeader) <= size_t{rte_pktmbuf_data_len(offending)} - ip_offset) {
    const auto* icmp = reinterpret_cast<const IcmpHeader*>(
        reinterpret_cast<const uint8_t*>(orig) + orig->header_length());
    if (is_icmp_error(icmp->type)) return;
  }
  const uint32_t src = original ? original->src : orig->src.to_host();
  const AttachedNetwork* net = g.network_for(interface, vlan, src);
  if (net && src == net->broadcast) return;
  // From the box's address toward the sender, or, when the packet's destination was translated
  // (port forwarding, 1:1 NAT), from the address the sender sent it to: never from, or about,
  // the internal host.
  const bool destination_translated = original && original->dst != orig->dst.to_host();
  uint32_t from = destination_translated ? original->dst : g.first_address(interface, vlan);
  // Out of a tunnel the answer must go back through it (send_generated_ip looks up the policy),
  // which carries only addresses of its local network: the box's address toward the packet's
  // destination when it is one, else the address the sender used (always one).
  if (out_of_tunnel && ipsec_) {
    auto carried = [&](uint32_t a) { return a != 0 && ipsec_->outbound(a, src, 1) != nullptr; };
    if (!carried(from)) {
      const int32_t hop = g.route(orig->dst.to_host());
      const uint32_t own = hop < 0 ? 0 : g.first_address(g.next_hop(hop).interface, g.next_hop(hop).vlan);
      from = carried(own) ? own : original ? original->dst : orig->dst.to_host();
    }
  }
  if (from == 0 || !icmp_allowed(now)) return;

  uint32_t quote = std::min<uint32_t>(orig->total_length.to_host(),
                                      kIcmpErrorMax - sizeof(Ipv4Header) - sizeof(IcmpHeader));
  quote = std::min<uint32_t>(quote, rte_pktmbuf_pkt_len(offending) - ip_offset);
  rte_mbuf* m = rte_pktmbuf_alloc(res_.pool);
  if (!m) {
    counters_.event(Event::tx_generated_failed);
    return;
  }
  uint16_t total = static_cast<uint16_t>(sizeof(Ipv4Header) + sizeof(IcmpHeader) + quote);
  auto* ip = reinterpret_cast<Ipv4Header*>(rte_pktmbuf_append(m, total));
  if (!ip) {
    rte_pktmbuf_free(m);
    counters_.event(Event::tx_generated_failed);
    return;
  }
  ip->version_ihl = 0x45;
  ip->tos = 0xc0;
  ip->total_length = Be16::from_host(total);
  ip->id = Be16{};
  ip->fragment = Be16{};
  ip->ttl = 64;
  ip->protocol = 1;
  ip->src = Be32::from_host(from);
  ip->dst = Be32::from_host(src);
  ipv4_set_checksum(*ip);
  auto* icmp = reinterpret_cast<IcmpHeader*>(ip + 1);
  icmp->type = type;
  icmp->code = code;
  icmp->checksum = Be16{};
  icmp->rest_high = Be16{};
  icmp->rest_low = Be16::from_host(mtu);
  // rte_pktmbuf_read copies only when the data is not contiguous; otherwise it points into it.
  if (const void* data = rte_pktmbuf_read(offending, ip_offset, quote, icmp + 1); data != icmp + 1) {
    std::memcpy(icmp + 1, data, quote);
  }
  // Translated since it arrived: the quote is turned back into what the sender sent (the same
  // incremental updates in reverse restore its checksums).
  if (original) nat::rewrite(reinterpret_cast<uint8_t*>(icmp + 1), quote, *original);
  icmp->checksum = Be16::from_host(internet_checksum(icmp, sizeof(IcmpHeader) + quote));
  counters_.event(Event::icmp_errors_sent);
  send_generated_ip(g, m, now);
}

void Pipeline::send_icmp_error_about(const Generation& g, const rte_mbuf* m, uint16_t interface, uint16_t vlan,
                                     const Flow& f, uint8_t type, uint8_t code, uint16_t mtu, uint64_t now) {
  if (f.encapsulated) {
    send_icmp_error(g, m, 0, interface, vlan, type, code, mtu, now);
  } else if (f.via) {
    const conntrack::FlowKey sent = as_sent(g, f.key);
    send_icmp_error(g, m, 0, interface, vlan, type, code, mtu, now, &sent, true);
  } else {
    send_icmp_error(g, m, 0, interface, vlan, type, code, mtu, now, &f.key);
  }
}

conntrack::FlowKey Pipeline::as_sent(const Generation& g, const conntrack::FlowKey& local_view) {
  conntrack::FlowKey out = local_view;
  if (!g.vpn_nat()) return out;
  // The answer's way into the tunnel (local -> remote) maps both addresses to the tunnel's.
  uint32_t local = local_view.dst, remote = local_view.src;
  if (g.vpn_nat()->outbound(local, remote) == nat::VpnNat::Outbound::kOneToOne) {
    out.src = remote;
    out.dst = local;
  }
  return out;
}

void Pipeline::send_generated_ip(const Generation& g, rte_mbuf* m, uint64_t now) {
  const auto* ip = rte_pktmbuf_mtod(m, const Ipv4Header*);
  uint32_t dst = ip->dst.to_host();
  // An answer to tunnel traffic (an ICMP error, a reset) goes back through the tunnel.
  if (ipsec_) {
    if (const OutboundPolicy* p = ipsec_->outbound(ip->src.to_host(), dst, ip->protocol)) {
      if (!p->sa) {
        counters_.event(Event::tx_generated_failed);
        rte_pktmbuf_free(m);
        return;
      }
      if (encapsulate(g, *p->sa, m, 0, 0, false, now)) send_outer(g, m, TxKind::kGenerated, now);
      return;
    }
  }
  int32_t hop = g.route(dst);
  if (hop < 0) {
    counters_.event(Event::tx_generated_failed);
    rte_pktmbuf_free(m);
    return;
  }
  const NextHop& nh = g.next_hop(hop);
  emit(g, m, Egress{nh.interface, nh.vlan, nh.gateway ? nh.gateway : dst}, TxKind::kGenerated, now);
}

// --- Fragmentation -----------------------------------------------------------------------

int Pipeline::split(rte_mbuf* m, uint16_t mtu, rte_mbuf** pieces, uint16_t capacity) {
  const int n = rte_ipv4_fragment_packet(m, pieces, capacity, mtu, res_.pool, res_.indirect_pool);
  if (n <= 0) {
    drop(m, DropReason::fragmentation_failed);
    return 0;
  }
  rte_pktmbuf_free(m);
  counters_.event(Event::packets_fragmented);
  for (int i = 0; i < n; ++i) ipv4_set_checksum(*rte_pktmbuf_mtod(pieces[i], Ipv4Header*));
  return n;
}

void Pipeline::fragment_and_send(const Generation& g, rte_mbuf* m, const Egress& out,
                                 uint64_t now) {
  rte_mbuf* fragments[kMaxFragments];
  const int n = split(m, g.interfaces()[out.interface].mtu, fragments, kMaxFragments);
  for (int i = 0; i < n; ++i) {
    emit(g, fragments[i], out, i == 0 ? TxKind::kForwarded : TxKind::kGenerated, now);
  }
}

void Pipeline::punt_in_pieces(rte_mbuf* m, uint16_t port, uint16_t ip_offset, uint16_t mtu) {
  uint8_t l2[sizeof(EthernetHeader) + sizeof(VlanTag)];
  std::memcpy(l2, rte_pktmbuf_mtod(m, const uint8_t*), ip_offset);
  rte_pktmbuf_adj(m, ip_offset);
  rte_mbuf* pieces[kMaxFragments];
  const int n = split(m, mtu, pieces, kMaxFragments);
  for (int i = 0; i < n; ++i) {
    auto* head = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(pieces[i], ip_offset));
    if (!head) {  // not expected: fragment headers come from our own pool, with headroom
      if (i == 0) {
        drop(pieces[i], DropReason::fragmentation_failed);
      } else {
        rte_pktmbuf_free(pieces[i]);
      }
      continue;
    }
    std::memcpy(head, l2, ip_offset);
    // The packet is punted once; its other pieces are no outcome of their own (the fragments it
    // was reassembled from counted as consumed).
    tx_.send(port, pieces[i], i == 0 ? TxKind::kPunted : TxKind::kCopy);
  }
}

// --- Hold queue --------------------------------------------------------------------------

void Pipeline::hold(const Generation& g, rte_mbuf* m, const Egress& out, TxKind kind,
                    uint64_t now) {
  set_tx_kind(m, kind);
  Pending* slot = nullptr;
  Pending* free_slot = nullptr;
  for (auto& p : pending_) {
    if (p.ip == out.next_hop_ip && p.interface == out.interface) {
      slot = &p;
      break;
    }
    if (p.ip == 0 && !free_slot) free_slot = &p;
  }
  if (!slot) {
    if (!free_slot) {
      discard(m, DropReason::neighbour_hold_full);
      return;
    }
    slot = free_slot;
    slot->ip = out.next_hop_ip;
    slot->interface = out.interface;
    slot->vlan = out.vlan;
    slot->tries = 1;
    slot->last_request = now;
    slot->count = 0;
    send_arp_request(g, out.interface, out.vlan, out.next_hop_ip);
  }
  if (slot->count == slot->packets.size()) {
    discard(m, DropReason::neighbour_hold_full);
    return;
  }
  slot->packets[slot->count++] = m;
  ++held_total_;
}

void Pipeline::discard(rte_mbuf* m, DropReason reason) {
  if (tx_kind(m) == TxKind::kForwarded) {
    drop(m, reason);
  } else {
    counters_.event(Event::tx_generated_failed);
    rte_pktmbuf_free(m);
  }
}

rte_mbuf* Pipeline::reassemble(rte_mbuf* m, uint16_t ip_offset, uint64_t now) {
  const Reassembly::Result r = reassembly_.add(m, ip_offset, now);
  if (r.given_up) counters_.drop(DropReason::reassembly_failed, r.given_up);
  if (r.merged) counters_.consumed.add(r.merged);
  if (r.whole) counters_.event(Event::packets_reassembled);
  return r.whole;
}

void Pipeline::drop_pending(Pending& p, DropReason reason) {
  for (uint8_t i = 0; i < p.count; ++i) discard(p.packets[i], reason);
  held_total_ -= p.count;
  p = Pending{};
}

void Pipeline::service(const Generation& g, uint64_t now) {
  if (const uint32_t expired = reassembly_.expire(now)) counters_.drop(DropReason::reassembly_failed, expired);
  if (held_total_ == 0) {
    // Slots without packets cannot exist: a slot is created for a packet.
    return;
  }
  for (auto& p : pending_) {
    if (p.ip == 0) continue;
    uint8_t mac[6];
    if (res_.neighbours->lookup(p.ip, now, mac)) {
      for (uint8_t i = 0; i < p.count; ++i) {
        write_l2_and_send(g, p.packets[i], p.interface, p.vlan, mac, tx_kind(p.packets[i]));
      }
      held_total_ -= p.count;
      p = Pending{};
      continue;
    }
    if (now - p.last_request < res_.hz) continue;
    if (p.tries < kArpTries) {
      ++p.tries;
      p.last_request = now;
      send_arp_request(g, p.interface, p.vlan, p.ip);
    } else {
      unreachable_pending(g, p, now);
    }
  }
  flush_drops();
}

void Pipeline::unreachable_pending(const Generation& g, Pending& p, uint64_t now) {
  for (uint8_t i = 0; i < p.count; ++i) {
    if (tx_kind(p.packets[i]) == TxKind::kForwarded) send_host_unreachable(g, p.packets[i], now);
  }
  drop_pending(p, DropReason::neighbour_unresolved);
}

void Pipeline::send_host_unreachable(const Generation& g, rte_mbuf* held, uint64_t now) {
  auto* ip = rte_pktmbuf_mtod(held, Ipv4Header*);
  const size_t available = rte_pktmbuf_data_len(held);
  conntrack::FlowKey now_key;
  if (!nat::read_tuple(reinterpret_cast<const uint8_t*>(ip), available, now_key)) return;
  // The packet's tuple as it arrived: its connection's other direction is the reversed tuple
  // as it is now (the translated view); no connection (unfiltered traffic): not translated.
  conntrack::FlowKey original = now_key;
  conntrack::Direction d;
  bool out_of_tunnel = false;
  if (conntrack::Entry* e = conntrack_.lookup(now_key.reversed(), now, d)) {
    original = d == conntrack::Direction::kReply ? e->key : conntrack_.reply_key(*e);
    // Held for the local side, so out of a tunnel when its connection goes through one.
    out_of_tunnel = (e->flags & kThroughVpn) != 0;
    if (out_of_tunnel) original = as_sent(g, original);
  }
  // What the box sends itself (ESP of a tunnel, its own answers) has no sender to tell.
  if (g.is_local(original.src)) return;
  // Back towards the sender; out of a tunnel the error is protected instead of routed
  // (send_generated_ip), and the interface the packet was held for names the box's side.
  const int32_t hop = g.route(out_of_tunnel ? now_key.dst : original.src);
  if (hop < 0) return;
  const NextHop& back = g.next_hop(hop);
  // Routing took one off the TTL: the quote shows the one the sender chose.
  if (ip->ttl < 255) {
    ++ip->ttl;
    ipv4_set_checksum(*ip);
  }
  send_icmp_error(g, held, 0, back.interface, back.vlan, kIcmpUnreachable, 1, 0, now, &original, out_of_tunnel);
}

void Pipeline::drop_held() {
  for (auto& p : pending_) {
    if (p.ip != 0) drop_pending(p, DropReason::neighbour_unresolved);
  }
  flush_drops();
  if (const uint32_t pieces = reassembly_.give_up_all()) counters_.drop(DropReason::reassembly_failed, pieces);
}

}  // namespace bulwark::dataplane
