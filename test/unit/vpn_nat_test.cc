// NAT inside tunnels: local 1:1 (13.2), remote 1:1 (13.5), both at once, and what is left alone.
#include <catch2/catch.hpp>

#include "nat/vpn_nat.h"

using namespace bulwark;

namespace {

uint32_t ip(const char* text) { return config::Ipv4Address::parse(text)->value; }
config::Ipv4Prefix net(const char* text) { return *config::Ipv4Prefix::parse(text); }

config::VpnConnectionEntry connection(const char* local, const char* remote, const char* real = nullptr,
                                      const char* mapped = nullptr) {
  config::VpnConnectionEntry c;
  config::TunnelEntry t;
  t.local = net(local);
  t.remote = net(remote);
  if (real) {
    t.local_nat = config::LocalNat::Mode::kOneToOne;
    t.local_nat_map.push_back({net(real), net(local), 0, {}});
  }
  if (mapped) t.remote_nat = net(mapped);
  c.tunnels.push_back(t);
  return c;
}

}  // namespace

TEST_CASE("Local 1:1 NAT maps the real network into the tunnel's virtual one and back") {
  nat::VpnNat n({connection("192.168.10.0/24", "192.168.20.0/24", "192.168.1.0/24")});
  uint32_t src = ip("192.168.1.10"), dst = ip("192.168.20.5");
  REQUIRE(n.outbound(src, dst) == nat::VpnNat::Outbound::kOneToOne);
  CHECK(src == ip("192.168.10.10"));
  CHECK(dst == ip("192.168.20.5"));
  REQUIRE(n.inbound(dst, src));  // the answer: from the branch to the virtual address
  CHECK(src == ip("192.168.1.10"));
  // Other traffic is not the tunnel's.
  src = ip("192.168.2.10");
  dst = ip("192.168.20.5");
  CHECK(n.outbound(src, dst) == nat::VpnNat::Outbound::kNone);
  src = ip("192.168.1.10");
  dst = ip("192.168.30.5");
  CHECK(n.outbound(src, dst) == nat::VpnNat::Outbound::kNone);
}

TEST_CASE("Remote 1:1 NAT shows the remote network as a local block") {
  nat::VpnNat n({connection("192.168.1.0/24", "10.1.0.32/32", nullptr, "192.168.1.253/32")});
  uint32_t src = ip("192.168.1.47"), dst = ip("192.168.1.253");
  REQUIRE(n.outbound(src, dst) == nat::VpnNat::Outbound::kOneToOne);
  CHECK(src == ip("192.168.1.47"));
  CHECK(dst == ip("10.1.0.32"));
  uint32_t back_src = ip("10.1.0.32"), back_dst = ip("192.168.1.47");
  REQUIRE(n.inbound(back_src, back_dst));
  CHECK(back_src == ip("192.168.1.253"));
  CHECK(back_dst == ip("192.168.1.47"));
}

TEST_CASE("Both at once, by offset within blocks; tunnels without NAT are not listed") {
  nat::VpnNat n({connection("172.16.0.0/16", "10.20.0.0/16", "192.168.0.0/16", "10.99.0.0/16"),
                 connection("192.168.5.0/24", "10.5.0.0/24")});
  uint32_t src = ip("192.168.3.4"), dst = ip("10.99.7.8");
  REQUIRE(n.outbound(src, dst) == nat::VpnNat::Outbound::kOneToOne);
  CHECK(src == ip("172.16.3.4"));
  CHECK(dst == ip("10.20.7.8"));
  uint32_t s = ip("10.20.7.8"), d = ip("172.16.3.4");
  REQUIRE(n.inbound(s, d));
  CHECK(s == ip("10.99.7.8"));
  CHECK(d == ip("192.168.3.4"));
  src = ip("192.168.5.1");
  dst = ip("10.5.0.1");
  CHECK(n.outbound(src, dst) == nat::VpnNat::Outbound::kNone);
  CHECK(nat::VpnNat({connection("192.168.5.0/24", "10.5.0.0/24")}).empty());
}

TEST_CASE("Local masquerading names the tunnel's address; the rest is the connection table's") {
  config::VpnConnectionEntry c = connection("172.16.0.5/32", "10.1.0.0/16");
  c.tunnels[0].local_nat = config::LocalNat::Mode::kMasquerade;
  c.tunnels[0].masquerade_internal = net("10.2.0.0/16");
  nat::VpnNat n({c});
  uint32_t src = ip("10.2.3.4"), dst = ip("10.1.9.9");
  CHECK(n.outbound(src, dst) == nat::VpnNat::Outbound::kMasquerade);
  CHECK(src == ip("172.16.0.5"));
  CHECK(dst == ip("10.1.9.9"));
  CHECK(n.masquerades(ip("172.16.0.5")));
  CHECK_FALSE(n.masquerades(ip("10.2.3.4")));
  src = ip("10.3.0.1");
  CHECK(n.outbound(src, dst) == nat::VpnNat::Outbound::kNone);
}
