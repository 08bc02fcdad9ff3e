// Internet checksums (RFC 1071) and their incremental update (RFC 1624), on host-order sums.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "dataplane/headers.h"

namespace bulwark::dataplane {

// One's-complement sum of `length` bytes, folded to 16 bits, not inverted.
inline uint32_t checksum_add(uint32_t sum, const void* data, size_t length) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i + 1 < length; i += 2) sum += (uint32_t{bytes[i]} << 8) | bytes[i + 1];
  if (length & 1) sum += uint32_t{bytes[length - 1]} << 8;
  return sum;
}

inline uint16_t checksum_finish(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// The checksum of `length` bytes, ready to store (host order).
inline uint16_t internet_checksum(const void* data, size_t length) {
  return checksum_finish(checksum_add(0, data, length));
}

// The checksum of an IPv4 header (a multiple of 4 bytes, options included), ready to store (host
// order), on every packet's path: 32-bit words in the machine's byte order into a 64-bit sum,
// folded, then put into network order — the one's-complement sum does not depend on the byte
// order it is taken in (RFC 1071 2(B)). Equal to internet_checksum() of the header.
inline uint16_t ipv4_header_checksum(const Ipv4Header& ip) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(&ip);
  const size_t length = ip.header_length();
  uint64_t sum = 0;
  for (size_t i = 0; i < length; i += 4) {
    uint32_t word;
    std::memcpy(&word, bytes + i, 4);
    sum += word;
  }
  sum = (sum & 0xffffffff) + (sum >> 32);
  sum = (sum & 0xffffffff) + (sum >> 32);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  auto folded = static_cast<uint16_t>((sum & 0xffff) + (sum >> 16));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  folded = __builtin_bswap16(folded);
#endif
  return static_cast<uint16_t>(~folded);
}

inline bool ipv4_header_valid(const Ipv4Header& ip) { return ipv4_header_checksum(ip) == 0; }

inline void ipv4_set_checksum(Ipv4Header& ip) {
  ip.checksum = Be16{};
  ip.checksum = Be16::from_host(ipv4_header_checksum(ip));
}

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for one 16-bit word changing from `old_word` to
// `new_word`.
inline Be16 checksum_update(Be16 checksum, uint16_t old_word, uint16_t new_word) {
  uint32_t sum = uint16_t(~checksum.to_host()) + uint16_t(~old_word) + uint32_t{new_word};
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return Be16::from_host(static_cast<uint16_t>(~sum));
}

// Decrements the TTL and patches the header checksum in place.
inline void ipv4_decrement_ttl(Ipv4Header& ip) {
  uint16_t old_word = static_cast<uint16_t>((ip.ttl << 8) | ip.protocol);
  --ip.ttl;
  uint16_t new_word = static_cast<uint16_t>((ip.ttl << 8) | ip.protocol);
  ip.checksum = checksum_update(ip.checksum, old_word, new_word);
}

}  // namespace bulwark::dataplane
