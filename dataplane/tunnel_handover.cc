// Tunnel traffic with several workers: one worker owns it all.
//
// Connection tables are per worker, and symmetric receive-side scaling brings both directions
// of a plain connection to the same worker. A tunnel breaks that: its local side arrives hashed
// by the inner addresses, its remote side inside ESP hashed by the two gateways' addresses. So
// worker 0 owns every tunnel's traffic, and the other workers pass it over in stage 2a, before
// anything about the packet has been looked up or changed: ESP and ESP in UDP for the box,
// fragments of either (only the owner reassembles), and packets that an outbound policy covers
// as the tunnel sees them (after VPN NAT) — the local side of tunnel connections, answers
// included. The owner takes them from its ring (an rte_ring, many producers and one consumer)
// once per loop and processes them like frames of its own port queues. A frame is counted as
// received by the worker whose queue it came from and gets its outcome on the owner; the event
// `tunnel_handed_over` counts the passes. The box's own frames into a tunnel need no owner:
// sealing takes sequence numbers atomically and tracks nothing.
#include "dataplane/headers.h"
#include "dataplane/pipeline.h"

namespace bulwark::dataplane {

bool Pipeline::for_tunnel_owner(const Generation& g, const rte_mbuf* m, uint16_t ip_offset) const {
  const auto* ip = rte_pktmbuf_mtod_offset(m, const Ipv4Header*, ip_offset);
  uint32_t src = ip->src.to_host(), dst = ip->dst.to_host();
  if (g.is_local(dst)) {
    if (ip->protocol == config::kProtoEsp) return true;
    if (ip->protocol != config::kProtoUdp) return false;
    if (ip->is_fragment()) return true;
    const size_t at = ip_offset + ip->header_length();
    if (rte_pktmbuf_data_len(m) < at + sizeof(UdpHeader)) return false;
    return rte_pktmbuf_mtod_offset(m, const UdpHeader*, at)->dst_port.to_host() == kIkeNattPort;
  }
  if (g.vpn_nat()) g.vpn_nat()->outbound(src, dst);
  return ipsec_->outbound(src, dst, ip->protocol) != nullptr;
}

void Pipeline::hand_over_burst() {
  const unsigned passed = rte_ring_mp_enqueue_burst(res_.tunnel_owner, reinterpret_cast<void**>(handover_.data()),
                                                    handover_count_, nullptr);
  counters_.event(Event::tunnel_handed_over, passed);
  for (unsigned i = passed; i < handover_count_; ++i) drop(handover_[i], DropReason::tunnel_handover_full);
  handover_count_ = 0;
}

}  // namespace bulwark::dataplane
