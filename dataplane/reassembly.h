// Reassembly of the fragmented packets the box must see whole (theory of operation: docs/esp.md,
// "Fragmented ESP", and docs/nat.md, "Fragments").
//
// A peer whose path to the box is narrower than its ESP packets fragments them after encryption
// (Linux does so for inner packets without DF), and ESP can only be authenticated and decrypted
// whole: fragments of ESP, and of UDP to the box (ESP in UDP, RFC 3948 — and IKE, which then
// reaches the exception path in one piece). Masquerading and port forwarding translate ports,
// which only a first fragment carries: their fragments too (the whole packet is fragmented again
// on the way out when it exceeds the egress MTU). They are collected here, one table per worker:
// DPDK's `rte_ip_frag` keyed by source, destination and IP ID, with a bounded number of packets in
// flight and a time limit per packet. The pieces of one packet meet on one worker because RSS
// hashes fragments by their addresses only (with several workers, worker 0 owns all of these).
//
// Every fragment ends in exactly one outcome: merged into a whole packet (counted as consumed,
// all but the piece the packet is carried on), or given up — pieces missing after the time limit,
// repeated or overlapping pieces, too many pieces, or no room for another packet in flight — and
// then freed and counted as `reassembly_failed`.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>
#include <memory>

struct rte_ip_frag_tbl;
struct rte_ip_frag_death_row;

namespace bulwark::dataplane {

class Reassembly {
 public:
  static constexpr uint32_t kMaxPackets = 1024;  // packets in flight per worker
  static constexpr uint32_t kTimeoutSeconds = 5;

  // Throws std::runtime_error when DPDK cannot allocate the table.
  explicit Reassembly(uint64_t hz);
  ~Reassembly();
  Reassembly(const Reassembly&) = delete;
  Reassembly& operator=(const Reassembly&) = delete;

  struct Result {
    rte_mbuf* whole = nullptr;  // the reassembled packet, or nullptr: still incomplete or given up
    uint32_t merged = 0;        // fragments now carried by `whole` besides its own buffer
    uint32_t given_up = 0;      // fragments freed (this one or others)
  };
  // Adds the fragment `m`, whose IPv4 header starts `ip_offset` bytes in (after the Ethernet
  // header and tag), received at TSC time `now`. The whole packet starts with the Ethernet header
  // of its first piece; its IPv4 header is valid (length, flags, checksum) and it is in one
  // buffer when it fits, else a chain.
  Result add(rte_mbuf* m, uint16_t ip_offset, uint64_t now);
  // Gives up the packets whose time limit passed before `now`; returns how many fragments.
  uint32_t expire(uint64_t now);
  // Gives up everything in flight (end of a replay, shutdown); returns how many fragments.
  uint32_t give_up_all();

 private:
  uint32_t free_given_up();

  rte_ip_frag_tbl* table_ = nullptr;
  std::unique_ptr<rte_ip_frag_death_row> given_up_;
};

}  // namespace bulwark::dataplane
