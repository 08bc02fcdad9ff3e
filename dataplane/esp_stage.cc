// The ESP stage: decapsulation of ESP addressed to the box (before the IPv4 checks see the inner
// packet) and encapsulation of packets an outbound policy protects (before routing, which then
// routes the outer packet). The cryptography is crypto::EspSa's; this file adapts mbufs: it
// moves headers so that the mbuf always starts with the Ethernet header (inbound) or the IPv4
// header (outbound), and writes the outer headers precomputed from the SA.
#include <rte_ip_frag.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>

#include "dataplane/checksum.h"
#include "dataplane/headers.h"
#include "dataplane/ipsec_tables.h"
#include "dataplane/pipeline.h"
#include "nat/rewrite.h"

namespace bulwark::dataplane {
namespace {

constexpr uint8_t kProtoEsp = 50;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoIpip = 4;
constexpr uint8_t kNoNextHeader = 59;  // a dummy packet (traffic flow confidentiality)

DropReason reason_of(crypto::DecryptStatus s) {
  switch (s) {
    case crypto::DecryptStatus::kReplayed:
    case crypto::DecryptStatus::kTooOld: return DropReason::esp_replayed;
    case crypto::DecryptStatus::kBadIcv: return DropReason::esp_auth_failed;
    case crypto::DecryptStatus::kBadPadding: return DropReason::esp_bad_padding;
    default: return DropReason::esp_malformed;
  }
}

}  // namespace

Pipeline::EspInbound Pipeline::decapsulate(rte_mbuf* m, uint16_t ip_offset, const SaRuntime*& via,
                                           uint64_t now) {
  auto* data = rte_pktmbuf_mtod(m, uint8_t*);
  auto* ip = reinterpret_cast<Ipv4Header*>(data + ip_offset);
  const unsigned ihl = ip->header_length();
  const unsigned total = ip->total_length.to_host();
  unsigned esp_at = ip_offset + ihl;
  if (ip->protocol == kProtoUdp) {
    // RFC 3948: a NAT keepalive (one byte 0xff) or IKE (non-ESP marker: four zero bytes) goes to
    // the IKE daemon on the exception path; anything else on port 4500 is ESP.
    if (total < ihl + sizeof(UdpHeader) + 4 || ip->is_fragment() ||
        rte_pktmbuf_data_len(m) < ip_offset + ihl + sizeof(UdpHeader) + 4) {
      return EspInbound::kNotEsp;
    }
    const auto* udp = reinterpret_cast<const UdpHeader*>(data + esp_at);
    if (udp->dst_port.to_host() != kIkeNattPort) return EspInbound::kNotEsp;
    const uint8_t* p = data + esp_at + sizeof(UdpHeader);
    if ((p[0] | p[1] | p[2] | p[3]) == 0) return EspInbound::kNotEsp;
    esp_at += sizeof(UdpHeader);
  }
  if (m->nb_segs != 1) {  // in-place crypto and header moves need the packet in one buffer
    drop(m, DropReason::esp_too_big);
    return EspInbound::kDropped;
  }
  const unsigned esp_len = ip_offset + total - esp_at;
  if (esp_len < 8) {
    drop(m, DropReason::esp_malformed);
    return EspInbound::kDropped;
  }
  uint32_t spi;
  std::memcpy(&spi, data + esp_at, 4);
  const SaRuntime* sa = ipsec_->inbound_sa(rte_be_to_cpu_32(spi));
  if (!sa || sa->outer_dst != ip->dst.to_host()) {
    drop(m, DropReason::esp_unknown_spi);
    return EspInbound::kDropped;
  }
  crypto::EspSa::Decrypted d = sa->esp->decrypt(res_.worker, data + esp_at, esp_len, now);
  if (d.status != crypto::DecryptStatus::kOk) {
    drop(m, reason_of(d.status));
    return EspInbound::kDropped;
  }
  if (d.next_header == kNoNextHeader) {
    drop(m, DropReason::esp_dummy);
    return EspInbound::kDropped;
  }
  const unsigned plain_at = esp_at + d.offset;
  unsigned new_start;  // where the frame starts after decapsulation
  if (sa->tunnel) {
    if (d.next_header != kProtoIpip) {
      drop(m, DropReason::esp_inner_not_ipv4);
      return EspInbound::kDropped;
    }
    new_start = plain_at - ip_offset;
  } else {
    // Transport mode: the outer header, now with the payload's protocol, moves up to the payload.
    auto* moved = reinterpret_cast<Ipv4Header*>(data + plain_at - ihl);
    std::memmove(moved, ip, ihl);
    moved->protocol = d.next_header;
    moved->total_length = Be16::from_host(static_cast<uint16_t>(ihl + d.length));
    ipv4_set_checksum(*moved);
    new_start = plain_at - ihl - ip_offset;
  }
  std::memmove(data + new_start, data, ip_offset);  // the Ethernet header (and tag)
  rte_pktmbuf_adj(m, static_cast<uint16_t>(new_start));
  const unsigned keep = (sa->tunnel ? 0 : ihl) + ip_offset + d.length;
  rte_pktmbuf_trim(m, static_cast<uint16_t>(rte_pktmbuf_data_len(m) - keep));
  counters_.event(Event::esp_decrypted);
  via = sa;
  return EspInbound::kDecrypted;
}

void Pipeline::look_up_policy(const rte_mbuf* m, uint16_t offset, Flow& flow) const {
  const auto* h = rte_pktmbuf_mtod_offset(m, const Ipv4Header*, offset);
  flow.policy_src = h->src.to_host();
  flow.policy_dst = h->dst.to_host();
  flow.policy = ipsec_->outbound(flow.policy_src, flow.policy_dst, h->protocol);
  if (flow.policy && flow.policy->sa) __builtin_prefetch(flow.policy->sa->esp);
}

Pipeline::Protect Pipeline::into_tunnel(const Generation& g, rte_mbuf* m, uint16_t offset, Flow& flow, uint16_t in,
                                         uint16_t in_vlan, uint32_t& dst, uint16_t slot, uint64_t now) {
  const auto* h = rte_pktmbuf_mtod_offset(m, const Ipv4Header*, offset);
  // The tunnel's view of the addresses (VPN NAT) decides which policy applies.
  uint32_t tunnel_src = h->src.to_host(), tunnel_dst = dst;
  using VpnNatKind = nat::VpnNat::Outbound;
  const VpnNatKind vpn_nat = g.vpn_nat() ? g.vpn_nat()->outbound(tunnel_src, tunnel_dst) : VpnNatKind::kNone;
  const bool as_looked_up = tunnel_src == flow.policy_src && tunnel_dst == flow.policy_dst;
  const OutboundPolicy* p = as_looked_up ? flow.policy : ipsec_->outbound(tunnel_src, tunnel_dst, h->protocol);
  if (!p) return Protect::kNotCovered;
  if (flow.via && !g.forward_between_vpns()) {
    drop(m, DropReason::ipsec_vpn_to_vpn);
    return Protect::kDropped;
  }
  if (!p->sa) {
    drop(m, DropReason::ipsec_no_sa);
    return Protect::kDropped;
  }
  if (flow.is_new) {
    const int32_t peer = g.route(p->sa->outer_dst);
    const int out = peer < 0 ? -1 : g.next_hop(peer).interface;
    const uint32_t masquerade = vpn_nat == VpnNatKind::kMasquerade ? tunnel_src : 0;
    if (!admit_vpn(g, m, offset, flow, flow.via, p->sa, in, in_vlan, out, masquerade, now)) return Protect::kDropped;
  } else if (vpn_nat == VpnNatKind::kMasquerade) {
    drop(m, DropReason::tcp_no_connection);  // masquerading needs the connection's translation
    return Protect::kDropped;
  }
  if (vpn_nat == VpnNatKind::kOneToOne) translate(m, offset, tunnel_src, tunnel_dst);
  rte_pktmbuf_adj(m, offset);
  Sealing& s = sealing_[sealing_count_];
  if (!prepare_esp(g, *p->sa, m, in, in_vlan, true, now, s, &flow.key)) return Protect::kDropped;
  s.slot = slot;
  ++sealing_count_;
  dst = p->sa->outer_dst;
  flow.is_new = false;
  flow.encapsulated = true;
  return Protect::kEncrypted;
}

bool Pipeline::encapsulate(const Generation& g, const SaRuntime& sa, rte_mbuf* m, uint16_t in,
                           uint16_t in_vlan, bool forwarded, uint64_t now) {
  Sealing s;
  if (!prepare_esp(g, sa, m, in, in_vlan, forwarded, now, s)) return false;
  uint64_t seq = 0;
  if (!sa.esp->reserve(1, seq)) {
    drop(m, DropReason::esp_sequence_exhausted);
    return false;
  }
  return seal(s, seq, now);
}

bool Pipeline::seal(const Sealing& s, uint64_t seq, uint64_t now) {
  if (s.sa->esp->encrypt(res_.worker, seq, s.next_header, s.payload, s.payload_len, now) != s.esp_len) {
    drop(s.m, DropReason::esp_malformed);
    return false;
  }
  counters_.event(Event::esp_encrypted);
  return true;
}

void Pipeline::seal_burst(rte_mbuf** slots, uint64_t now) {
  static_assert(kBurstSize <= 32, "one bit per queued packet");
  uint32_t sealed = 0;  // bit i: sealing_[i] done
  for (uint16_t i = 0; i < sealing_count_; ++i) {
    if (sealed & (1u << i)) continue;
    crypto::EspSa* esp = sealing_[i].sa->esp;
    uint32_t count = 0;
    for (uint16_t j = i; j < sealing_count_; ++j) count += sealing_[j].sa->esp == esp;
    uint64_t seq = 0;
    const bool reserved = esp->reserve(count, seq);
    for (uint16_t j = i; j < sealing_count_; ++j) {
      const Sealing& s = sealing_[j];
      if (s.sa->esp != esp) continue;
      sealed |= 1u << j;
      if (!reserved) drop(s.m, DropReason::esp_sequence_exhausted);
      if (!reserved || !seal(s, seq++, now)) slots[s.slot] = nullptr;
    }
  }
  sealing_count_ = 0;
}

bool Pipeline::prepare_esp(const Generation& g, const SaRuntime& sa, rte_mbuf* m, uint16_t in, uint16_t in_vlan,
                           bool forwarded, uint64_t now, Sealing& out, const conntrack::FlowKey* original) {
  auto* inner = rte_pktmbuf_mtod(m, Ipv4Header*);
  if (m->nb_segs != 1) {
    drop(m, DropReason::esp_malformed);
    return false;
  }
  const unsigned udp = sa.encap ? sizeof(UdpHeader) : 0;
  const unsigned header = sa.esp->header_length();
  const unsigned inner_total = inner->total_length.to_host();
  const unsigned ihl = inner->header_length();
  const unsigned payload_len = sa.tunnel ? inner_total : inner_total - ihl;
  const unsigned esp_len = sa.esp->esp_length(payload_len);
  const unsigned outer_total = (sa.tunnel ? sizeof(Ipv4Header) : ihl) + udp + esp_len;

  // Too big for the tunnel: the configured IPsec MTU (manual 11.4) or what the path to the peer
  // leaves after the outer headers and ESP's overhead (with a cipher block of slack for the
  // padding). With DF the sender learns the size; without, the inner packet is fragmented and
  // each piece encrypted, so that the peer never has to reassemble ESP.
  int32_t hop = g.route(sa.outer_dst);
  if (hop < 0) {
    drop(m, DropReason::no_route);
    return false;
  }
  const unsigned path_mtu = g.interfaces()[g.next_hop(hop).interface].mtu;
  const unsigned overhead = (sa.tunnel ? sizeof(Ipv4Header) : ihl) + udp + sa.esp->esp_length(0) + 16;
  const unsigned room = path_mtu > overhead + 68 ? path_mtu - overhead : 68;
  const auto inner_mtu = static_cast<uint16_t>(sa.tunnel ? std::min<unsigned>(room, g.ipsec_mtu()) : room);
  if (sa.tunnel ? inner_total > inner_mtu : outer_total > path_mtu) {
    if (inner->dont_fragment() || !sa.tunnel) {
      send_icmp_error(g, m, 0, in, in_vlan, kIcmpUnreachable, 4, inner_mtu, now, original);
      drop(m, DropReason::mtu_exceeded);
    } else {
      if (forwarded) ipv4_decrement_ttl(*inner);
      fragment_and_protect(g, sa, m, inner_mtu, in, in_vlan, now);
    }
    return false;
  }
  if (forwarded) ipv4_decrement_ttl(*inner);
  const unsigned grow_front = (sa.tunnel ? sizeof(Ipv4Header) : 0) + udp + header;
  const unsigned grow_back = esp_len - header - payload_len;
  if (rte_pktmbuf_headroom(m) < grow_front || rte_pktmbuf_tailroom(m) < grow_back) {
    drop(m, DropReason::esp_no_room);
    return false;
  }
  const uint8_t tos = inner->tos;
  const uint8_t protocol = inner->protocol;
  auto* data = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, static_cast<uint16_t>(grow_front)));
  rte_pktmbuf_append(m, static_cast<uint16_t>(grow_back));
  const unsigned outer_ihl = sa.tunnel ? sizeof(Ipv4Header) : ihl;
  if (!sa.tunnel) std::memmove(data, data + grow_front, ihl);  // the header moves in front of ESP
  out.m = m;
  out.sa = &sa;
  out.payload = data + outer_ihl + udp + header;
  out.payload_len = payload_len;
  out.esp_len = esp_len;
  out.next_header = sa.tunnel ? kProtoIpip : protocol;
  sa.esp->prefetch(res_.worker);  // sealed after the rest of the burst's connection stage
  auto* outer = reinterpret_cast<Ipv4Header*>(data);
  if (sa.tunnel) {
    // The SA's header, completed from registers: summing the header back from memory right
    // after these narrow stores would stall on store forwarding.
    const uint16_t id = outer_id_++;
    std::memcpy(outer, &sa.outer_template, sizeof(Ipv4Header));
    outer->tos = tos;  // DSCP and ECN copied (RFC 4301 5.1.2.1, RFC 6040 normal mode)
    outer->id = Be16::from_host(id);
    outer->total_length = Be16::from_host(static_cast<uint16_t>(outer_total));
    outer->checksum = Be16::from_host(checksum_finish(sa.outer_sum + tos + id + outer_total));
  } else {
    outer->protocol = sa.encap ? kProtoUdp : kProtoEsp;
    outer->total_length = Be16::from_host(static_cast<uint16_t>(outer_total));
    ipv4_set_checksum(*outer);
  }
  if (sa.encap) {
    auto* u = reinterpret_cast<UdpHeader*>(data + outer_ihl);
    u->src_port = Be16::from_host(sa.src_port);
    u->dst_port = Be16::from_host(sa.dst_port);
    u->length = Be16::from_host(static_cast<uint16_t>(udp + esp_len));
    u->checksum = Be16::from_host(0);  // RFC 3948 2.1: zero for ESP in UDP
  }
  return true;
}

void Pipeline::fragment_and_protect(const Generation& g, const SaRuntime& sa, rte_mbuf* m, uint16_t inner_mtu,
                                    uint16_t in, uint16_t in_vlan, uint64_t now) {
  constexpr int kMaxPieces = 8;
  rte_mbuf* pieces[kMaxPieces];
  const int n = split(m, inner_mtu, pieces, kMaxPieces);
  for (int i = 0; i < n; ++i) {
    // A piece is a fresh header buffer and a reference to the payload: encrypting in place
    // needs it in one buffer.
    if (rte_pktmbuf_linearize(pieces[i]) != 0) {
      counters_.event(Event::tx_generated_failed);
      rte_pktmbuf_free(pieces[i]);
      continue;
    }
    // The TTL was decremented before fragmenting; the first piece stands for the packet.
    if (encapsulate(g, sa, pieces[i], in, in_vlan, false, now)) {
      send_outer(g, pieces[i], i == 0 ? TxKind::kForwarded : TxKind::kGenerated, now);
    }
  }
}

void Pipeline::send_outer(const Generation& g, rte_mbuf* m, TxKind kind, uint64_t now) {
  const uint32_t dst = rte_pktmbuf_mtod(m, const Ipv4Header*)->dst.to_host();
  const NextHop& nh = g.next_hop(g.route(dst));  // encapsulate checked that there is a route
  emit(g, m, Egress{nh.interface, nh.vlan, nh.gateway ? nh.gateway : dst}, kind, now);
}

void Pipeline::translate(rte_mbuf* m, uint16_t ip_offset, uint32_t src, uint32_t dst) {
  auto* ip = rte_pktmbuf_mtod_offset(m, uint8_t*, ip_offset);
  const size_t available = rte_pktmbuf_data_len(m) - ip_offset;
  conntrack::FlowKey to;
  nat::read_tuple(ip, available, to);
  to.src = src;
  to.dst = dst;
  nat::rewrite(ip, available, to);
}

bool Pipeline::must_protect(const rte_mbuf* frame) const {
  if (!ipsec_ || rte_pktmbuf_data_len(frame) < sizeof(EthernetHeader) + sizeof(Ipv4Header)) return false;
  const auto* eth = rte_pktmbuf_mtod(frame, const EthernetHeader*);
  uint16_t offset = sizeof(EthernetHeader);
  uint16_t type = eth->ether_type.to_host();
  if (type == kEtherTypeVlan) {
    if (rte_pktmbuf_data_len(frame) < offset + sizeof(VlanTag) + sizeof(Ipv4Header)) return false;
    type = reinterpret_cast<const VlanTag*>(eth + 1)->ether_type.to_host();
    offset += sizeof(VlanTag);
  }
  if (type != kEtherTypeIpv4) return false;
  const auto* ip = rte_pktmbuf_mtod_offset(frame, const Ipv4Header*, offset);
  // IKE itself never goes into a tunnel (the bypass of RFC 4301 for the IKE daemon's sockets).
  if (ip->protocol == kProtoUdp && rte_pktmbuf_data_len(frame) >= offset + ip->header_length() + sizeof(UdpHeader)) {
    const auto* udp = rte_pktmbuf_mtod_offset(frame, const UdpHeader*, offset + ip->header_length());
    const uint16_t sport = udp->src_port.to_host();
    if (sport == 500 || sport == kIkeNattPort) return false;
  }
  return ipsec_->outbound(ip->src.to_host(), ip->dst.to_host(), ip->protocol) != nullptr;
}

bool Pipeline::plaintext_allowed(const Generation& g, const rte_mbuf* m, uint16_t ip_offset) const {
  const auto* ip = rte_pktmbuf_mtod_offset(m, const Ipv4Header*, ip_offset);
  const uint32_t dst = ip->dst.to_host();
  if (ip->protocol == kProtoEsp || !ipsec_->must_be_protected(ip->src.to_host(), dst, ip->protocol)) return true;
  // IKE to the box passes even where a policy covers it (the bypass of RFC 4301 for IKE).
  if (ip->protocol == kProtoUdp && !ip->is_fragment() && g.is_local(dst)) {
    const auto* udp = rte_pktmbuf_mtod_offset(m, const UdpHeader*, ip_offset + ip->header_length());
    const uint16_t dport = udp->dst_port.to_host();
    return dport == 500 || dport == kIkeNattPort;
  }
  return false;
}

void Pipeline::protect_injected(const Generation& g, rte_mbuf* frame, uint16_t interface, uint64_t now) {
  const auto* eth = rte_pktmbuf_mtod(frame, const EthernetHeader*);
  uint16_t offset = sizeof(EthernetHeader);
  uint16_t vlan = 0;
  if (eth->ether_type.to_host() == kEtherTypeVlan) {
    vlan = reinterpret_cast<const VlanTag*>(eth + 1)->tci.to_host() & 0x0fff;
    offset += sizeof(VlanTag);
  }
  rte_pktmbuf_adj(frame, offset);
  const auto* ip = rte_pktmbuf_mtod(frame, const Ipv4Header*);
  const OutboundPolicy* p = ipsec_->outbound(ip->src.to_host(), ip->dst.to_host(), ip->protocol);
  if (!p->sa) {
    drop(frame, DropReason::ipsec_no_sa);
    return;
  }
  if (!encapsulate(g, *p->sa, frame, interface, vlan, false, now)) return;
  send_outer(g, frame, TxKind::kInjected, now);
}

}  // namespace bulwark::dataplane
