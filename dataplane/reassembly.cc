// Reassembly of fragmented IPsec traffic for the box: DPDK's rte_ip_frag, one table per worker.
// Expiring the packets of a whole table is an experimental DPDK API (stable in practice since
// 20.11); it is the only way to free pieces whose partners never come without waiting for the
// same key to be looked up again.
#define ALLOW_EXPERIMENTAL_API 1
#include "dataplane/reassembly.h"

#include <rte_ip_frag.h>

#include <stdexcept>

#include "dataplane/checksum.h"
#include "dataplane/headers.h"

namespace bulwark::dataplane {
namespace {

// The table: kMaxPackets entries in buckets of 8 (rte_ip_frag's associativity), twice as many
// slots as entries so that a full bucket is rare before the table is full.
constexpr uint32_t kBucketEntries = 8;
constexpr uint32_t kBuckets = 2 * Reassembly::kMaxPackets / kBucketEntries;

}  // namespace

Reassembly::Reassembly(uint64_t hz) : given_up_(std::make_unique<rte_ip_frag_death_row>()) {
  table_ = rte_ip_frag_table_create(kBuckets, kBucketEntries, kMaxPackets, hz * kTimeoutSeconds,
                                    static_cast<int>(rte_socket_id()));
  if (!table_) throw std::runtime_error("cannot allocate the fragment reassembly table");
  given_up_->cnt = 0;
}

Reassembly::~Reassembly() {
  give_up_all();
  rte_ip_frag_table_destroy(table_);
}

uint32_t Reassembly::free_given_up() {
  const uint32_t n = given_up_->cnt;
  if (n) rte_ip_frag_free_death_row(given_up_.get(), 0);
  return n;
}

Reassembly::Result Reassembly::add(rte_mbuf* m, uint16_t ip_offset, uint64_t now) {
  auto* ip = rte_pktmbuf_mtod_offset(m, Ipv4Header*, ip_offset);
  m->l2_len = ip_offset;
  m->l3_len = ip->header_length();
  Result r;
  r.whole = rte_ipv4_frag_reassemble_packet(table_, given_up_.get(), m, now,
                                            reinterpret_cast<rte_ipv4_hdr*>(ip));
  r.given_up = free_given_up();
  if (!r.whole) return r;
  if (rte_pktmbuf_pkt_len(r.whole) - ip_offset > UINT16_MAX) {  // offsets beyond an IPv4 packet
    r.given_up += r.whole->nb_segs;
    rte_pktmbuf_free(r.whole);
    r.whole = nullptr;
    return r;
  }
  r.merged = r.whole->nb_segs - 1u;
  // rte_ip_frag wrote length and flags but left the checksum zero. One buffer when it fits:
  // decryption works in place.
  rte_pktmbuf_linearize(r.whole);
  ipv4_set_checksum(*rte_pktmbuf_mtod_offset(r.whole, Ipv4Header*, ip_offset));
  return r;
}

uint32_t Reassembly::expire(uint64_t now) {
  rte_ip_frag_table_del_expired_entries(table_, given_up_.get(), now);
  return free_given_up();
}

uint32_t Reassembly::give_up_all() {
  uint32_t n = 0;
  // The death row holds a bounded number of pieces: drain it until nothing more is given up.
  for (uint32_t freed; (freed = expire(UINT64_MAX)) != 0;) n += freed;
  return n;
}

}  // namespace bulwark::dataplane
