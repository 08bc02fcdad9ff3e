// Wire formats of the headers the pipeline reads and writes. Every struct is packed to its
// on-wire size (checked by static_assert) and uses Be16/Be32 for multi-byte fields, so a field
// can only be read through an explicit byte-order conversion.
#pragma once

#include <cstdint>

#include "config/net_types.h"

namespace bulwark::dataplane {

using config::Be16;
using config::Be32;

inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeArp = 0x0806;
inline constexpr uint16_t kEtherTypeVlan = 0x8100;
inline constexpr uint16_t kEtherTypeQinq = 0x88a8;
inline constexpr uint16_t kEtherTypeIpv6 = 0x86dd;

struct [[gnu::packed]] EthernetHeader {
  uint8_t dst[6];
  uint8_t src[6];
  Be16 ether_type;
};
static_assert(sizeof(EthernetHeader) == 14);

struct [[gnu::packed]] VlanTag {
  Be16 tci;  // PCP(3) DEI(1) VID(12)
  Be16 ether_type;
};
static_assert(sizeof(VlanTag) == 4);

// The length of an Ethernet header, with one 802.1Q tag when `vlan` is not 0.
inline constexpr uint16_t l2_length(uint16_t vlan) {
  return vlan ? sizeof(EthernetHeader) + sizeof(VlanTag) : sizeof(EthernetHeader);
}

// Writes an Ethernet header (l2_length(vlan) bytes) carrying `ether_type`.
inline void write_ethernet(EthernetHeader* eth, const uint8_t dst[6], const uint8_t src[6],
                           uint16_t vlan, uint16_t ether_type) {
  for (int i = 0; i < 6; ++i) {
    eth->dst[i] = dst[i];
    eth->src[i] = src[i];
  }
  if (vlan) {
    eth->ether_type = Be16::from_host(kEtherTypeVlan);
    auto* tag = reinterpret_cast<VlanTag*>(eth + 1);
    tag->tci = Be16::from_host(vlan);
    tag->ether_type = Be16::from_host(ether_type);
  } else {
    eth->ether_type = Be16::from_host(ether_type);
  }
}

struct [[gnu::packed]] ArpPacket {
  Be16 hardware_type;  // 1 = Ethernet
  Be16 protocol_type;  // 0x0800
  uint8_t hardware_length;
  uint8_t protocol_length;
  Be16 operation;  // 1 request, 2 reply
  uint8_t sender_mac[6];
  Be32 sender_ip;
  uint8_t target_mac[6];
  Be32 target_ip;
};
static_assert(sizeof(ArpPacket) == 28);
inline constexpr uint16_t kArpRequest = 1;
inline constexpr uint16_t kArpReply = 2;

struct [[gnu::packed]] Ipv4Header {
  uint8_t version_ihl;
  uint8_t tos;
  Be16 total_length;
  Be16 id;
  Be16 fragment;  // flags(3) offset(13)
  uint8_t ttl;
  uint8_t protocol;
  Be16 checksum;
  Be32 src;
  Be32 dst;

  unsigned version() const { return version_ihl >> 4; }
  unsigned header_length() const { return (version_ihl & 0x0f) * 4u; }
  bool dont_fragment() const { return (fragment.to_host() & 0x4000) != 0; }
  bool more_fragments() const { return (fragment.to_host() & 0x2000) != 0; }
  unsigned fragment_offset() const { return fragment.to_host() & 0x1fff; }
  bool is_fragment() const { return more_fragments() || fragment_offset() != 0; }
};
static_assert(sizeof(Ipv4Header) == 20);
inline constexpr uint16_t kIpv4DontFragment = 0x4000;
inline constexpr uint16_t kIpv4MoreFragments = 0x2000;

struct [[gnu::packed]] UdpHeader {
  Be16 src_port;
  Be16 dst_port;
  Be16 length;
  Be16 checksum;
};
static_assert(sizeof(UdpHeader) == 8);
inline constexpr uint16_t kIkeNattPort = 4500;  // IKE and ESP in UDP (RFC 3948)

struct [[gnu::packed]] IcmpHeader {
  uint8_t type;
  uint8_t code;
  Be16 checksum;
  Be16 rest_high;  // identifier, or unused, or 0 for frag-needed
  Be16 rest_low;   // sequence, or next-hop MTU for frag-needed
};
static_assert(sizeof(IcmpHeader) == 8);
inline constexpr uint8_t kIcmpEchoReply = 0;
inline constexpr uint8_t kIcmpUnreachable = 3;
inline constexpr uint8_t kIcmpEchoRequest = 8;
inline constexpr uint8_t kIcmpTimeExceeded = 11;
inline constexpr uint8_t kIcmpParameterProblem = 12;

}  // namespace bulwark::dataplane
