// Internet checksums: full computation against a known header, and the RFC 1624 incremental
// update used for the TTL decrement agreeing with a full recomputation for every TTL.
#include <catch2/catch.hpp>

#include <cstring>

#include "dataplane/checksum.h"

using namespace bulwark::dataplane;

namespace {

Ipv4Header sample_header() {
  // 45 00 00 73 00 00 40 00 40 11 b8 61 c0 a8 00 01 c0 a8 00 c7 (a well-known example)
  const uint8_t bytes[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                             0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  Ipv4Header h;
  std::memcpy(&h, bytes, sizeof h);
  return h;
}

}  // namespace

TEST_CASE("IPv4 header checksum", "[checksum]") {
  Ipv4Header h = sample_header();
  CHECK(ipv4_header_valid(h));
  CHECK(h.checksum.to_host() == 0xb861);
  h.ttl = 63;
  CHECK_FALSE(ipv4_header_valid(h));
  ipv4_set_checksum(h);
  CHECK(ipv4_header_valid(h));
}

TEST_CASE("the IPv4 header checksum equals the byte-wise one, options and carries included", "[checksum]") {
  uint32_t state = 12345;
  auto next = [&] { return state = state * 1103515245u + 12345u; };
  alignas(4) uint8_t bytes[60];
  for (int round = 0; round < 20000; ++round) {
    const unsigned words = 5 + next() % 11;  // IHL 5..15
    for (auto& b : bytes) b = static_cast<uint8_t>(round % 3 == 0 ? 0xff - next() % 4 : next() >> 24);
    bytes[0] = static_cast<uint8_t>(0x40 | words);
    const auto* header = reinterpret_cast<const Ipv4Header*>(bytes);
    REQUIRE(ipv4_header_checksum(*header) == internet_checksum(bytes, words * 4));
  }
}

TEST_CASE("incremental TTL update equals recomputation for every TTL", "[checksum]") {
  for (int ttl = 2; ttl <= 255; ++ttl) {
    Ipv4Header h = sample_header();
    h.ttl = static_cast<uint8_t>(ttl);
    ipv4_set_checksum(h);
    Ipv4Header incremental = h;
    ipv4_decrement_ttl(incremental);
    Ipv4Header full = h;
    full.ttl = static_cast<uint8_t>(ttl - 1);
    ipv4_set_checksum(full);
    INFO("ttl " << ttl);
    CHECK(incremental.checksum.to_host() == full.checksum.to_host());
    CHECK(ipv4_header_valid(incremental));
  }
}

TEST_CASE("odd-length data is padded with a zero byte", "[checksum]") {
  const uint8_t odd[3] = {0x01, 0x02, 0x03};
  const uint8_t padded[4] = {0x01, 0x02, 0x03, 0x00};
  CHECK(internet_checksum(odd, 3) == internet_checksum(padded, 4));
}

TEST_CASE("wire headers have their on-wire sizes", "[checksum]") {
  STATIC_REQUIRE(sizeof(EthernetHeader) == 14);
  STATIC_REQUIRE(sizeof(ArpPacket) == 28);
  STATIC_REQUIRE(sizeof(Ipv4Header) == 20);
}
