// Per-worker counters: the outcome of every received frame, a named reason for every drop, and
// per-stage packet counts. A worker is the only writer of its counters (plain load+store, no
// locked instructions); the management thread reads them with relaxed atomic loads and sums the
// workers.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

namespace bulwark::dataplane {

// A single-writer counter that other threads may read at any time.
class Counter {
 public:
  void add(uint64_t n = 1) { value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  void sub(uint64_t n = 1) { value_.store(value_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed); }
  uint64_t get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

enum class DropReason : uint8_t {
  frame_truncated,
  l2_not_for_us,
  l2_multicast,
  vlan_unknown,
  vlan_unsupported,
  ipv6,
  ethertype_unsupported,
  arp_malformed,
  ipv4_truncated,
  ipv4_bad_version,
  ipv4_bad_ihl,
  ipv4_bad_length,
  ipv4_bad_checksum,
  ipv4_martian_source,
  ipv4_not_routable,
  ttl_exceeded,
  no_route,
  mtu_exceeded,
  fragmentation_failed,
  neighbour_hold_full,
  neighbour_unresolved,
  punt_unavailable,
  no_tables,
  tx_full,
  filter_policy_drop,
  filter_rule_drop,
  filter_no_match,
  filter_reject,
  conntrack_full,
  conntrack_invalid,
  tcp_no_connection,
  conntrack_aborted,
  nat_ports_exhausted,
  nat_fragment,
  esp_unknown_spi,
  esp_malformed,
  esp_replayed,
  esp_auth_failed,
  esp_bad_padding,
  esp_dummy,
  esp_inner_not_ipv4,
  reassembly_failed,
  esp_too_big,
  esp_selector_mismatch,
  esp_sequence_exhausted,
  esp_no_room,
  ipsec_no_sa,
  ipsec_plaintext,
  ipsec_vpn_to_vpn,
  vpn_nat_unsolicited,
  owner_ring_full,
  user_session_ended,
  count
};

struct DropReasonInfo {
  std::string_view name;
  std::string_view text;
};

// Indexed by DropReason; the names are those of the enumerators.
inline constexpr std::array<DropReasonInfo, static_cast<size_t>(DropReason::count)> kDropReasons{{
    {"frame_truncated", "frame shorter than an Ethernet header"},
    {"l2_not_for_us", "unicast frame to another MAC address"},
    {"l2_multicast", "Ethernet multicast frame"},
    {"vlan_unknown", "VLAN not configured on the interface"},
    {"vlan_unsupported", "stacked VLAN tags (QinQ)"},
    {"ipv6", "IPv6 frame (IPv6 is not enabled)"},
    {"ethertype_unsupported", "EtherType neither IPv4 nor ARP"},
    {"arp_malformed", "ARP that is not Ethernet/IPv4 or too short"},
    {"ipv4_truncated", "IPv4 header cut short"},
    {"ipv4_bad_version", "IP version field is not 4"},
    {"ipv4_bad_ihl", "IPv4 header length below 20 bytes"},
    {"ipv4_bad_length", "IPv4 total length inconsistent with the frame"},
    {"ipv4_bad_checksum", "IPv4 header checksum wrong"},
    {"ipv4_martian_source", "source address that cannot be a sender"},
    {"ipv4_not_routable", "multicast or limited-broadcast destination"},
    {"ttl_exceeded", "TTL expired in transit"},
    {"no_route", "no route to the destination"},
    {"mtu_exceeded", "larger than the egress MTU with DF set"},
    {"fragmentation_failed", "could not fragment (out of buffers)"},
    {"neighbour_hold_full", "ARP hold queue full"},
    {"neighbour_unresolved", "next hop did not answer ARP"},
    {"punt_unavailable", "no exception path for traffic to the box"},
    {"no_tables", "no configuration loaded yet"},
    {"tx_full", "transmit queue full"},
    {"filter_policy_drop", "the list's general setting drops all"},
    {"filter_rule_drop", "a firewall rule drops it"},
    {"filter_no_match", "no firewall rule matches (list uses rules)"},
    {"filter_reject", "a firewall rule rejects it (RST or ICMP sent)"},
    {"conntrack_full", "connection table full"},
    {"conntrack_invalid", "not valid for its connection's state (e.g. out of window)"},
    {"tcp_no_connection", "TCP segment of no known connection and not a SYN"},
    {"conntrack_aborted", "connection no longer allowed after reconfiguration"},
    {"nat_ports_exhausted", "no free masquerading port"},
    {"nat_fragment", "fragment after the first whose translation needs its connection but that is not reassembled (decrypted traffic to the box's own masquerading or forwarding address, or on to another tunnel's masquerading)"},
    {"esp_unknown_spi", "ESP for the box with an SPI of no inbound SA"},
    {"esp_malformed", "ESP cut short, not whole cipher blocks, or sequence number 0"},
    {"esp_replayed", "ESP replayed or older than the replay window"},
    {"esp_auth_failed", "ESP integrity check (ICV) failed"},
    {"esp_bad_padding", "ESP padding or pad length wrong after decryption"},
    {"esp_dummy", "ESP dummy packet (next header 59), discarded by design"},
    {"esp_inner_not_ipv4", "tunnel-mode ESP whose inner packet is not IPv4"},
    {"reassembly_failed", "fragment the box reassembles (ESP or UDP for it, masqueraded or forwarded traffic) given up: pieces missing after 5 s, repeated or overlapping, more than 8, or 1024 packets already in flight"},
    {"esp_too_big", "ESP for the box larger than one packet buffer (the mbuf data room): decrypted in place, it must be in one"},
    {"esp_selector_mismatch", "decrypted packet outside its SA's traffic selectors"},
    {"esp_sequence_exhausted", "outbound SA used up its sequence numbers (needs a rekey)"},
    {"esp_no_room", "no head- or tailroom in the buffer for the ESP headers"},
    {"ipsec_no_sa", "an outbound policy protects the packet but its SA is not installed"},
    {"ipsec_plaintext", "plaintext that a VPN connection's policy requires protected"},
    {"ipsec_vpn_to_vpn", "from one VPN connection into another (forwarding between VPNs is off)"},
    {"vpn_nat_unsolicited", "from a tunnel to a local masquerading address (one-directional)"},
    {"owner_ring_full", "for worker 0 (box, NAT or tunnel traffic with several workers), whose ring was full"},
    {"user_session_ended", "a user firewall connection whose session ended (logout, expiry): aborted"},
}};
static_assert(kDropReasons[static_cast<size_t>(DropReason::nat_fragment)].name == "nat_fragment");
static_assert(kDropReasons[static_cast<size_t>(DropReason::user_session_ended)].name == "user_session_ended");
inline constexpr size_t kDropReasonCount = static_cast<size_t>(DropReason::count);

inline std::string_view drop_reason_name(DropReason r) { return kDropReasons[static_cast<size_t>(r)].name; }

// Statistics that are not outcomes of received frames.
enum class Event : uint8_t {
  fragments_forwarded,    // received fragments that were forwarded
  packets_fragmented,     // packets the box split to fit the egress MTU
  icmp_errors_sent,
  icmp_rate_limited,      // ICMP errors not sent because of the rate limit
  arp_requests_sent,
  arp_replies_sent,
  neighbours_learned,
  injected,               // frames from the exception path sent out on an interface
  tx_generated_failed,    // generated frames lost to a full transmit queue
  connections_created,
  connections_expired,
  related_icmp,           // ICMP errors accepted as related to a tracked connection
  log_lines,
  log_rate_limited,       // log lines not written because of the rate limit or a full ring
  esp_decrypted,          // ESP packets decrypted
  esp_encrypted,          // packets sent into a tunnel
  packets_reassembled,    // fragmented ESP or UDP for the box, made whole (docs/esp.md)
  handed_to_owner,        // frames passed to worker 0, which owns their connections (several workers)
  user_firewall_accepted, // new connections a logged-in user's template accepted
  count
};
inline constexpr size_t kEventCount = static_cast<size_t>(Event::count);
std::string_view event_name(Event e);

// Pipeline stages, for per-stage packet counts.
enum class Stage : uint8_t { ethernet, arp, ipv4, local, route, filter, neighbour, transmit, count };
inline constexpr size_t kStageCount = static_cast<size_t>(Stage::count);
std::string_view stage_name(Stage s);

struct alignas(64) WorkerCounters {
  Counter received;
  Counter forwarded;
  Counter generated;
  Counter punted;
  Counter consumed;
  std::array<Counter, kDropReasonCount> dropped;
  std::array<Counter, kEventCount> events;
  std::array<Counter, kStageCount> stages;
  std::array<Counter, kStageCount> stage_cycles;  // only when profiling (bulwark bench)

  void drop(DropReason r, uint64_t n = 1) { dropped[static_cast<size_t>(r)].add(n); }
  void event(Event e, uint64_t n = 1) { events[static_cast<size_t>(e)].add(n); }
  void stage(Stage s, uint64_t n) { stages[static_cast<size_t>(s)].add(n); }
};

// A sum over workers, as the status command and replay report it.
struct CounterSnapshot {
  uint64_t received = 0, forwarded = 0, generated = 0, punted = 0, consumed = 0;
  std::array<uint64_t, kDropReasonCount> dropped{};
  std::array<uint64_t, kEventCount> events{};
  std::array<uint64_t, kStageCount> stages{};
  std::array<uint64_t, kStageCount> stage_cycles{};

  void add(const WorkerCounters& w);
  uint64_t dropped_total() const;
};

}  // namespace bulwark::dataplane
