// Rewriting the addresses and ports of IPv4 packets in place, with incremental checksum updates
// (RFC 1624): the IPv4 header checksum, the TCP/UDP checksum (whose pseudo header covers the
// addresses; a UDP checksum of zero means "none" and stays zero) and, for ICMP queries, the
// identifier and the ICMP checksum. Plain byte buffers: no DPDK, unit-tested against full
// recomputation.
#pragma once

#include <cstddef>
#include <cstdint>

#include "conntrack/conntrack.h"

namespace bulwark::nat {

// The tuple of the packet at `ip` as a FlowKey (ports, or the ICMP query identifier twice).
// `available` bytes of the packet are in the buffer. False when the transport header is cut
// short; a fragment after the first yields ports 0.
bool read_tuple(const uint8_t* ip, size_t available, conntrack::FlowKey& key);

// Rewrites the packet at `ip` to carry `to` (addresses; ports or ICMP identifier when the
// packet has a transport header). `available` bytes are in the buffer.
void rewrite(uint8_t* ip, size_t available, const conntrack::FlowKey& to);

// For an ICMP error at `ip`: rewrites the embedded packet to `inner_to` (addresses, and ports
// or query identifier even when only 8 transport bytes are quoted), the outer destination to
// `outer_dst` and, unless it is 0, the outer source to `outer_src`, keeping every checksum right
// (the embedded header checksum, the embedded transport checksum where it is quoted, and the
// ICMP checksum). False when the embedded packet is cut short.
bool rewrite_icmp_error(uint8_t* ip, size_t available, const conntrack::FlowKey& inner_to,
                        uint32_t outer_dst, uint32_t outer_src = 0);

}  // namespace bulwark::nat
