// The forwarding pipeline of one worker (theory of operation: docs/dataplane.md).
//
// `process` takes one burst of frames received on one interface port and sends each frame to
// exactly one outcome: forwarded, punted, consumed or dropped with a named reason. The fast
// path — Ethernet parsing, IPv4 checks, local-address test, bulk route lookup, TTL decrement,
// neighbour lookup, rewrite, transmit — works stage by stage on the whole burst. ARP, ICMP
// errors, fragmentation and unresolved neighbours leave it for separate [[gnu::noinline]] slow
// paths. Nothing here allocates from the heap, locks (except the neighbour table's writer lock on
// ARP learning) or logs.
#pragma once

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <array>
#include <cstdint>

#include "conntrack/conntrack.h"
#include "dataplane/counters.h"
#include "dataplane/generation.h"
#include "dataplane/headers.h"
#include "dataplane/ipsec_tables.h"
#include "dataplane/log_ring.h"
#include "nat/endpoint_mappings.h"
#include "dataplane/neighbour_table.h"
#include "dataplane/reassembly.h"
#include "dataplane/transmitter.h"

namespace bulwark::dataplane {

inline constexpr uint16_t kBurstSize = 32;

struct PipelineResources {
  NeighbourTable* neighbours = nullptr;
  rte_mempool* pool = nullptr;           // generated frames and fragment headers
  rte_mempool* indirect_pool = nullptr;  // fragment payload references
  uint64_t hz = 1;                       // clock ticks per second
  uint32_t conntrack_capacity = 1024;    // this worker's share of the connection table
  uint64_t conntrack_seed = conntrack::Table::kDefaultSeed;  // keys the table's hash
  unsigned worker = 0;                   // index for per-worker rule counters
  LogRing* log = nullptr;                // firewall log records for the management thread
  bool profile = false;                  // count TSC cycles per stage (bulwark bench)
  // Several workers: the ring into worker 0, which owns the traffic whose two directions other
  // workers' queues could split (owner_handover.cc). nullptr with one worker and on worker 0.
  rte_ring* owner = nullptr;
};

// Bits of conntrack::Entry::flags that are the dataplane's (conntrack.h leaves bits 0-4 to it).
inline constexpr uint8_t kFromBox = 1;     // opened by the box itself
inline constexpr uint8_t kThroughVpn = 2;  // admitted by a VPN firewall

class Pipeline : private conntrack::SessionObserver {
 public:
  // What the connection stage learned about a packet, for the filter stage after routing.
  struct Flow {
    conntrack::FlowKey key;  // as received, before any translation
    conntrack::PacketInfo info;
    bool is_new = false;     // no connection yet: the filter decides after routing
    bool icmp_error = false;
    bool trailing_fragment = false;  // a fragment after the first: no transport header
    bool forwarded = false;  // port forwarding: not subject to the filter
    uint64_t hash = 0;       // of `key` in the connection table (prepare_flow)
    const SaRuntime* via = nullptr;  // decrypted by this inbound SA
    bool encapsulated = false;       // now the outer packet of an outbound SA
    // The outbound policy looked up for (policy_src, policy_dst) before the connection stage,
    // so that its SA's state is in the cache when the packet is sealed; reused when the
    // addresses are still those.
    const OutboundPolicy* policy = nullptr;
    uint32_t policy_src = 0, policy_dst = 0;

    // Every field back to its default, member by member: assigning `Flow{}` compiles to
    // `rep stosq`, whose start-up cost is a noticeable share of a 64-byte packet's budget.
    void reset() {
      key = {};
      info = {};
      is_new = icmp_error = trailing_fragment = forwarded = encapsulated = false;
      hash = 0;
      via = nullptr;
      policy = nullptr;
      policy_src = policy_dst = 0;
    }
  };

  // The tuple of a packet out of a tunnel as the peer sent it: `local_view` (its key after the
  // tunnel's 1:1 NAT, nat/vpn_nat.h) with the tunnel's addresses back. Errors and resets about
  // it quote and answer that.
  static conntrack::FlowKey as_sent(const Generation& g, const conntrack::FlowKey& local_view);

  Pipeline(const PipelineResources& resources, WorkerCounters& counters, Transmitter& tx);

  // Processes `n` frames received on DPDK port `port` at clock time `now`. `handed_over`: the
  // frames came from another worker's receive queue (already counted as received there).
  void process(const Generation& g, rte_mbuf** pkts, uint16_t n, uint16_t port, uint64_t now,
               bool handed_over = false);
  // Releases held packets whose next hop became known, repeats ARP requests, and gives up on
  // next hops that stay silent. Call once per loop.
  void service(const Generation& g, uint64_t now);
  // Drops every held packet as unresolved and every incomplete fragmented one (end of a replay,
  // shutdown).
  void drop_held();

  // The user table of this loop (the generation's, Generation::users), or nullptr: call at the
  // start of every loop, before anything can release a connection; process() sets it too.
  void set_users(const UserTable* users) { users_ = users; }

  // The IPsec tables of this loop (published like generations), or nullptr.
  void set_ipsec(const IpsecTables* tables) { ipsec_ = tables && !tables->empty() ? tables : nullptr; }
  // True when a frame the box itself sends must leave through a tunnel.
  bool must_protect(const rte_mbuf* frame) const;
  // Encrypts such a frame for its tunnel and routes the outer packet.
  void protect_injected(const Generation& g, rte_mbuf* frame, uint16_t interface, uint64_t now);

  // Frames the box itself sends (from the exception path): tracked, so that the answers to
  // its own connections are let in.
  void track_injected(const Generation& g, const rte_mbuf* frame, uint64_t now);
  // Bounded aging sweep of the connection table; call once per loop.
  void age(uint64_t now);
  const conntrack::Table& connections() const { return conntrack_; }
  conntrack::Table& connections() { return conntrack_; }

 private:
  // A frame on its way out: the mbuf starts at the IPv4 header.
  struct Egress {
    uint16_t interface;
    uint16_t vlan;
    uint32_t next_hop_ip;
  };

  // Waiting for ARP.
  struct Pending {
    uint32_t ip = 0;  // 0 = free slot
    uint16_t interface = 0;
    uint16_t vlan = 0;
    uint64_t last_request = 0;
    uint8_t tries = 0;
    uint8_t count = 0;
    std::array<rte_mbuf*, 4> packets{};
  };
  static constexpr size_t kPendingSlots = 64;

  void drop(rte_mbuf* m, DropReason reason);
  void flush_drops();
  // The IPv4 header at `offset`: version, length, checksum, source; trims Ethernet padding.
  // False when the packet has been dropped.
  bool check_ipv4(rte_mbuf* m, uint16_t offset);

  [[gnu::noinline]] void handle_arp(const Generation& g, rte_mbuf* m, uint16_t interface,
                                    uint16_t vlan, uint16_t l3_offset, uint64_t now);
  [[gnu::noinline]] void send_arp_request(const Generation& g, uint16_t interface, uint16_t vlan,
                                          uint32_t target);
  // `offending`'s IPv4 header starts `ip_offset` bytes into the frame. `original`: the
  // packet's tuple as it arrived when it has been translated since (docs/nat.md, "ICMP"): the
  // error then quotes it as it arrived, goes to its original source and, when its destination
  // was translated, comes from the address the sender used. `out_of_tunnel`: the packet came
  // out of a tunnel (`original` then in the tunnel's addresses, as_sent): the error goes back
  // through it, from the box's address toward the sender when the tunnel carries that, else
  // from the address the sender used.
  [[gnu::noinline]] void send_icmp_error(const Generation& g, const rte_mbuf* offending,
                                         uint16_t ip_offset, uint16_t interface, uint16_t vlan,
                                         uint8_t type, uint8_t code, uint16_t mtu, uint64_t now,
                                         const conntrack::FlowKey* original = nullptr,
                                         bool out_of_tunnel = false);
  // send_icmp_error about the routed packet `m` (its IPv4 header first) of flow `f`: quoting the
  // tuple it arrived with (the tunnel's, out of a tunnel), or nothing to restore once the packet
  // is the outer one of an SA (its errors are about what the box itself sends).
  [[gnu::noinline]] void send_icmp_error_about(const Generation& g, const rte_mbuf* m, uint16_t interface,
                                               uint16_t vlan, const Flow& f, uint8_t type, uint8_t code,
                                               uint16_t mtu, uint64_t now);
  [[gnu::noinline]] void fragment_and_send(const Generation& g, rte_mbuf* m, const Egress& out,
                                           uint64_t now);
  // Splits `m`, which starts at its IPv4 header, into at most `capacity` pieces of `mtu` bytes
  // with fresh header checksums and frees it; returns how many, or 0 when it cannot be split
  // (it is then dropped as fragmentation_failed).
  int split(rte_mbuf* m, uint16_t mtu, rte_mbuf** pieces, uint16_t capacity);
  [[gnu::noinline]] void hold(const Generation& g, rte_mbuf* m, const Egress& out, TxKind kind,
                              uint64_t now);
  // Routes and sends a frame the box made (mbuf starts at the IPv4 header).
  void send_generated_ip(const Generation& g, rte_mbuf* m, uint64_t now);
  // Resolves the next hop and transmits, or holds the frame until ARP answers.
  void emit(const Generation& g, rte_mbuf* m, const Egress& out, TxKind kind, uint64_t now);
  // Prepends the Ethernet header (with a tag on VLANs) and transmits.
  void write_l2_and_send(const Generation& g, rte_mbuf* m, uint16_t interface, uint16_t vlan,
                         const uint8_t dst_mac[6], TxKind kind);
  void punt(const Generation& g, rte_mbuf* m, uint16_t interface);
  // Punts a packet for the box whose IPv4 header starts `ip_offset` bytes in: in pieces of the
  // interface's MTU when it is longer (only a reassembled one can be), which the kernel on the
  // exception path reassembles again.
  void punt_ip(const Generation& g, rte_mbuf* m, uint16_t interface, uint16_t ip_offset);
  [[gnu::noinline]] void punt_in_pieces(rte_mbuf* m, uint16_t port, uint16_t ip_offset, uint16_t mtu);
  // Does the translation of this packet (a fragment; `via`: decrypted by that SA) need its
  // ports — masquerading, port forwarding, local masquerading in a tunnel — so that its fragments
  // must be reassembled first?
  bool translates_ports(const Generation& g, const Ipv4Header& h, const SaRuntime* via) const;
  // A fragment the box must see whole (ESP or UDP for it, translated by ports): the whole packet
  // once its last piece came, else nullptr (held, or given up and counted).
  [[gnu::noinline]] rte_mbuf* reassemble(rte_mbuf* m, uint16_t ip_offset, uint64_t now);

  // Before routing: the packet's connection is looked up and its state advanced, and known
  // translations are applied (both directions), or a new connection's destination NAT.
  // False when the packet has been dropped. The IPv4 header starts `ip_offset` bytes in.
  bool track(const Generation& g, rte_mbuf* m, uint16_t ip_offset, uint64_t now, Flow& flow);
  // Before `track`, for the whole burst: the flow key and packet facts from the headers, and the
  // prefetch of the connection-table lines the lookup will read. False when the transport
  // header is cut short (the packet is then dropped).
  bool prepare_flow(rte_mbuf* m, uint16_t ip_offset, Flow& flow);
  // After routing, for a new connection: the packet filter, source NAT, and the connection
  // entry. `out` is the egress interface, or -1 for traffic to the box. False when dropped
  // (or rejected).
  [[gnu::noinline]] bool admit_new(const Generation& g, rte_mbuf* m, uint16_t ip_offset,
                                   const Flow& flow, uint16_t in, uint16_t in_vlan, int out,
                                   uint64_t now);
  // The user firewall (user_firewall_stage.cc). A new connection from `src` that `list` would
  // judge (`connection`: the VPN connection whose list it is, or kNoIndex): the first rule of the
  // source's granted templates, for that direction and binding, that accepts it.
  struct UserMatch {
    const FilterRule* rule = nullptr;  // nullptr: no grant accepts it, the lists decide
    uint32_t session = 0;
    uint32_t slot = 0;
    FilterList list = FilterList::kIncoming;
    uint16_t connection = config::kNoIndex;
  };
  // `only_session`: consider that session's grants only (0: every session of the source).
  [[gnu::noinline]] UserMatch match_user(const Generation& g, FilterList list, uint16_t connection,
                                         const FilterKey& key, uint32_t src, uint32_t only_session = 0) const;
  // Counts, marks and (with `log`) logs a connection a grant accepted.
  void user_accepted(const Generation& g, const UserMatch& u, uint16_t in, int out, const rte_mbuf* m, uint16_t ip_offset, uint64_t now);
  void mark_user(conntrack::Entry& e, const UserMatch& u);
  // The slot of a marked connection's session in this loop's user table, or -1 when it ended.
  [[gnu::noinline]] int32_t user_slot(const conntrack::Entry& e) const;
  void connection_closed(uint32_t session) override;

  // A free translated port (or ICMP identifier) for `t`, the connection of the internal
  // endpoint `internal`, written into it; false when none.
  // A new connection out of a tunnel (`from`), into one (`to`), or both: the VPN firewall of
  // the connections (manual 10.4) instead of the interface lists, and a connection entry so that
  // its answers pass. `out`: the egress interface for the log, or -1. `masquerade`: the tunnel's
  // local masquerading address (13.4) the connection leaves from, with a port of its own, or 0.
  [[gnu::noinline]] bool admit_vpn(const Generation& g, rte_mbuf* m, uint16_t ip_offset, const Flow& flow,
                                   const SaRuntime* from, const SaRuntime* to, uint16_t in, uint16_t in_vlan,
                                   int out, uint32_t masquerade, uint64_t now);
  [[gnu::noinline]] bool allocate_port(const Generation& g, const conntrack::FlowKey& internal,
                                       conntrack::FlowKey& t, uint64_t now);
  // With "abort existing connections on reconfiguration": is a connection accepted under an
  // older generation still allowed? Marks it as checked against `g`.
  [[gnu::noinline]] bool recheck(const Generation& g, conntrack::Entry& e);
  // The reset answers the segment as it arrived (`original`: its tuple before any translation):
  // from the address and port the sender used, never from a translated host's own.
  [[gnu::noinline]] void send_tcp_reset(const Generation& g, const rte_mbuf* offending,
                                        uint16_t ip_offset, const conntrack::FlowKey& original,
                                        uint64_t now);
  // A new connection taken by a port forwarding with `log`: the packet as it arrived (`original`),
  // forwarded to `to`.
  [[gnu::noinline]] void log_forwarding(const rte_mbuf* m, uint16_t ip_offset, const conntrack::FlowKey& original,
                                        const conntrack::FlowKey& to, uint16_t position, uint16_t in, int out,
                                        uint64_t now);
  bool log_allowed(uint64_t now);  // the per-worker rate limit of log lines
  LogRecord describe(const rte_mbuf* m, uint16_t ip_offset, uint64_t now) const;  // header fields
  void push_log(const LogRecord& r);
  [[gnu::noinline]] void log_decision(const rte_mbuf* m, uint16_t ip_offset, const FilterRule& rule,
                                      uint16_t in, int out, uint64_t now, const UserMatch* user = nullptr);
  bool icmp_allowed(uint64_t now);
  void drop_pending(Pending& p, DropReason reason);
  // A next hop that never answered ARP: every forwarded packet held for it gets an ICMP host
  // unreachable (RFC 1812 4.3.3.1, rate-limited like every error), then they are dropped.
  [[gnu::noinline]] void unreachable_pending(const Generation& g, Pending& p, uint64_t now);
  // The host unreachable for one held packet (which starts at its IPv4 header, routed: TTL
  // decremented, possibly translated), about the packet as it arrived.
  void send_host_unreachable(const Generation& g, rte_mbuf* held, uint64_t now);
  // Drops a frame already marked with its TxKind: a forwarded one counts under `reason`, a
  // generated one as a lost generated frame.
  void discard(rte_mbuf* m, DropReason reason);

  // ESP (esp_stage.cc). Decapsulation: ESP or ESP in UDP for the box, decrypted in place; the
  // frame then starts with its Ethernet header followed by the inner packet.
  enum class EspInbound : uint8_t { kNotEsp, kDecrypted, kDropped };
  EspInbound decapsulate(rte_mbuf* m, uint16_t ip_offset, const SaRuntime*& via, uint64_t now);
  // Encapsulation of a packet that starts at its IPv4 header: false when it was dropped or, too
  // big for the tunnel with DF clear, fragmented and sent in pieces.
  // Into a tunnel, before routing: when an outbound policy covers the packet at `offset`, the
  // VPN firewall admits a new connection, VPN NAT translates it, and it is encrypted; the mbuf
  // then starts with the outer IPv4 header and `dst` is the peer's address.
  // The packet is then queued for sealing as burst slot `slot`: seal_burst() encrypts it.
  enum class Protect : uint8_t { kNotCovered, kEncrypted, kDropped };
  Protect into_tunnel(const Generation& g, rte_mbuf* m, uint16_t offset, Flow& flow, uint16_t in, uint16_t in_vlan,
                      uint32_t& dst, uint16_t slot, uint64_t now);
  // An outer packet whose headers and room are in place and whose ESP payload waits for a
  // sequence number and encryption.
  struct Sealing {
    rte_mbuf* m = nullptr;
    const SaRuntime* sa = nullptr;
    uint8_t* payload = nullptr;
    uint32_t payload_len = 0, esp_len = 0;
    uint8_t next_header = 0;
    uint16_t slot = 0;  // in the burst's forwarding list
  };
  // Everything of encapsulation but the ESP payload: checks (route to the peer, MTU, room),
  // the outer IPv4 (and UDP) header. `forwarded`: a packet the box routes into the tunnel (its
  // TTL is decremented).
  // `original`: the packet's tuple as it arrived (before NAT into the tunnel), for the error when
  // it is too big.
  bool prepare_esp(const Generation& g, const SaRuntime& sa, rte_mbuf* m, uint16_t in, uint16_t in_vlan,
                   bool forwarded, uint64_t now, Sealing& out, const conntrack::FlowKey* original = nullptr);
  // Sequence number and encryption; false when the packet was dropped.
  bool seal(const Sealing& s, uint64_t seq, uint64_t now);
  // Seals the burst's queued packets: one sequence number reservation (one atomic operation)
  // per SA and burst, in queue order; a dropped packet's slot in `slots` becomes nullptr.
  void seal_burst(rte_mbuf** slots, uint64_t now);
  // Encapsulation at once, for a packet outside the burst (generated, fragment, injected).
  bool encapsulate(const Generation& g, const SaRuntime& sa, rte_mbuf* m, uint16_t in, uint16_t in_vlan,
                   bool forwarded, uint64_t now);
  // Routes an outer packet (a route exists: encapsulate checked) and sends it.
  void send_outer(const Generation& g, rte_mbuf* m, TxKind kind, uint64_t now);
  [[gnu::noinline]] void fragment_and_protect(const Generation& g, const SaRuntime& sa, rte_mbuf* m,
                                              uint16_t inner_mtu, uint16_t in, uint16_t in_vlan, uint64_t now);
  // The outbound policy of the packet as received (Flow::policy), its SA's state prefetched.
  void look_up_policy(const rte_mbuf* m, uint16_t offset, Flow& flow) const;
  // Rewrites the packet's addresses (VPN NAT), checksums updated.
  void translate(rte_mbuf* m, uint16_t ip_offset, uint32_t src, uint32_t dst);
  // Several workers: does this packet, as received, belong to worker 0 — traffic for the box,
  // traffic that NAT could translate, traffic into or out of a tunnel (owner_handover.cc)?
  bool for_owner(const Generation& g, const rte_mbuf* m, uint16_t ip_offset) const;
  // Passes the burst's frames for worker 0 into its ring; a full ring drops them.
  void hand_over_burst();
  // Inbound policy: may this packet (not decrypted) arrive in plaintext?
  bool plaintext_allowed(const Generation& g, const rte_mbuf* m, uint16_t ip_offset) const;

  PipelineResources res_;
  WorkerCounters& counters_;
  Transmitter& tx_;

  std::array<rte_mbuf*, kBurstSize * 2> drops_{};
  uint16_t drop_count_ = 0;

  std::array<Pending, kPendingSlots> pending_{};
  uint32_t held_total_ = 0;

  double icmp_tokens_ = 100;
  uint64_t icmp_refill_ = 0;
  double log_tokens_ = 200;
  uint64_t log_refill_ = 0;

  const IpsecTables* ipsec_ = nullptr;
  const UserTable* users_ = nullptr;
  uint16_t outer_id_ = 0;
  std::array<Sealing, kBurstSize> sealing_{};
  uint16_t sealing_count_ = 0;
  std::array<rte_mbuf*, kBurstSize> handover_{};
  uint16_t handover_count_ = 0;
  // The flows of the burst in process(), a member so that a burst does not construct 32 of
  // them: each packet's is reset when its flow is parsed.
  std::array<Flow, kBurstSize> flows_{};

  conntrack::Table conntrack_;
  nat::EndpointMappings endpoint_mappings_;
  Reassembly reassembly_;
  uint64_t timeouts_generation_ = ~uint64_t{0};
};

}  // namespace bulwark::dataplane
