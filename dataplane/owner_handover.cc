// Several workers: worker 0 owns every connection whose two directions could reach different
// workers, and the others hand its frames over.
//
// Connection tables are per worker, and symmetric receive-side scaling brings both directions
// of a plain connection to the same worker ([conntrack.md], "Several workers"). Three kinds of
// traffic break that, because one direction is hashed by addresses (or ports) that the other
// does not carry:
//   * the box's own: a connection to the box is answered through the exception path, one from
//     the box starts there, and neither path hashes like the wire;
//   * translated: a masqueraded connection's answers are addressed to the box, a 1:1 NAT host's
//     to its virtual address, a forwarded service's go to the client from the server's address;
//   * tunnelled: a tunnel's local side is hashed by the inner addresses, its remote side inside
//     ESP by the two gateways'.
// So in stage 2a, right after the IPv4 header checks and before anything is looked up or
// changed, a worker other than 0 passes such a frame into worker 0's ring (an rte_ring, many
// producers and one consumer): a frame for an address of the box (which includes ESP, IKE and
// the answers of masquerading and port forwarding), a frame whose connection NAT could translate
// in either direction (nat::Rules::may_translate), and a frame that an outbound policy covers as
// the tunnel sees it (after VPN NAT). Frames from the exception path go to worker 0 as well
// (Dataplane::poll). The predicate is true alike for a packet and the answers of its
// connection, translated or not — which is what keeps both directions on one worker.
//
// Worker 0 takes up to four bursts from its ring per loop and processes them like frames of its
// own queues. A frame counts as received by the worker whose queue it came from and gets its
// outcome on worker 0; the event `handed_to_owner` counts the passes, and a full ring drops a
// received frame as `owner_ring_full` (a frame from the exception path is then handled where it
// is). The price: that traffic runs on one core while the rest scales.
#include "dataplane/headers.h"
#include "dataplane/pipeline.h"

namespace bulwark::dataplane {

bool Pipeline::for_owner(const Generation& g, const rte_mbuf* m, uint16_t ip_offset) const {
  const auto* ip = rte_pktmbuf_mtod_offset(m, const Ipv4Header*, ip_offset);
  conntrack::FlowKey k;
  k.src = ip->src.to_host();
  k.dst = ip->dst.to_host();
  k.protocol = ip->protocol;
  if (g.is_local(k.dst) || g.is_local(k.src)) return true;

  const nat::Rules& nat = g.nat();
  if (!nat.empty()) {
    const bool ports = ip->fragment_offset() == 0 && (k.protocol == config::kProtoTcp || k.protocol == config::kProtoUdp) &&
                       rte_pktmbuf_data_len(m) >= ip_offset + ip->header_length() + 4;
    if (ports) {
      const auto* l4 = rte_pktmbuf_mtod_offset(m, const uint8_t*, ip_offset + ip->header_length());
      k.src_port = static_cast<uint16_t>(l4[0] << 8 | l4[1]);
      k.dst_port = static_cast<uint16_t>(l4[2] << 8 | l4[3]);
    }
    const int toward_dst = nat.has_masquerading() ? g.egress_interface(k.dst) : -1;
    const int toward_src = nat.has_masquerading() ? g.egress_interface(k.src) : -1;
    if (nat.may_translate(k, ports, toward_dst, toward_src)) return true;
  }

  if (ipsec_) {
    uint32_t src = k.src, dst = k.dst;
    if (g.vpn_nat()) g.vpn_nat()->outbound(src, dst);
    if (ipsec_->outbound(src, dst, k.protocol) != nullptr) return true;
  }
  return false;
}

void Pipeline::hand_over_burst() {
  const unsigned passed = rte_ring_mp_enqueue_burst(res_.owner, reinterpret_cast<void**>(handover_.data()),
                                                    handover_count_, nullptr);
  counters_.event(Event::handed_to_owner, passed);
  for (unsigned i = passed; i < handover_count_; ++i) drop(handover_[i], DropReason::owner_ring_full);
  handover_count_ = 0;
}

}  // namespace bulwark::dataplane
