// What the NAT rules tell the dataplane beyond the translations themselves.
// * may_translate decides which connections worker 0 owns when there are several workers
//   (dataplane/owner_handover.cc). It must give the same answer for a packet and for the answers
//   of its connection as they arrive — translated or not — or the two directions land on
//   different workers. Checked over every pair of a small network's hosts, with the answers
//   derived from the rules' own translations, the way the dataplane derives them.
// * needs_whole_packets decides which fragments are reassembled before translation.
#include <catch2/catch.hpp>

#include <vector>

#include "nat/rules.h"

using namespace bulwark;

namespace {

uint32_t ip(const char* text) { return config::Ipv4Address::parse(text)->value; }
config::Ipv4Prefix net(const char* text) { return *config::Ipv4Prefix::parse(text); }

constexpr uint16_t kInternal = 0, kExternal = 1, kDmz = 2;
const uint32_t kBoxExternal = ip("10.1.0.1");

// A box like nat.sh's, with a DMZ: internal 192.168.1.0/24 (1:1 host .10 as 10.1.1.10, forwarded
// service 192.168.1.20:8000, masquerading of 192.168.1.0/24 out of external), DMZ 172.16.0.0/24.
config::NatTables tables() {
  config::NatTables t;
  t.one_to_one.push_back({net("192.168.1.10/32"), net("10.1.1.10/32"), kExternal, {}});
  config::MasqueradeEntry m;
  m.interface = kExternal;
  m.address = config::Ipv4Address{kBoxExternal};
  m.from = {net("192.168.1.0/24")};
  t.masquerade.push_back(m);
  config::PortForwardEntry f;
  f.protocol = config::kProtoTcp;
  f.from = net("0.0.0.0/0");
  f.from_port = {0, 65535};
  f.incoming_ip = config::Ipv4Address{kBoxExternal};
  f.interface = kExternal;
  f.incoming_port = {8081, 8081};
  f.redirect_ip = config::Ipv4Address{ip("192.168.1.20")};
  f.redirect_port = {8000, 8000};
  t.port_forwarding.push_back(f);
  return t;
}

bool is_box(uint32_t a) { return a == kBoxExternal || a == ip("192.168.1.1") || a == ip("172.16.0.1"); }

int route(uint32_t a) {
  if ((a & 0xffffff00) == ip("192.168.1.0")) return kInternal;
  if ((a & 0xffffff00) == ip("172.16.0.0")) return kDmz;
  return kExternal;
}

// What worker 0 owns, as owner_handover.cc asks (without tunnels).
bool owned(const nat::Rules& rules, const conntrack::FlowKey& k) {
  return is_box(k.src) || is_box(k.dst) || rules.may_translate(k, true, route(k.dst), route(k.src));
}

// The answer of the connection that `k` opens, as it arrives at the box: destination NAT before
// routing, source NAT (1:1, or masquerading with some port) on the way out.
conntrack::FlowKey answer(const nat::Rules& rules, conntrack::FlowKey k) {
  if (auto d = rules.destination(k)) {
    k.dst = d->dst;
    k.dst_port = d->dst_port;
  }
  if (auto s = rules.source(k, static_cast<uint16_t>(route(k.dst)))) {
    k.src = s->src;
    if (s->allocate_port) k.src_port = 40000;
  }
  return k.reversed();
}

}  // namespace

TEST_CASE("A connection and its answers are owned alike, translated or not") {
  const nat::Rules rules(tables());
  const std::vector<uint32_t> hosts = {ip("192.168.1.10"), ip("192.168.1.11"), ip("192.168.1.20"),
                                       ip("172.16.0.5"),   ip("10.1.0.100"),   ip("8.8.8.8"),
                                       kBoxExternal,       ip("10.1.1.10")};
  const std::vector<uint16_t> ports = {8000, 8081, 5555};
  int translated = 0;
  for (uint32_t src : hosts) {
    for (uint32_t dst : hosts) {
      if (src == dst) continue;
      for (uint16_t port : ports) {
        const conntrack::FlowKey k{src, dst, 33000, port, config::kProtoTcp};
        const conntrack::FlowKey reply = answer(rules, k);
        INFO(config::Ipv4Address{src}.str() << " -> " << config::Ipv4Address{dst}.str() << ":" << port);
        CHECK(owned(rules, k) == owned(rules, reply));
        if (!(reply == k.reversed())) {
          ++translated;
          CHECK(owned(rules, k));  // every translated connection is worker 0's
        }
      }
    }
  }
  CHECK(translated > 10);  // all three kinds of translation took part
}

TEST_CASE("Traffic that no rule could translate stays where receive-side scaling put it") {
  const nat::Rules rules(tables());
  // Internal host to the DMZ: not masqueraded (another interface), not mapped, not forwarded.
  const conntrack::FlowKey to_dmz{ip("192.168.1.11"), ip("172.16.0.5"), 33000, 443, config::kProtoTcp};
  CHECK_FALSE(rules.may_translate(to_dmz, true, kDmz, kInternal));
  CHECK_FALSE(rules.may_translate(to_dmz.reversed(), true, kInternal, kDmz));
  // The forwarded host's other services, with the DMZ.
  const conntrack::FlowKey other{ip("192.168.1.20"), ip("172.16.0.5"), 22, 33000, config::kProtoTcp};
  CHECK_FALSE(rules.may_translate(other, true, kDmz, kInternal));
  CHECK_FALSE(rules.may_translate(other.reversed(), true, kInternal, kDmz));
  // ... but its fragments after the first carry no ports: they are taken whatever the port.
  const conntrack::FlowKey fragment{ip("192.168.1.20"), ip("172.16.0.5"), 0, 0, config::kProtoTcp};
  CHECK(rules.may_translate(fragment, false, kDmz, kInternal));
}

TEST_CASE("Fragments are reassembled where masquerading or port forwarding translate them") {
  const nat::Rules rules(tables());
  // Masquerading: out of the masquerading interface from the masqueraded network, and answers.
  CHECK(rules.needs_whole_packets(ip("192.168.1.11"), ip("10.1.0.100"), kExternal));
  CHECK(rules.needs_whole_packets(ip("10.1.0.100"), kBoxExternal, kExternal));
  // Port forwarding: the forwarded request, and the forwarded service's answers.
  CHECK(rules.needs_whole_packets(ip("10.1.0.100"), kBoxExternal, -1));
  CHECK(rules.needs_whole_packets(ip("192.168.1.20"), ip("10.1.0.100"), kExternal));
  // Not: to the DMZ (no masquerading there), from outside to an internal host, and 1:1 NAT,
  // which translates fragments one by one.
  CHECK_FALSE(rules.needs_whole_packets(ip("192.168.1.11"), ip("172.16.0.5"), kDmz));
  CHECK_FALSE(rules.needs_whole_packets(ip("172.16.0.5"), ip("192.168.1.11"), kInternal));
  CHECK_FALSE(rules.needs_whole_packets(ip("10.1.0.100"), ip("10.1.1.10"), kExternal));
}
