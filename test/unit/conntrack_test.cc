// The connection table: lookup in both directions, UDP/ICMP/generic tracking, timeouts, the
// bounded sweep, the table-full policy and the counters. TCP has its own file.
#include "conntrack/conntrack.h"
#include "conntrack_test_util.h"

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

using namespace bulwark::conntrack;
using namespace bulwark::conntrack::test;
using bulwark::config::kProtoGre;
using bulwark::config::kProtoIcmp;
using bulwark::config::kProtoTcp;
using bulwark::config::kProtoUdp;

namespace {

Timeouts test_timeouts() {
  Timeouts t{};
  t.tcp_syn_sent = 120;
  t.tcp_syn_recv = 60;
  t.tcp_established = 5000;
  t.tcp_fin_wait = 121;
  t.tcp_close_wait = 61;
  t.tcp_last_ack = 31;
  t.tcp_time_wait = 122;
  t.tcp_close = 10;
  t.udp_unreplied = 30;
  t.udp_assured = 180;
  t.icmp = 35;
  t.generic = 600;
  return t;
}

FlowKey udp(uint32_t src, uint16_t sport, uint32_t dst = 0x08080808, uint16_t dport = 53,
            uint8_t zone = 0) {
  return {src, dst, sport, dport, kProtoUdp, zone, 0};
}

PacketInfo bytes(uint16_t length) {
  PacketInfo p;
  p.length = length;
  return p;
}

PacketInfo syn(uint32_t seq = 1000) {
  PacketInfo p;
  p.tcp_flags = kTcpSyn;
  p.seq = seq;
  p.window = 1000;
  p.length = 60;
  return p;
}

// Drives a TCP connection through the handshake.
void establish(Table& t, Entry& e, uint64_t now) {
  PacketInfo synack;
  synack.tcp_flags = kTcpSyn | kTcpAck;
  synack.seq = 7000;
  synack.ack = 1001;
  synack.window = 1000;
  REQUIRE(t.update(e, kReply, synack, now) == Verdict::kAccept);
  PacketInfo ack;
  ack.tcp_flags = kTcpAck;
  ack.seq = 1001;
  ack.ack = 7001;
  ack.window = 1000;
  REQUIRE(t.update(e, kOrig, ack, now) == Verdict::kAccept);
  REQUIRE(e.state == State::kEstablished);
}

bool contains(Table& t, const FlowKey& key, uint64_t now) {
  Direction d;
  return t.lookup(key, now, d) != nullptr;
}

// A table whose every slot every key can reach (16 slots = 2 buckets, both probed), filled with
// `n` UDP flows inserted one tick apart from `start`.
std::vector<FlowKey> fill(Table& t, int n, uint64_t start, uint32_t first_source = 0x0a000000) {
  std::vector<FlowKey> keys;
  for (int i = 0; i < n; ++i) {
    keys.push_back(udp(first_source + static_cast<uint32_t>(i), 1000));
    REQUIRE(t.insert(keys.back(), bytes(100), start + static_cast<uint64_t>(i)) != nullptr);
  }
  return keys;
}

}  // namespace

TEST_CASE("entries are one cache line", "[conntrack]") {
  CHECK(sizeof(Entry) == 64);
  CHECK(alignof(Entry) == 64);
  Table t(100, test_timeouts());
  Entry* a = t.insert(udp(1, 1), bytes(10), 0);
  REQUIRE(a != nullptr);
  CHECK(reinterpret_cast<uintptr_t>(a) % 64 == 0);
}

TEST_CASE("state names", "[conntrack]") {
  const std::map<State, std::string> names = {
      {State::kSynSent, "SYN_SENT"},         {State::kSynRecv, "SYN_RECV"},
      {State::kEstablished, "ESTABLISHED"},  {State::kFinWait, "FIN_WAIT"},
      {State::kCloseWait, "CLOSE_WAIT"},     {State::kLastAck, "LAST_ACK"},
      {State::kTimeWait, "TIME_WAIT"},       {State::kClose, "CLOSE"},
      {State::kUnreplied, "UNREPLIED"},      {State::kAssured, "ASSURED"},
      {State::kIcmpRequest, "ICMP_REQUEST"}, {State::kIcmpReplied, "ICMP_REPLIED"},
  };
  for (const auto& [state, name] : names) CHECK(state_name(state) == name);
}

TEST_CASE("timeouts come from the configuration in clock ticks", "[conntrack]") {
  bulwark::config::ConntrackTimeouts c;  // the defaults of docs/config.md
  const Timeouts t = Timeouts::from_config(c, 1000);
  CHECK(t.tcp_syn_sent == 120000);
  CHECK(t.tcp_syn_recv == 60000);
  CHECK(t.tcp_established == 432000000);
  CHECK(t.tcp_fin_wait == 120000);
  CHECK(t.tcp_close_wait == 60000);
  CHECK(t.tcp_last_ack == 30000);
  CHECK(t.tcp_time_wait == 120000);
  CHECK(t.tcp_close == 10000);
  CHECK(t.udp_unreplied == 30000);
  CHECK(t.udp_assured == 180000);
  CHECK(t.icmp == 30000);
  CHECK(t.generic == 600000);
  CHECK(Timeouts::from_config(c, 2'400'000'000ULL).tcp_established == 432000ULL * 2'400'000'000ULL);

  CHECK(t.of(State::kSynSent, kProtoTcp) == t.tcp_syn_sent);
  CHECK(t.of(State::kSynRecv, kProtoTcp) == t.tcp_syn_recv);
  CHECK(t.of(State::kEstablished, kProtoTcp) == t.tcp_established);
  CHECK(t.of(State::kFinWait, kProtoTcp) == t.tcp_fin_wait);
  CHECK(t.of(State::kCloseWait, kProtoTcp) == t.tcp_close_wait);
  CHECK(t.of(State::kLastAck, kProtoTcp) == t.tcp_last_ack);
  CHECK(t.of(State::kTimeWait, kProtoTcp) == t.tcp_time_wait);
  CHECK(t.of(State::kClose, kProtoTcp) == t.tcp_close);
  CHECK(t.of(State::kUnreplied, kProtoUdp) == t.udp_unreplied);
  CHECK(t.of(State::kAssured, kProtoUdp) == t.udp_assured);
  CHECK(t.of(State::kUnreplied, kProtoGre) == t.generic);
  CHECK(t.of(State::kAssured, kProtoGre) == t.generic);
  CHECK(t.of(State::kIcmpRequest, kProtoIcmp) == t.icmp);
  CHECK(t.of(State::kIcmpReplied, kProtoIcmp) == t.icmp);
}

TEST_CASE("lookup finds a connection in both directions", "[conntrack]") {
  Table t(1024, test_timeouts());
  const FlowKey key = udp(0xc0a80102, 5353, 0x08080808, 53);
  Entry* e = t.insert(key, bytes(80), 10);
  REQUIRE(e != nullptr);
  CHECK(e->key == key);
  CHECK(e->in_use);
  CHECK(t.size() == 1);

  Direction d = Direction::kReply;
  CHECK(t.lookup(key, 10, d) == e);
  CHECK(d == kOrig);
  CHECK(t.lookup(key.reversed(), 10, d) == e);
  CHECK(d == kReply);

  FlowKey padded = key;
  padded.pad = 0xbeef;
  CHECK(t.lookup(padded, 10, d) == e);

  // Anything that differs is another connection.
  FlowKey other = key;
  other.src_port = 5354;
  CHECK_FALSE(contains(t, other, 10));
  other = key;
  other.dst = 0x08080404;
  CHECK_FALSE(contains(t, other, 10));
  other = key;
  other.protocol = kProtoTcp;
  CHECK_FALSE(contains(t, other, 10));
  other = key;  // the ports of one direction with the addresses of the other
  std::swap(other.src_port, other.dst_port);
  CHECK_FALSE(contains(t, other, 10));
}

TEST_CASE("the zone is part of the key", "[conntrack]") {
  Table t(1024, test_timeouts());
  const FlowKey inside = udp(0xc0a80102, 5353, 0x08080808, 53, 0);
  const FlowKey vpn = udp(0xc0a80102, 5353, 0x08080808, 53, 3);
  Entry* a = t.insert(inside, bytes(80), 10);
  REQUIRE(a != nullptr);
  CHECK_FALSE(contains(t, vpn, 10));
  CHECK_FALSE(contains(t, vpn.reversed(), 10));
  Entry* b = t.insert(vpn, bytes(80), 10);
  REQUIRE(b != nullptr);
  CHECK(a != b);
  Direction d;
  CHECK(t.lookup(vpn.reversed(), 10, d) == b);
  CHECK(t.lookup(inside.reversed(), 10, d) == a);
  t.erase(a);
  CHECK_FALSE(contains(t, inside, 10));
  CHECK(t.lookup(vpn, 10, d) == b);
}

TEST_CASE("UDP: unreplied until the first reply, then assured", "[conntrack]") {
  Table t(64, test_timeouts());
  const FlowKey key = udp(0xc0a80102, 5353);
  Entry* e = t.insert(key, bytes(80), 100);
  REQUIRE(e != nullptr);
  CHECK(e->state == State::kUnreplied);
  CHECK(e->expires == 130);
  CHECK_FALSE(is_protected(*e));

  CHECK(t.update(*e, kOrig, bytes(80), 110) == Verdict::kAccept);  // more queries
  CHECK(e->state == State::kUnreplied);
  CHECK(e->expires == 140);

  CHECK(t.update(*e, kReply, bytes(120), 120) == Verdict::kAccept);
  CHECK(e->state == State::kAssured);
  CHECK(e->expires == 300);
  CHECK(is_protected(*e));
  CHECK(t.update(*e, kOrig, bytes(80), 130) == Verdict::kAccept);
  CHECK(e->state == State::kAssured);
  CHECK(e->expires == 310);
}

TEST_CASE("ICMP: an echo request and its reply", "[conntrack]") {
  Table t(64, test_timeouts());
  const uint16_t id = 0x1234;
  const FlowKey request{0xc0a80102, 0x08080808, id, id, kProtoIcmp, 0, 0};
  Entry* e = t.insert(request, bytes(84), 100);
  REQUIRE(e != nullptr);
  CHECK(e->state == State::kIcmpRequest);
  CHECK(e->expires == 135);
  CHECK_FALSE(is_protected(*e));

  // The reply carries the same identifier with the addresses swapped.
  const FlowKey reply{0x08080808, 0xc0a80102, id, id, kProtoIcmp, 0, 0};
  Direction d;
  REQUIRE(t.lookup(reply, 101, d) == e);
  CHECK(d == kReply);
  CHECK(t.update(*e, d, bytes(84), 101) == Verdict::kAccept);
  CHECK(e->state == State::kIcmpReplied);
  CHECK(e->expires == 136);
  CHECK_FALSE(is_protected(*e));

  // The next pings of the same session (same identifier) use the same entry.
  REQUIRE(t.lookup(request, 110, d) == e);
  CHECK(t.update(*e, d, bytes(84), 110) == Verdict::kAccept);
  CHECK(e->state == State::kIcmpReplied);
  CHECK(e->expires == 145);
  REQUIRE(t.lookup(reply, 111, d) == e);
  CHECK(t.update(*e, d, bytes(84), 111) == Verdict::kAccept);
  CHECK(t.stats(*e).packets[0] == 2);
  CHECK(t.stats(*e).packets[1] == 2);

  // Another identifier is another query: a reply to nobody's request finds nothing.
  const FlowKey other{0x08080808, 0xc0a80102, id + 1, id + 1, kProtoIcmp, 0, 0};
  CHECK_FALSE(contains(t, other, 111));
  CHECK(contains(t, reply, 145));
  CHECK_FALSE(contains(t, reply, 146));
}

TEST_CASE("generic protocols: ports 0, unreplied then assured", "[conntrack]") {
  Table t(64, test_timeouts());
  const FlowKey gre{0xc0a80102, 0x05060708, 0, 0, kProtoGre, 0, 0};
  Entry* e = t.insert(gre, bytes(500), 100);
  REQUIRE(e != nullptr);
  CHECK(e->state == State::kUnreplied);
  CHECK(e->expires == 700);
  Direction d;
  REQUIRE(t.lookup(gre.reversed(), 200, d) == e);
  CHECK(d == kReply);
  CHECK(t.update(*e, d, bytes(500), 200) == Verdict::kAccept);
  CHECK(e->state == State::kAssured);
  CHECK(e->expires == 800);
  CHECK(is_protected(*e));
}

TEST_CASE("timeouts are driven by `now` alone", "[conntrack]") {
  Table t(64, test_timeouts());
  const FlowKey key = udp(0xc0a80102, 5353);
  Entry* e = t.insert(key, bytes(80), 1000);
  REQUIRE(e != nullptr);
  REQUIRE(e->expires == 1030);

  SECTION("live until the deadline, gone at it") {
    CHECK(contains(t, key, 1029));
    CHECK(contains(t, key.reversed(), 1029));
    int listed = 0;
    t.for_each(1029, [&](const Entry&) { ++listed; });
    CHECK(listed == 1);
    t.for_each(1030, [&](const Entry&) { ++listed; });
    CHECK(listed == 1);
    CHECK_FALSE(contains(t, key.reversed(), 1030));
    CHECK(t.size() == 0);  // the lookup freed it
    CHECK_FALSE(contains(t, key, 1029));
  }
  SECTION("each accepted packet refreshes the deadline") {
    for (uint64_t now = 1020; now < 1200; now += 20) {
      REQUIRE(contains(t, key, now));
      CHECK(t.update(*e, kOrig, bytes(80), now) == Verdict::kAccept);
      CHECK(e->expires == now + 30);
    }
    CHECK(contains(t, key, 1209));
    CHECK_FALSE(contains(t, key, 1210));
  }
  SECTION("a reply switches to the assured timeout") {
    CHECK(t.update(*e, kReply, bytes(80), 1029) == Verdict::kAccept);
    CHECK(contains(t, key, 1208));
    CHECK_FALSE(contains(t, key, 1209));
  }
  SECTION("new timeouts apply from the next packet") {
    Timeouts longer = test_timeouts();
    longer.udp_unreplied = 500;
    t.set_timeouts(longer);
    CHECK(e->expires == 1030);
    CHECK(t.update(*e, kOrig, bytes(80), 1010) == Verdict::kAccept);
    CHECK(e->expires == 1510);
  }
  SECTION("rejected packets do not refresh") {
    Entry* tcp = t.insert({1, 2, 3, 4, kProtoTcp, 0, 0}, syn(), 1000);
    REQUIRE(tcp != nullptr);
    CHECK(tcp->expires == 1120);
    PacketInfo ack;
    ack.tcp_flags = kTcpAck;
    CHECK(t.update(*tcp, kOrig, ack, 1100) == Verdict::kInvalid);
    CHECK(tcp->expires == 1120);
  }
}

TEST_CASE("the sweep is bounded and resumes where it stopped", "[conntrack]") {
  Table t(16, test_timeouts());
  // Even sources are UDP (deadline 30 after insertion), odd ones ICMP (35).
  std::vector<Entry*> entries;
  for (uint32_t i = 0; i < 16; ++i) {
    const FlowKey key = i % 2 == 0 ? udp(100 + i, 1) : FlowKey{100 + i, 1, 7, 7, kProtoIcmp, 0, 0};
    entries.push_back(t.insert(key, bytes(80), 0));
    REQUIRE(entries.back() != nullptr);
  }
  REQUIRE(t.size() == 16);
  // Where each entry sits: the table is full, so the lowest address is slot 0.
  const Entry* base = *std::min_element(entries.begin(), entries.end());
  auto slot_of = [&](const Entry* e) { return static_cast<size_t>(e - base); };
  // Exactly the entries in slots [from, to) of `protocol` have been freed since the last check.
  std::set<const Entry*> freed;
  auto freed_exactly = [&](size_t from, size_t to, uint8_t protocol) {
    for (const Entry* e : entries) {
      const size_t slot = slot_of(e);
      if (slot >= from && slot < to && e->key.protocol == protocol) freed.insert(e);
    }
    for (const Entry* e : entries) {
      if (e->in_use == (freed.count(e) > 0)) return false;
    }
    return true;
  };
  auto count = [&](size_t from, size_t to, uint8_t protocol) {
    return static_cast<size_t>(std::count_if(entries.begin(), entries.end(), [&](const Entry* e) {
      return slot_of(e) >= from && slot_of(e) < to && e->key.protocol == protocol;
    }));
  };

  const uint64_t now = 32;  // UDP expired, ICMP alive
  CHECK(t.sweep(now, 0) == 0);
  CHECK(t.sweep(now, 5) == count(0, 5, kProtoUdp));
  CHECK(freed_exactly(0, 5, kProtoUdp));
  CHECK(t.sweep(now, 5) == count(5, 10, kProtoUdp));
  CHECK(freed_exactly(5, 10, kProtoUdp));
  CHECK(t.size() == 16 - count(0, 10, kProtoUdp));
  CHECK(t.sweep(now, 10) == count(10, 16, kProtoUdp));  // wraps around to slot 4
  CHECK(freed_exactly(10, 16, kProtoUdp));
  CHECK(t.size() == 8);
  CHECK(t.sweep(now, 100) == 0);  // each slot once at most: the cursor stays at slot 4
  for (uint32_t i = 1; i < 16; i += 2) {
    CHECK(contains(t, FlowKey{100 + i, 1, 7, 7, kProtoIcmp, 0, 0}, now));
  }
  CHECK(t.sweep(35, 4) == count(4, 8, kProtoIcmp));
  CHECK(freed_exactly(4, 8, kProtoIcmp));
  CHECK(t.sweep(35, 16) == 8 - count(4, 8, kProtoIcmp));
  CHECK(t.size() == 0);
}

TEST_CASE("a sweep over a large table frees everything in capacity/budget calls", "[conntrack]") {
  Table t(10000, test_timeouts());
  for (uint32_t i = 0; i < 5000; ++i) REQUIRE(t.insert(udp(i, 9), bytes(80), 0) != nullptr);
  REQUIRE(t.size() == 5000);
  size_t freed = 0;
  for (int call = 0; call < 9; ++call) {
    const size_t n = t.sweep(1000, 1000);
    CHECK(n <= 1000);
    freed += n;
  }
  CHECK(freed < 5000);
  freed += t.sweep(1000, 1000);
  CHECK(freed == 5000);
  CHECK(t.size() == 0);
}

TEST_CASE("table full: expired entries are reclaimed first", "[conntrack]") {
  Table t(16, test_timeouts());
  const std::vector<FlowKey> keys = fill(t, 16, 0);  // deadlines 30..45
  // All assured: protected, but those that expired may be reused.
  Direction d;
  for (const FlowKey& k : keys) {
    Entry* e = t.lookup(k, 20, d);
    REQUIRE(e != nullptr);
    REQUIRE(t.update(*e, kReply, bytes(60), 20 + (k.src & 0xf)) == Verdict::kAccept);
  }
  // Deadlines are now 200 + i. At 201 the first two have expired.
  Entry* n1 = t.insert(udp(0x0b000001, 1), bytes(80), 201);
  Entry* n2 = t.insert(udp(0x0b000002, 1), bytes(80), 201);
  REQUIRE(n1 != nullptr);
  REQUIRE(n2 != nullptr);
  CHECK(t.evictions() == 0);
  CHECK(t.size() == 16);
  REQUIRE(t.update(*n1, kReply, bytes(60), 201) == Verdict::kAccept);
  REQUIRE(t.update(*n2, kReply, bytes(60), 201) == Verdict::kAccept);
  CHECK(t.insert(udp(0x0b000003, 1), bytes(80), 201) == nullptr);
  CHECK(t.evictions() == 0);
  CHECK_FALSE(contains(t, keys[0], 201));
  CHECK_FALSE(contains(t, keys[1], 201));
  for (size_t i = 2; i < keys.size(); ++i) CHECK(contains(t, keys[i], 201));
}

TEST_CASE("table full: the non-protected entry nearest its deadline is evicted", "[conntrack]") {
  Table t(16, test_timeouts());
  const std::vector<FlowKey> keys = fill(t, 16, 100);  // unreplied, deadlines 130..145
  Direction d;
  // Half of them assured at 100: deadlines 280..287, later than the unreplied ones.
  for (size_t i = 0; i < 8; ++i) {
    Entry* e = t.lookup(keys[i], 100, d);
    REQUIRE(t.update(*e, kReply, bytes(60), 100 + i) == Verdict::kAccept);
  }
  // The others refreshed so that keys[12] is nearest its deadline.
  for (size_t i = 8; i < 16; ++i) {
    Entry* e = t.lookup(keys[i], 110, d);
    REQUIRE(t.update(*e, kOrig, bytes(60), i == 12 ? 110 : 120) == Verdict::kAccept);
  }
  Entry* fresh = t.insert(udp(0x0b000001, 1), bytes(80), 125);
  REQUIRE(fresh != nullptr);
  CHECK(t.evictions() == 1);
  CHECK(t.size() == 16);
  CHECK_FALSE(contains(t, keys[12], 125));
  for (size_t i = 0; i < 16; ++i) {
    if (i != 12) CHECK(contains(t, keys[i], 125));
  }

  SECTION("protected entries go last even when nearer their deadline") {
    // Now the assured flows are the nearest their deadlines (130); unreplied ones are at 150+.
    Timeouts short_assured = test_timeouts();
    short_assured.udp_assured = 5;
    t.set_timeouts(short_assured);
    for (size_t i = 0; i < 8; ++i) {
      Entry* e = t.lookup(keys[i], 125, d);
      REQUIRE(t.update(*e, kReply, bytes(60), 125) == Verdict::kAccept);  // deadline 130
    }
    REQUIRE(t.insert(udp(0x0b000002, 1), bytes(80), 126) != nullptr);
    CHECK(t.evictions() == 2);
    for (size_t i = 0; i < 8; ++i) CHECK(contains(t, keys[i], 126));
  }
}

TEST_CASE("table full: protected connections are never evicted", "[conntrack]") {
  Table t(16, test_timeouts());
  std::vector<FlowKey> keys;
  // 8 established TCP connections and 8 assured UDP flows.
  for (uint32_t i = 0; i < 16; ++i) {
    Entry* e;
    if (i < 8) {
      keys.push_back({0x0a000000 + i, 0x0a0000ff, 40000, 80, kProtoTcp, 0, 0});
      e = t.insert(keys.back(), syn(), 0);
      REQUIRE(e != nullptr);
      establish(t, *e, 0);
    } else {
      keys.push_back(udp(0x0a000000 + i, 1));
      e = t.insert(keys.back(), bytes(80), 0);
      REQUIRE(e != nullptr);
      REQUIRE(t.update(*e, kReply, bytes(80), 0) == Verdict::kAccept);
    }
    REQUIRE(is_protected(*e));
  }
  CHECK(t.insert(udp(0x0b000001, 1), bytes(80), 10) == nullptr);
  CHECK(t.insert({0x0b000001, 2, 3, 4, kProtoTcp, 0, 0}, syn(), 10) == nullptr);
  CHECK(t.insert({0x0b000001, 2, 9, 9, kProtoIcmp, 0, 0}, bytes(84), 10) == nullptr);
  CHECK(t.evictions() == 0);
  CHECK(t.size() == 16);
  for (const FlowKey& k : keys) CHECK(contains(t, k, 10));

  // Once a connection closes it stops being protected.
  Direction d;
  Entry* e = t.lookup(keys[3], 10, d);
  PacketInfo rst;
  rst.tcp_flags = kTcpRst;
  rst.seq = 1001;
  REQUIRE(t.update(*e, kOrig, rst, 10) == Verdict::kAccept);
  CHECK(t.insert(udp(0x0b000001, 1), bytes(80), 11) != nullptr);
  CHECK_FALSE(contains(t, keys[3], 11));
  CHECK(t.evictions() == 1);
}

TEST_CASE("TCP handshakes in progress and finished connections may be evicted", "[conntrack]") {
  const State victim_state =
      GENERATE(State::kSynSent, State::kSynRecv, State::kTimeWait, State::kClose);
  Table t(1, test_timeouts());
  const FlowKey key{1, 2, 3, 4, kProtoTcp, 0, 0};
  Entry* e = t.insert(key, syn(), 0);
  REQUIRE(e != nullptr);
  PacketInfo p;
  if (victim_state != State::kSynSent) {
    p.tcp_flags = kTcpSyn | kTcpAck;
    p.seq = 7000;
    p.ack = 1001;
    p.window = 1000;
    REQUIRE(t.update(*e, kReply, p, 0) == Verdict::kAccept);
  }
  if (victim_state == State::kTimeWait) {
    struct Segment {
      Direction d;
      uint8_t flags;
      uint32_t seq, ack;
    };
    const uint8_t fin = kTcpFin | kTcpAck;
    for (const Segment& s :
         {Segment{kOrig, kTcpAck, 1001, 7001}, Segment{kOrig, fin, 1001, 7001},
          Segment{kReply, fin, 7001, 1002}, Segment{kOrig, kTcpAck, 1002, 7002}}) {
      p.tcp_flags = s.flags;
      p.seq = s.seq;
      p.ack = s.ack;
      REQUIRE(t.update(*e, s.d, p, 0) == Verdict::kAccept);
    }
  }
  if (victim_state == State::kClose) {
    p = {};
    p.tcp_flags = kTcpRst;
    p.seq = 7001;
    REQUIRE(t.update(*e, kReply, p, 0) == Verdict::kAccept);
  }
  REQUIRE(e->state == victim_state);
  CHECK_FALSE(is_protected(*e));
  CHECK(t.insert(udp(9, 9), bytes(80), 1) != nullptr);
  CHECK_FALSE(contains(t, key, 1));
}

TEST_CASE("a table of one entry", "[conntrack]") {
  Table t(1, test_timeouts());
  CHECK(t.capacity() == 1);
  CHECK(Table(0, test_timeouts()).capacity() == 1);
  const FlowKey a = udp(1, 1), b = udp(2, 2), c = udp(3, 3);
  Entry* ea = t.insert(a, bytes(80), 0);
  REQUIRE(ea != nullptr);
  Entry* eb = t.insert(b, bytes(80), 1);  // a is unreplied: evicted
  REQUIRE(eb == ea);                      // the same slot
  CHECK(t.size() == 1);
  CHECK(t.evictions() == 1);
  CHECK_FALSE(contains(t, a, 1));
  REQUIRE(t.update(*eb, kReply, bytes(80), 1) == Verdict::kAccept);  // assured until 181
  CHECK(t.insert(c, bytes(80), 2) == nullptr);
  CHECK(t.insert(c, bytes(80), 180) == nullptr);
  CHECK(t.insert(c, bytes(80), 181) != nullptr);  // b expired: reclaimed, not evicted
  CHECK(t.evictions() == 1);
  CHECK(t.size() == 1);
  CHECK(t.sweep(300, 5) == 1);
  CHECK(t.size() == 0);
  CHECK(t.sweep(300, 5) == 0);
}

TEST_CASE("a table whose last bucket is partial", "[conntrack]") {
  Table t(13, test_timeouts());  // buckets of 8 and 5
  CHECK(t.capacity() == 13);
  std::vector<FlowKey> keys;
  for (uint32_t i = 0; i < 13; ++i) {
    keys.push_back(udp(i, 7));
    REQUIRE(t.insert(keys.back(), bytes(80), 0) != nullptr);
    Direction d;
    Entry* e = t.lookup(keys.back(), 0, d);
    REQUIRE(e != nullptr);
    REQUIRE(t.update(*e, kReply, bytes(1), 0) == Verdict::kAccept);
  }
  CHECK(t.size() == 13);
  CHECK(t.insert(udp(99, 7), bytes(80), 0) == nullptr);
  for (const FlowKey& k : keys) CHECK(contains(t, k, 0));
}

TEST_CASE("erase", "[conntrack]") {
  Table t(64, test_timeouts());
  Entry* e = t.insert(udp(1, 1), bytes(80), 0);
  REQUIRE(e != nullptr);
  t.erase(e);
  CHECK(t.size() == 0);
  CHECK_FALSE(e->in_use);
  CHECK_FALSE(contains(t, udp(1, 1), 0));
  t.erase(e);  // twice: nothing happens
  t.erase(nullptr);
  CHECK(t.size() == 0);
  CHECK(t.insert(udp(1, 1), bytes(80), 0) != nullptr);
  CHECK(t.size() == 1);
}

TEST_CASE("a stale duplicate does not hide the live entry", "[conntrack]") {
  Table t(64, test_timeouts());
  const FlowKey key = udp(1, 1);
  Entry* old = t.insert(key, bytes(80), 0);
  REQUIRE(old != nullptr);
  // The caller inserts again after the deadline without looking up first.
  Entry* fresh = t.insert(key, bytes(80), 100);
  REQUIRE(fresh != nullptr);
  REQUIRE(fresh != old);
  Direction d;
  CHECK(t.lookup(key, 100, d) == fresh);
  CHECK(t.lookup(key.reversed(), 100, d) == fresh);
  CHECK(t.size() == 1);  // the lookup freed the stale one
}

TEST_CASE("counters per direction", "[conntrack]") {
  Table t(64, test_timeouts());
  Entry* e = t.insert(udp(1, 1), bytes(100), 7);
  REQUIRE(e != nullptr);
  Stats s = t.stats(*e);
  CHECK(s.created == 7);
  CHECK(s.packets[0] == 1);
  CHECK(s.bytes[0] == 100);
  CHECK(s.packets[1] == 0);
  CHECK(s.rule_id == 0);
  t.set_rule_id(*e, 42);

  for (int i = 0; i < 1000; ++i) {  // beyond the per-entry accumulators
    REQUIRE(t.update(*e, kOrig, bytes(1500), 8) == Verdict::kAccept);
    REQUIRE(e->pending_packets[0] < 255);
  }
  for (int i = 0; i < 300; ++i) REQUIRE(t.update(*e, kReply, bytes(40), 8) == Verdict::kAccept);
  s = t.stats(*e);
  CHECK(s.packets[0] == 1001);
  CHECK(s.bytes[0] == 100 + 1000 * 1500);
  CHECK(s.packets[1] == 300);
  CHECK(s.bytes[1] == 300 * 40);
  CHECK(s.created == 7);
  CHECK(s.rule_id == 42);

  // A new connection in the same slot starts from zero.
  t.erase(e);
  Entry* f = t.insert(udp(1, 1), bytes(60), 9);
  REQUIRE(f != nullptr);
  s = t.stats(*f);
  CHECK(s.packets[0] == 1);
  CHECK(s.bytes[0] == 60);
  CHECK(s.packets[1] == 0);
  CHECK(s.rule_id == 0);
  CHECK(s.created == 9);
}

TEST_CASE("counters reach 64 bits", "[conntrack]") {
  Table t(64, test_timeouts());
  Entry* e = t.insert(udp(1, 1), bytes(65535), 0);
  REQUIRE(e != nullptr);
  const uint64_t n = 100000;  // 6.5 GB in one direction: more than 32 bits of bytes
  for (uint64_t i = 1; i < n; ++i)
    REQUIRE(t.update(*e, kOrig, bytes(65535), 0) == Verdict::kAccept);
  CHECK(t.stats(*e).bytes[0] == n * 65535);
  CHECK(t.stats(*e).packets[0] == n);
}

TEST_CASE("TCP packets are counted only when accepted", "[conntrack]") {
  Table t(64, test_timeouts());
  Entry* e = t.insert({1, 2, 3, 4, kProtoTcp, 0, 0}, syn(), 0);
  REQUIRE(e != nullptr);
  PacketInfo garbage;
  garbage.tcp_flags = kTcpAck;
  garbage.length = 1000;
  CHECK(t.update(*e, kReply, garbage, 1) == Verdict::kInvalid);
  establish(t, *e, 2);
  const Stats s = t.stats(*e);
  CHECK(s.packets[0] == 2);
  CHECK(s.bytes[0] == 60);  // the SYN's 60, the ACK had length 0
  CHECK(s.packets[1] == 1);
}

TEST_CASE("many connections: every one found in both directions", "[conntrack]") {
  const uint64_t seed = GENERATE(Table::kDefaultSeed, 1, 0xdeadbeefcafef00dULL);
  Table t(8192, test_timeouts(), seed);
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::vector<FlowKey> keys;
  std::set<std::tuple<uint64_t, uint64_t, uint8_t, uint8_t>> seen;  // connections, not packets
  while (keys.size() < 7400) {                                      // 90% full
    const uint8_t proto = std::array<uint8_t, 3>{kProtoUdp, kProtoIcmp, kProtoGre}[rng() % 3];
    FlowKey k{static_cast<uint32_t>(rng()),
              static_cast<uint32_t>(rng() % 4),
              0,
              0,
              proto,
              static_cast<uint8_t>(rng() % 2),
              0};
    if (proto == kProtoUdp) {
      k.src_port = static_cast<uint16_t>(rng());
      k.dst_port = 53;
    } else if (proto == kProtoIcmp) {
      k.src_port = k.dst_port = static_cast<uint16_t>(rng());
    }
    const uint64_t a = uint64_t{k.src} << 16 | k.src_port;
    const uint64_t b = uint64_t{k.dst} << 16 | k.dst_port;
    if (!seen.insert({std::min(a, b), std::max(a, b), k.protocol, k.zone}).second) continue;
    REQUIRE(t.insert(k, bytes(80), 0) != nullptr);
    keys.push_back(k);
  }
  CHECK(t.evictions() == 0);
  CHECK(t.size() == keys.size());
  std::set<const Entry*> distinct;
  for (const FlowKey& k : keys) {
    Direction d;
    Entry* e = t.lookup(k, 1, d);
    REQUIRE(e != nullptr);
    CHECK(e->key == k);
    CHECK(d == kOrig);
    CHECK(t.lookup(k.reversed(), 1, d) == e);
    CHECK(d == kReply);
    distinct.insert(e);
  }
  CHECK(distinct.size() == keys.size());
  for (size_t i = 0; i < keys.size(); i += 2) {
    Direction d;
    t.erase(t.lookup(keys[i], 1, d));
  }
  CHECK(t.size() == keys.size() / 2);
  for (size_t i = 0; i < keys.size(); ++i) CHECK(contains(t, keys[i], 1) == (i % 2 == 1));
}

TEST_CASE("a table of a million entries", "[conntrack]") {
  Table t(1 << 20, test_timeouts());
  CHECK(t.capacity() == 1 << 20);
  // Half a million flows: enough that some hash to every 16-bit tag value, including 0.
  std::vector<FlowKey> keys;
  for (uint32_t i = 0; i < 500000; ++i) {
    keys.push_back(udp(0x0a000000 + i / 50000, static_cast<uint16_t>(1024 + i % 50000)));
    REQUIRE(t.insert(keys.back(), bytes(80), 0) != nullptr);
  }
  CHECK(t.size() == keys.size());
  CHECK(t.evictions() == 0);
  size_t found = 0;
  for (const FlowKey& k : keys) {
    Direction d;
    const Entry* e = t.lookup(k.reversed(), 1, d);
    if (e != nullptr && e->key == k && d == kReply) ++found;
  }
  CHECK(found == keys.size());
  size_t freed = 0;
  for (int i = 0; i < 16; ++i) freed += t.sweep(100, 1 << 16);
  CHECK(freed == keys.size());
  CHECK(t.size() == 0);
}

TEST_CASE("a translated connection is found under its original and its reply tuple", "[conntrack][nat]") {
  Table t(1024, test_timeouts());
  // 10.0.0.5:1000 -> 8.8.8.8:53, masqueraded: replies come to 198.51.100.2:40000.
  const FlowKey original = udp(0x0a000005, 1000);
  const FlowKey reply{0x08080808, 0xc6336402, 53, 40000, kProtoUdp, 0, 0};
  Entry* e = t.insert(original, bytes(100), 1, reply);
  REQUIRE(e != nullptr);
  CHECK(t.size() == 2);  // the entry and its alias
  CHECK(t.reply_key(*e) == reply);

  Direction d;
  CHECK(t.lookup(original, 2, d) == e);
  CHECK(d == kOrig);
  CHECK(t.lookup(reply, 2, d) == e);
  CHECK(d == kReply);
  // The untranslated reply is not part of the connection: a masqueraded host is not reachable
  // directly.
  CHECK(t.lookup(original.reversed(), 2, d) == nullptr);
  // Nor is the alias's own reverse.
  CHECK(t.lookup(reply.reversed(), 2, d) == nullptr);

  REQUIRE(t.update(*e, kReply, bytes(80), 3) == Verdict::kAccept);
  CHECK(e->state == State::kAssured);

  int listed = 0;
  t.for_each(4, [&](const Entry& x) {
    ++listed;
    CHECK(x.state != State::kAlias);
  });
  CHECK(listed == 1);
}

TEST_CASE("a translated connection's two slots live and die together", "[conntrack][nat]") {
  Table t(1024, test_timeouts());
  const FlowKey original = udp(0x0a000005, 1000);
  const FlowKey reply{0x08080808, 0xc6336402, 53, 40000, kProtoUdp, 0, 0};
  Entry* e = t.insert(original, bytes(100), 0, reply);
  REQUIRE(e != nullptr);
  SECTION("expiry") {
    CHECK(contains(t, reply, 29));
    CHECK_FALSE(contains(t, reply, 30));  // udp_unreplied = 30: the alias goes with it
    CHECK(t.size() == 0);
  }
  SECTION("sweep") {
    CHECK(t.sweep(31, 1024) == 1);
    CHECK(t.size() == 0);
    CHECK(t.unused(reply, 31));
  }
  SECTION("erase") {
    t.erase(e);
    CHECK(t.size() == 0);
    CHECK(t.unused(reply, 1));
    CHECK(t.unused(original, 1));
  }
}

TEST_CASE("an untranslated insert with the plain reply tuple needs no alias", "[conntrack][nat]") {
  Table t(1024, test_timeouts());
  const FlowKey original = udp(0x0a000005, 1000);
  Entry* e = t.insert(original, bytes(100), 0, original.reversed());
  REQUIRE(e != nullptr);
  CHECK(t.size() == 1);
  CHECK(t.reply_key(*e) == original.reversed());
  CHECK_FALSE(t.unused(original.reversed(), 1));
}
