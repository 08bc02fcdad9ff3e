#include "nat/rewrite.h"

#include <cstring>

namespace bulwark::nat {
namespace {

constexpr uint8_t kTcp = 6, kUdp = 17, kIcmp = 1;

uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t get32(const uint8_t* p) { return uint32_t{get16(p)} << 16 | get16(p + 2); }
void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void put32(uint8_t* p, uint32_t v) {
  put16(p, static_cast<uint16_t>(v >> 16));
  put16(p + 2, static_cast<uint16_t>(v));
}

// RFC 1624 eqn. 3 on the checksum stored at `sum`, for a 16-bit word changing old -> new.
void adjust(uint8_t* sum, uint16_t old_word, uint16_t new_word) {
  uint32_t s = uint16_t(~get16(sum)) + uint16_t(~old_word) + uint32_t{new_word};
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  put16(sum, static_cast<uint16_t>(~s));
}

void adjust32(uint8_t* sum, uint32_t old_value, uint32_t new_value) {
  adjust(sum, static_cast<uint16_t>(old_value >> 16), static_cast<uint16_t>(new_value >> 16));
  adjust(sum, static_cast<uint16_t>(old_value), static_cast<uint16_t>(new_value));
}

bool is_query(uint8_t type) { return type == 0 || type == 8 || (type >= 13 && type <= 18); }

size_t header_length(const uint8_t* ip) { return (ip[0] & 0x0f) * 4u; }
bool trailing_fragment(const uint8_t* ip) { return (get16(ip + 6) & 0x1fff) != 0; }

// Changes one address field (at `field`) of the packet, fixing the IPv4 checksum and the
// transport checksum at `l4_sum` (nullptr when there is none to fix).
void set_address(uint8_t* ip, uint8_t* field, uint32_t value, uint8_t* l4_sum) {
  uint32_t old = get32(field);
  if (old == value) return;
  put32(field, value);
  adjust32(ip + 10, old, value);
  if (l4_sum) adjust32(l4_sum, old, value);
}

void set_port(uint8_t* field, uint16_t value, uint8_t* l4_sum) {
  uint16_t old = get16(field);
  if (old == value) return;
  put16(field, value);
  if (l4_sum) adjust(l4_sum, old, value);
}

}  // namespace

bool read_tuple(const uint8_t* ip, size_t available, conntrack::FlowKey& key) {
  if (available < 20) return false;
  key = conntrack::FlowKey{};
  key.src = get32(ip + 12);
  key.dst = get32(ip + 16);
  key.protocol = ip[9];
  if (trailing_fragment(ip)) return true;
  size_t ihl = header_length(ip);
  const uint8_t* l4 = ip + ihl;
  if (key.protocol == kTcp || key.protocol == kUdp) {
    if (available < ihl + 4) return false;
    key.src_port = get16(l4);
    key.dst_port = get16(l4 + 2);
  } else if (key.protocol == kIcmp) {
    if (available < ihl + 8) return false;
    if (is_query(l4[0])) key.src_port = key.dst_port = get16(l4 + 4);
  }
  return true;
}

void rewrite(uint8_t* ip, size_t available, const conntrack::FlowKey& to) {
  size_t ihl = header_length(ip);
  uint8_t* l4 = ip + ihl;
  uint8_t* l4_sum = nullptr;
  bool ports = false;
  if (!trailing_fragment(ip) && (ip[9] == kTcp || ip[9] == kUdp)) {
    // The ports are the first four bytes; the checksum is adjusted only when it is there (an
    // ICMP error may quote as little as 8 bytes of TCP, RFC 792).
    ports = available >= ihl + 4;
    if (ip[9] == kTcp && available >= ihl + 18) l4_sum = l4 + 16;
    if (ip[9] == kUdp && available >= ihl + 8 && get16(l4 + 6) != 0) l4_sum = l4 + 6;
  }
  set_address(ip, ip + 12, to.src, l4_sum);
  set_address(ip, ip + 16, to.dst, l4_sum);
  if (ports) {
    set_port(l4, to.src_port, l4_sum);
    set_port(l4 + 2, to.dst_port, l4_sum);
    // A UDP checksum that comes out as 0 is sent as 0xffff (RFC 768).
    if (ip[9] == kUdp && l4_sum && get16(l4_sum) == 0) put16(l4_sum, 0xffff);
  } else if (ip[9] == kIcmp && !trailing_fragment(ip) && available >= ihl + 8 && is_query(l4[0])) {
    set_port(l4 + 4, to.src_port, l4 + 2);
  }
}

bool rewrite_icmp_error(uint8_t* ip, size_t available, const conntrack::FlowKey& inner_to,
                        uint32_t outer_dst, uint32_t outer_src) {
  size_t ihl = header_length(ip);
  if (available < ihl + 8 + 20) return false;
  uint8_t* icmp = ip + ihl;
  uint8_t* inner = icmp + 8;
  size_t inner_available = available - ihl - 8;
  size_t inner_ihl = header_length(inner);
  if (inner_ihl < 20 || inner_available < inner_ihl) return false;
  // Changes to the embedded packet change the ICMP checksum: track them as 16-bit words.
  // The first 20 transport bytes hold every field a rewrite touches (TCP's checksum included).
  uint8_t before[60 + 20];
  size_t covered = std::min<size_t>(inner_available, inner_ihl + 20);
  std::memcpy(before, inner, covered);
  // The embedded transport checksum covers data we may not have: it is adjusted for the
  // changed addresses and ports, which keeps it consistent with what the peer sent.
  rewrite(inner, covered, inner_to);
  for (size_t i = 0; i + 1 < covered; i += 2) {
    uint16_t old_word = get16(before + i), new_word = get16(inner + i);
    if (old_word != new_word) adjust(icmp + 2, old_word, new_word);
  }
  set_address(ip, ip + 16, outer_dst, nullptr);
  if (outer_src != 0) set_address(ip, ip + 12, outer_src, nullptr);
  return true;
}

}  // namespace bulwark::nat
