#include <catch2/catch.hpp>

#include "config/net_types.h"

using namespace bulwark::config;

TEST_CASE("IPv4 addresses parse strictly", "[net_types]") {
  CHECK(Ipv4Address::parse("192.168.1.10")->value == 0xc0a8010a);
  CHECK(Ipv4Address::parse("0.0.0.0")->value == 0);
  CHECK(Ipv4Address::parse("255.255.255.255")->value == 0xffffffff);
  CHECK(Ipv4Address::parse("192.168.1.10")->str() == "192.168.1.10");
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-1", "01.2.3.4", "a.b.c.d",
                          "1..2.3", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4/"}) {
    INFO(bad);
    CHECK_FALSE(Ipv4Address::parse(bad));
  }
}

TEST_CASE("IPv4 prefixes: containment, overlap, canonical form", "[net_types]") {
  auto net = *Ipv4Prefix::parse("10.1.0.0/16");
  auto sub = *Ipv4Prefix::parse("10.1.1.0/24");
  auto host = *Ipv4Prefix::parse("10.1.0.210");
  CHECK(host.length == 32);
  CHECK(net.contains(sub));
  CHECK_FALSE(sub.contains(net));
  CHECK(net.contains(host.address));
  CHECK(sub.overlaps(net));
  CHECK_FALSE(sub.overlaps(*Ipv4Prefix::parse("10.1.2.0/24")));
  auto loose = *Ipv4Prefix::parse("192.168.1.1/24");
  CHECK_FALSE(loose.is_canonical());
  CHECK(loose.canonical().str() == "192.168.1.0/24");
  CHECK(Ipv4Prefix::parse("0.0.0.0/0")->contains(net));
  CHECK_FALSE(Ipv4Prefix::parse("1.2.3.4/33"));
  CHECK_FALSE(Ipv4Prefix::parse("1.2.3.4/"));
  CHECK(Ipv4Prefix::mask_of(0) == 0);
  CHECK(Ipv4Prefix::mask_of(32) == 0xffffffff);
}

TEST_CASE("MAC addresses", "[net_types]") {
  auto mac = MacAddress::parse("02:00:5E:10:00:01");
  REQUIRE(mac);
  CHECK(mac->str() == "02:00:5e:10:00:01");
  CHECK_FALSE(mac->is_multicast());
  CHECK(MacAddress::parse("01:00:5e:00:00:01")->is_multicast());
  CHECK(MacAddress::parse("02-00-00-00-00-01"));
  CHECK_FALSE(MacAddress::parse("02:00:00:00:00"));
  CHECK_FALSE(MacAddress::parse("02:00:00:00:00:0g"));
}

TEST_CASE("network byte order types convert explicitly", "[net_types]") {
  constexpr Be16 port = Be16::from_host(0x1234);
  static_assert(port.to_host() == 0x1234);
  CHECK(port.raw() == 0x3412);
  Be32 addr = Ipv4Address{0xc0a80101}.to_be();
  CHECK(addr.to_host() == 0xc0a80101);
  CHECK(addr.raw() == 0x0101a8c0);
}

TEST_CASE("port ranges", "[net_types]") {
  CHECK(PortRange{}.is_any());
  CHECK(PortRange{}.str() == "any");
  CHECK(PortRange{80, 80}.str() == "80");
  CHECK(PortRange{8000, 8080}.str() == "8000-8080");
  CHECK(PortRange{1, 1023}.contains(PortRange{80, 80}));
  CHECK_FALSE(PortRange{80, 80}.contains(PortRange{80, 81}));
}
