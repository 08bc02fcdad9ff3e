// NAT rewriting: after every rewrite, a full recomputation of every checksum must agree with the
// incrementally updated ones.
#include <catch2/catch.hpp>

#include <vector>

#include "nat/rewrite.h"

using namespace bulwark;
using conntrack::FlowKey;

namespace {

uint32_t sum16(const std::vector<uint8_t>& b, size_t from, size_t length, uint32_t sum = 0) {
  for (size_t i = 0; i < length; i += 2) {
    sum += uint32_t{b[from + i]} << 8 | (i + 1 < length ? b[from + i + 1] : 0);
  }
  return sum;
}
uint16_t fold(uint32_t s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s);
}
void put16(std::vector<uint8_t>& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}
void put32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  put16(b, at, static_cast<uint16_t>(v >> 16));
  put16(b, at + 2, static_cast<uint16_t>(v));
}
uint16_t get16(const std::vector<uint8_t>& b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }

// A pseudo-header sum for TCP/UDP at `ip`.
uint32_t pseudo(const std::vector<uint8_t>& b, size_t ip, uint8_t protocol, size_t l4_length) {
  uint32_t s = sum16(b, ip + 12, 8);
  return s + protocol + static_cast<uint32_t>(l4_length);
}

// An IPv4 packet with a transport payload, all checksums correct.
std::vector<uint8_t> packet(uint8_t protocol, uint32_t src, uint32_t dst, uint16_t sport,
                            uint16_t dport, size_t payload = 12, uint8_t icmp_type = 8) {
  size_t l4 = protocol == 6 ? 20 : 8;
  std::vector<uint8_t> b(20 + l4 + payload, 0);
  b[0] = 0x45;
  put16(b, 2, static_cast<uint16_t>(b.size()));
  b[8] = 64;
  b[9] = protocol;
  put32(b, 12, src);
  put32(b, 16, dst);
  for (size_t i = 0; i < payload; ++i) b[20 + l4 + i] = static_cast<uint8_t>(i * 7 + 1);
  if (protocol == 1) {
    b[20] = icmp_type;
    put16(b, 24, sport);
    put16(b, 26, 1);
  } else {
    put16(b, 20, sport);
    put16(b, 22, dport);
  }
  if (protocol == 6) b[32] = 5 << 4;
  if (protocol == 17) put16(b, 24, static_cast<uint16_t>(8 + payload));
  put16(b, 10, fold(sum16(b, 0, 20)));
  return b;
}

void finish_l4(std::vector<uint8_t>& b, size_t ip = 0) {
  uint8_t protocol = b[ip + 9];
  size_t l4 = ip + 20;
  size_t length = get16(b, ip + 2) - 20;
  if (protocol == 1) {
    put16(b, l4 + 2, 0);
    put16(b, l4 + 2, fold(sum16(b, l4, length)));
  } else {
    size_t at = l4 + (protocol == 6 ? 16 : 6);
    put16(b, at, 0);
    uint16_t c = fold(sum16(b, l4, length, pseudo(b, ip, protocol, length)));
    put16(b, at, protocol == 17 && c == 0 ? 0xffff : c);
  }
}

void check_all(const std::vector<uint8_t>& b) {
  CHECK(fold(sum16(b, 0, 20)) == 0);
  uint8_t protocol = b[9];
  size_t length = get16(b, 2) - 20;
  if (protocol == 1) {
    CHECK(fold(sum16(b, 20, length)) == 0);
  } else if (!(protocol == 17 && get16(b, 26) == 0)) {
    CHECK(fold(sum16(b, 20, length, pseudo(b, 0, protocol, length))) == 0);
  }
}

}  // namespace

TEST_CASE("TCP, UDP and ICMP queries are rewritten with correct checksums", "[nat]") {
  for (uint8_t protocol : {uint8_t{6}, uint8_t{17}, uint8_t{1}}) {
    INFO("protocol " << int(protocol));
    auto b = packet(protocol, 0x0a000005, 0x08080808, 1000, 53);
    finish_l4(b);
    check_all(b);
    FlowKey before;
    REQUIRE(nat::read_tuple(b.data(), b.size(), before));
    CHECK(before.src == 0x0a000005);
    FlowKey to{0xc6336402, 0x08080808, 40000, protocol == 1 ? uint16_t{40000} : uint16_t{53}, protocol, 0, 0};
    nat::rewrite(b.data(), b.size(), to);
    check_all(b);
    FlowKey after;
    REQUIRE(nat::read_tuple(b.data(), b.size(), after));
    CHECK(after == to);
  }
}

TEST_CASE("a UDP checksum of zero stays zero", "[nat]") {
  auto b = packet(17, 0x0a000005, 0x08080808, 1000, 53);  // checksum left 0
  nat::rewrite(b.data(), b.size(), {0xc6336402, 0x08080808, 40000, 53, 17, 0, 0});
  CHECK(get16(b, 26) == 0);
  CHECK(fold(sum16(b, 0, 20)) == 0);
}

TEST_CASE("fragments after the first get their addresses only", "[nat]") {
  auto b = packet(17, 0x0a000005, 0x08080808, 1000, 53);
  put16(b, 6, 0x0010);  // offset 16 units
  put16(b, 10, 0);
  put16(b, 10, fold(sum16(b, 0, 20)));
  auto payload_before = std::vector<uint8_t>(b.begin() + 20, b.end());
  nat::rewrite(b.data(), b.size(), {0x0a010105, 0x08080808, 1, 2, 17, 0, 0});
  CHECK(fold(sum16(b, 0, 20)) == 0);
  CHECK(std::vector<uint8_t>(b.begin() + 20, b.end()) == payload_before);
}

TEST_CASE("an ICMP error about a translated connection is rewritten inside and out", "[nat]") {
  // The router 203.0.113.1 tells 198.51.100.2 (the box, masquerading) that 198.51.100.2:40000 ->
  // 8.8.8.8:53 could not be delivered; inside it must say 10.0.0.5:1000 and go to 10.0.0.5.
  auto inner = packet(17, 0xc6336402, 0x08080808, 40000, 53, 4);
  finish_l4(inner);
  std::vector<uint8_t> b(20 + 8 + inner.size(), 0);
  b[0] = 0x45;
  put16(b, 2, static_cast<uint16_t>(b.size()));
  b[8] = 64;
  b[9] = 1;
  put32(b, 12, 0xcb007101);
  put32(b, 16, 0xc6336402);
  b[20] = 3;
  b[21] = 3;
  std::copy(inner.begin(), inner.end(), b.begin() + 28);
  put16(b, 10, fold(sum16(b, 0, 20)));
  put16(b, 22, fold(sum16(b, 20, b.size() - 20)));
  check_all(b);

  REQUIRE(nat::rewrite_icmp_error(b.data(), b.size(), {0x0a000005, 0x08080808, 1000, 53, 17, 0, 0}, 0x0a000005));
  check_all(b);  // outer IPv4 and ICMP checksums
  std::vector<uint8_t> rewritten(b.begin() + 28, b.end());
  CHECK(fold(sum16(rewritten, 0, 20)) == 0);  // embedded IPv4 checksum
  FlowKey key;
  REQUIRE(nat::read_tuple(rewritten.data(), rewritten.size(), key));
  CHECK(key == FlowKey{0x0a000005, 0x08080808, 1000, 53, 17, 0, 0});
  CHECK(get16(b, 16) == 0x0a00);
  check_all(rewritten);  // the embedded UDP checksum still matches its (complete) datagram
}

namespace {

// An ICMP error from `from` to `to` quoting the first `quoted` bytes of `inner`.
std::vector<uint8_t> icmp_error_about(const std::vector<uint8_t>& inner, size_t quoted, uint32_t from, uint32_t to) {
  std::vector<uint8_t> b(20 + 8 + quoted, 0);
  b[0] = 0x45;
  put16(b, 2, static_cast<uint16_t>(b.size()));
  b[8] = 64;
  b[9] = 1;
  put32(b, 12, from);
  put32(b, 16, to);
  b[20] = 11;
  std::copy(inner.begin(), inner.begin() + static_cast<long>(quoted), b.begin() + 28);
  put16(b, 10, fold(sum16(b, 0, 20)));
  put16(b, 22, fold(sum16(b, 20, b.size() - 20)));
  return b;
}

}  // namespace

TEST_CASE("an ICMP error quoting 8 bytes of TCP gets its ports translated too", "[nat]") {
  // Time exceeded from a router about the masqueraded SYN 198.51.100.2:40000 -> 8.8.8.8:80.
  auto syn = packet(6, 0xc6336402, 0x08080808, 40000, 80, 0);
  finish_l4(syn);
  auto b = icmp_error_about(syn, 28, 0xcb007101, 0xc6336402);
  REQUIRE(nat::rewrite_icmp_error(b.data(), b.size(), {0x0a000005, 0x08080808, 1000, 80, 6, 0, 0}, 0x0a000005));
  check_all(b);
  std::vector<uint8_t> inner(b.begin() + 28, b.end());
  FlowKey key;
  REQUIRE(nat::read_tuple(inner.data(), inner.size(), key));
  CHECK(key == FlowKey{0x0a000005, 0x08080808, 1000, 80, 6, 0, 0});
  CHECK(fold(sum16(inner, 0, 20)) == 0);
}

TEST_CASE("an ICMP error quoting a whole TCP segment keeps its TCP checksum right", "[nat]") {
  auto syn = packet(6, 0xc6336402, 0x08080808, 40000, 80, 6);
  finish_l4(syn);
  auto b = icmp_error_about(syn, syn.size(), 0x08080808, 0xc6336402);
  REQUIRE(nat::rewrite_icmp_error(b.data(), b.size(), {0x0a000005, 0x08080808, 1000, 80, 6, 0, 0}, 0x0a000005));
  check_all(b);
  std::vector<uint8_t> inner(b.begin() + 28, b.end());
  check_all(inner);  // the embedded TCP checksum matches the translated segment
}

TEST_CASE("an ICMP error from a translated host gets the address it is known by outside", "[nat]") {
  // 10.1.1.10 is 192.168.1.200 by 1:1 NAT: its port unreachable about 10.1.0.100 -> .200:5001
  // must leave from 10.1.1.10 and quote 10.1.1.10.
  auto datagram = packet(17, 0x0a010064, 0xc0a801c8, 7001, 5001, 5);
  finish_l4(datagram);
  auto b = icmp_error_about(datagram, datagram.size(), 0xc0a801c8, 0x0a010064);
  REQUIRE(nat::rewrite_icmp_error(b.data(), b.size(), {0x0a010064, 0x0a01010a, 7001, 5001, 17, 0, 0}, 0x0a010064,
                                  0x0a01010a));
  check_all(b);
  CHECK(get16(b, 12) == 0x0a01);
  CHECK(get16(b, 14) == 0x010a);
  std::vector<uint8_t> inner(b.begin() + 28, b.end());
  check_all(inner);
}

TEST_CASE("truncated packets are refused, never overrun", "[nat]") {
  auto b = packet(6, 1, 2, 3, 4);
  FlowKey k;
  CHECK_FALSE(nat::read_tuple(b.data(), 22, k));
  CHECK_FALSE(nat::read_tuple(b.data(), 10, k));
  CHECK_FALSE(nat::rewrite_icmp_error(b.data(), 30, k, 0));
}

#include "nat/endpoint_mappings.h"

TEST_CASE("endpoint-independent mappings: one port per endpoint, kept from other hosts", "[nat]") {
  nat::EndpointMappings m(64);
  const uint32_t ext = 0xc6336402, host_a = 0x0a000005, host_b = 0x0a000006;
  CHECK_FALSE(m.port_of(17, host_a, 1000, ext, 0));
  REQUIRE(m.remember(17, host_a, 1000, ext, 1000, 100, 0));
  CHECK(m.port_of(17, host_a, 1000, ext, 50) == uint16_t{1000});
  CHECK_FALSE(m.port_of(6, host_a, 1000, ext, 50));  // per protocol
  CHECK(m.taken_by_other(17, ext, 1000, host_b, 1000, 50));
  CHECK_FALSE(m.taken_by_other(17, ext, 1000, host_a, 1000, 50));
  CHECK_FALSE(m.taken_by_other(17, ext, 1001, host_b, 1000, 50));
  // Expired: the port is free again and the endpoint has no mapping.
  CHECK_FALSE(m.port_of(17, host_a, 1000, ext, 100));
  CHECK_FALSE(m.taken_by_other(17, ext, 1000, host_b, 1000, 100));
  REQUIRE(m.remember(17, host_b, 1000, ext, 1000, 300, 150));
  CHECK(m.port_of(17, host_b, 1000, ext, 200) == uint16_t{1000});
}

TEST_CASE("endpoint-independent mappings refuse when full, never overwrite live ones", "[nat]") {
  nat::EndpointMappings m(64);
  int remembered = 0;
  for (uint16_t p = 1; p <= 2000; ++p) remembered += m.remember(17, 0x0a000000u + p, p, 1, p, 1000, 0);
  CHECK(remembered >= 64);
  CHECK(remembered < 2000);
  int found = 0;
  for (uint16_t p = 1; p <= 2000; ++p) found += m.port_of(17, 0x0a000000u + p, p, 1, 10).has_value();
  CHECK(found == remembered);
}
