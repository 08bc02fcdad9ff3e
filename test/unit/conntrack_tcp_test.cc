// The TCP state machine and window check of the connection tracker, driven packet by packet.
#include <catch2/catch.hpp>
#include <cstring>
#include <string>

#include "conntrack/conntrack.h"
#include "conntrack_test_util.h"

using namespace bulwark::conntrack;
using namespace bulwark::conntrack::test;
using bulwark::config::kProtoTcp;

namespace {

constexpr uint8_t kSynAck = kTcpSyn | kTcpAck;
constexpr uint8_t kFinAck = kTcpFin | kTcpAck;
constexpr uint8_t kRstAck = kTcpRst | kTcpAck;
constexpr uint8_t kPsh = 0x08;

// Distinct per state so that every check of a deadline also checks which timeout applied.
Timeouts tcp_timeouts() {
  Timeouts t{};
  t.tcp_syn_sent = 1100;
  t.tcp_syn_recv = 1200;
  t.tcp_established = 1300;
  t.tcp_fin_wait = 1400;
  t.tcp_close_wait = 1500;
  t.tcp_last_ack = 1600;
  t.tcp_time_wait = 1700;
  t.tcp_close = 1800;
  t.udp_unreplied = 30;
  t.udp_assured = 180;
  t.icmp = 35;
  t.generic = 600;
  return t;
}

int side(Direction d) {
  return d == kOrig ? 0 : 1;
}

bool same_bytes(const Entry& a, const Entry& b) {
  return std::memcmp(&a, &b, sizeof(Entry)) == 0;
}

// A client (original direction) talking to a server (reply direction), with each side's next
// sequence number, so that tests only say which flags and how much data a side sends.
struct Conversation {
  Table table{64, tcp_timeouts()};
  FlowKey key{0xc0a80102, 0x0a000005, 40000, 443, kProtoTcp, 0, 0};
  Entry* e = nullptr;
  uint32_t next[2];
  bool syn_sent[2] = {false, false};
  uint16_t window[2] = {29200, 65535};
  uint8_t wscale[2] = {kNoWindowScale, kNoWindowScale};
  uint64_t now = 5000;

  explicit Conversation(uint32_t client_isn = 1000, uint32_t server_isn = 3000000000u)
      : next{client_isn, server_isn} {}

  // The segment side `d` would send next; it acknowledges everything the other side sent.
  PacketInfo make(Direction d, uint8_t flags, uint32_t payload = 0) const {
    const int i = side(d);
    PacketInfo p;
    p.tcp_flags = flags;
    p.seq = (flags & kTcpSyn) && syn_sent[i] ? next[i] - 1 : next[i];
    p.ack = (flags & kTcpAck) ? next[1 - i] : 0;
    p.window = window[i];
    p.window_scale = (flags & kTcpSyn) ? wscale[i] : kNoWindowScale;
    p.payload = payload;
    p.length = static_cast<uint16_t>(40 + payload);
    return p;
  }
  Verdict deliver(Direction d, const PacketInfo& p) {
    ++now;
    const Verdict v = table.update(*e, d, p, now);
    if (v == Verdict::kAccept) {
      const int i = side(d);
      const uint32_t end =
          p.seq + p.payload + ((p.tcp_flags & kTcpSyn) ? 1 : 0) + ((p.tcp_flags & kTcpFin) ? 1 : 0);
      if (static_cast<int32_t>(end - next[i]) > 0) next[i] = end;
      if (p.tcp_flags & kTcpSyn) syn_sent[i] = true;
    }
    return v;
  }
  Verdict send(Direction d, uint8_t flags, uint32_t payload = 0) {
    return deliver(d, make(d, flags, payload));
  }
  Verdict client(uint8_t flags, uint32_t payload = 0) { return send(kOrig, flags, payload); }
  Verdict server(uint8_t flags, uint32_t payload = 0) { return send(kReply, flags, payload); }

  void open() {
    e = table.insert(key, make(kOrig, kTcpSyn), now);
    REQUIRE(e != nullptr);
    next[0] += 1;
    syn_sent[0] = true;
  }
  void establish() {
    open();
    REQUIRE(server(kSynAck) == Verdict::kAccept);
    REQUIRE(client(kTcpAck) == Verdict::kAccept);
    REQUIRE(e->state == State::kEstablished);
  }
  State state() const { return e->state; }
  uint64_t deadline(State s) const { return now + tcp_timeouts().of(s, kProtoTcp); }
};

void drive_to(Conversation& c, State target) {
  switch (target) {
    case State::kSynSent:
      c.open();
      break;
    case State::kSynRecv:
      c.open();
      REQUIRE(c.server(kSynAck) == Verdict::kAccept);
      break;
    case State::kEstablished:
      c.establish();
      break;
    case State::kFinWait:
    case State::kCloseWait:
    case State::kLastAck:
    case State::kTimeWait:
      c.establish();
      REQUIRE(c.client(kFinAck) == Verdict::kAccept);
      if (target == State::kFinWait) break;
      REQUIRE(c.server(kTcpAck) == Verdict::kAccept);
      if (target == State::kCloseWait) break;
      REQUIRE(c.server(kFinAck) == Verdict::kAccept);
      if (target == State::kLastAck) break;
      REQUIRE(c.client(kTcpAck) == Verdict::kAccept);
      break;
    case State::kClose:
      c.establish();
      REQUIRE(c.client(kRstAck) == Verdict::kAccept);
      break;
    default:
      FAIL("not a TCP state");
  }
  REQUIRE(c.state() == target);
}

}  // namespace

TEST_CASE("TCP: the three-way handshake", "[conntrack][tcp]") {
  Conversation c;
  c.open();
  CHECK(c.state() == State::kSynSent);
  CHECK(c.e->expires == c.now + 1100);
  CHECK(c.table.size() == 1);

  Direction d;
  CHECK(c.table.lookup(c.key.reversed(), c.now, d) == c.e);
  CHECK(d == kReply);
  CHECK(c.table.lookup(c.key, c.now, d) == c.e);
  CHECK(d == kOrig);

  CHECK(c.server(kSynAck) == Verdict::kAccept);
  CHECK(c.state() == State::kSynRecv);
  CHECK(c.e->expires == c.deadline(State::kSynRecv));

  CHECK(c.client(kTcpAck) == Verdict::kAccept);
  CHECK(c.state() == State::kEstablished);
  CHECK(c.e->expires == c.deadline(State::kEstablished));

  CHECK(c.client(kTcpAck | kPsh, 500) == Verdict::kAccept);
  CHECK(c.server(kTcpAck | kPsh, 1400) == Verdict::kAccept);
  CHECK(c.client(kTcpAck) == Verdict::kAccept);
  CHECK(c.state() == State::kEstablished);
  CHECK(is_protected(*c.e));
}

TEST_CASE("TCP: only a SYN opens a connection", "[conntrack][tcp]") {
  Conversation c;
  for (uint8_t flags : {kTcpAck, kSynAck, kTcpRst, kRstAck, kFinAck, uint8_t{0},
                        uint8_t{kTcpSyn | kTcpFin}, uint8_t{kTcpSyn | kTcpRst}}) {
    INFO("flags " << int{flags});
    PacketInfo p = c.make(kOrig, flags);
    CHECK_FALSE(opens_connection(kProtoTcp, p));
    CHECK(c.table.insert(c.key, p, c.now) == nullptr);
  }
  CHECK(c.table.size() == 0);
  CHECK(opens_connection(kProtoTcp, c.make(kOrig, kTcpSyn)));
  CHECK(opens_connection(kProtoTcp, c.make(kOrig, kTcpSyn | kPsh)));
  CHECK(opens_connection(bulwark::config::kProtoUdp, c.make(kOrig, kTcpAck)));
}

TEST_CASE("TCP: the SYN+ACK must answer the SYN", "[conntrack][tcp]") {
  Conversation c;
  c.open();
  const Entry before = *c.e;

  PacketInfo p = c.make(kReply, kSynAck);
  SECTION("acknowledging more than the SYN") {
    p.ack += 1;
    CHECK(c.deliver(kReply, p) == Verdict::kInvalid);
  }
  SECTION("acknowledging something long before the SYN") {
    p.ack -= 100000;
    CHECK(c.deliver(kReply, p) == Verdict::kInvalid);
  }
  SECTION("from the originator, which never saw a SYN") {
    CHECK(c.client(kSynAck) == Verdict::kInvalid);
    PacketInfo forged = c.make(kOrig, kSynAck);
    forged.ack = 0;  // nothing is known of the other side: any ack would do
    CHECK(c.deliver(kOrig, forged) == Verdict::kInvalid);
  }
  SECTION("ACK, FIN or data before the SYN+ACK") {
    CHECK(c.client(kTcpAck) == Verdict::kInvalid);
    CHECK(c.server(kTcpAck) == Verdict::kInvalid);
    CHECK(c.client(kFinAck) == Verdict::kInvalid);
    CHECK(c.client(kTcpAck, 100) == Verdict::kInvalid);
  }
  CHECK(same_bytes(*c.e, before));
  CHECK(c.server(kSynAck) == Verdict::kAccept);
  CHECK(c.state() == State::kSynRecv);
}

TEST_CASE("TCP: only the originator's ACK of the SYN+ACK completes the handshake",
          "[conntrack][tcp]") {
  Conversation c;
  drive_to(c, State::kSynRecv);
  CHECK(c.server(kTcpAck) == Verdict::kAccept);  // the responder's own ACK
  CHECK(c.state() == State::kSynRecv);
  PacketInfo stale = c.make(kOrig, kTcpAck);
  stale.ack -= 1;  // does not acknowledge the SYN+ACK
  CHECK(c.deliver(kOrig, stale) == Verdict::kAccept);
  CHECK(c.state() == State::kSynRecv);
  CHECK_FALSE(is_protected(*c.e));
  CHECK(c.client(kTcpAck) == Verdict::kAccept);
  CHECK(c.state() == State::kEstablished);
}

TEST_CASE("TCP: data riding on the handshake ACK establishes too", "[conntrack][tcp]") {
  Conversation c;
  drive_to(c, State::kSynRecv);
  CHECK(c.client(kTcpAck | kPsh, 300) == Verdict::kAccept);
  CHECK(c.state() == State::kEstablished);
}

TEST_CASE("TCP: simultaneous open", "[conntrack][tcp]") {
  Conversation c;
  c.open();
  CHECK(c.server(kTcpSyn) == Verdict::kAccept);  // the responder opens too
  CHECK(c.state() == State::kSynSent);
  CHECK(c.server(kTcpSyn) == Verdict::kAccept);  // and retransmits its SYN
  CHECK(c.state() == State::kSynSent);

  SECTION("originator's SYN+ACK first") {
    CHECK(c.client(kSynAck) == Verdict::kAccept);
    CHECK(c.state() == State::kSynRecv);
    CHECK(c.server(kSynAck) == Verdict::kAccept);
    CHECK(c.state() == State::kSynRecv);
  }
  SECTION("responder's SYN+ACK first") {
    CHECK(c.server(kSynAck) == Verdict::kAccept);
    CHECK(c.state() == State::kSynRecv);
    CHECK(c.client(kSynAck) == Verdict::kAccept);
    CHECK(c.state() == State::kSynRecv);
  }
  CHECK(c.client(kTcpAck) == Verdict::kAccept);
  CHECK(c.state() == State::kEstablished);
  CHECK(c.server(kTcpAck | kPsh, 1000) == Verdict::kAccept);
  CHECK(c.client(kTcpAck | kPsh, 1000) == Verdict::kAccept);
  CHECK(c.state() == State::kEstablished);
}

TEST_CASE("TCP: simultaneous open needs SYN+ACKs before anything else", "[conntrack][tcp]") {
  Conversation c;
  c.open();
  REQUIRE(c.server(kTcpSyn) == Verdict::kAccept);
  const Entry before = *c.e;
  CHECK(c.client(kTcpAck) == Verdict::kInvalid);
  CHECK(c.server(kTcpAck) == Verdict::kInvalid);
  CHECK(c.client(kFinAck) == Verdict::kInvalid);
  CHECK(same_bytes(*c.e, before));
}

TEST_CASE("TCP: simultaneous open checks the SYN+ACK's acknowledgement", "[conntrack][tcp]") {
  Conversation c;
  c.open();
  REQUIRE(c.server(kTcpSyn) == Verdict::kAccept);
  PacketInfo p = c.make(kOrig, kSynAck);
  p.ack += 5;  // acknowledges beyond the responder's SYN
  CHECK(c.deliver(kOrig, p) == Verdict::kInvalid);
  CHECK(c.state() == State::kSynSent);
}

TEST_CASE("TCP: retransmitted and stray SYNs", "[conntrack][tcp]") {
  Conversation c;
  const uint32_t isn = c.next[0];
  c.open();
  SECTION("retransmitted SYN in SYN_SENT") {
    CHECK(c.client(kTcpSyn) == Verdict::kAccept);
    CHECK(c.state() == State::kSynSent);
  }
  SECTION("a renumbered SYN in SYN_SENT replaces the first") {
    PacketInfo syn = c.make(kOrig, kTcpSyn);
    syn.seq = isn + 1000000;
    CHECK(c.deliver(kOrig, syn) == Verdict::kAccept);
    PacketInfo old_answer = c.make(kReply, kSynAck);
    old_answer.ack = isn + 1;
    CHECK(c.deliver(kReply, old_answer) == Verdict::kInvalid);
    PacketInfo answer = c.make(kReply, kSynAck);
    answer.ack = isn + 1000001;
    CHECK(c.deliver(kReply, answer) == Verdict::kAccept);
    CHECK(c.state() == State::kSynRecv);
  }
  SECTION("retransmitted SYN and SYN+ACK in SYN_RECV") {
    REQUIRE(c.server(kSynAck) == Verdict::kAccept);
    CHECK(c.client(kTcpSyn) == Verdict::kAccept);
    CHECK(c.server(kSynAck) == Verdict::kAccept);
    CHECK(c.state() == State::kSynRecv);
    PacketInfo other = c.make(kOrig, kTcpSyn);
    other.seq += 77;
    CHECK(c.deliver(kOrig, other) == Verdict::kInvalid);
    CHECK(c.state() == State::kSynRecv);
  }
  SECTION("SYN on an established connection") {
    REQUIRE(c.server(kSynAck) == Verdict::kAccept);
    REQUIRE(c.client(kTcpAck) == Verdict::kAccept);
    const Entry before = *c.e;
    CHECK(c.client(kTcpSyn) == Verdict::kInvalid);
    CHECK(c.server(kTcpSyn) == Verdict::kInvalid);
    CHECK(same_bytes(*c.e, before));
    // A retransmitted SYN+ACK (the final ACK got lost further on) is harmless.
    CHECK(c.server(kSynAck) == Verdict::kAccept);
    CHECK(c.state() == State::kEstablished);
  }
}

TEST_CASE("TCP: flag combinations TCP never uses are invalid", "[conntrack][tcp]") {
  Conversation c;
  c.establish();
  const Entry before = *c.e;
  for (uint8_t flags :
       {uint8_t{0}, kTcpFin, uint8_t{kTcpSyn | kTcpFin}, uint8_t{kTcpSyn | kTcpRst},
        uint8_t{kTcpFin | kTcpRst | kTcpAck}, uint8_t{kTcpSyn | kTcpFin | kTcpAck}, kPsh}) {
    INFO("flags " << int{flags});
    CHECK(c.client(flags) == Verdict::kInvalid);
    CHECK(c.server(flags, 10) == Verdict::kInvalid);
  }
  CHECK(same_bytes(*c.e, before));
  CHECK(c.client(kTcpAck | kPsh | 0x20 /* URG */, 10) == Verdict::kAccept);
}

TEST_CASE("TCP: the client closes first", "[conntrack][tcp]") {
  Conversation c;
  c.establish();
  CHECK(c.client(kFinAck) == Verdict::kAccept);
  CHECK(c.state() == State::kFinWait);
  CHECK(c.e->expires == c.deadline(State::kFinWait));
  CHECK(is_protected(*c.e));

  CHECK(c.server(kTcpAck) == Verdict::kAccept);
  CHECK(c.state() == State::kCloseWait);
  CHECK(c.e->expires == c.deadline(State::kCloseWait));
  CHECK(is_protected(*c.e));

  // Half closed: the server may go on sending, the client acknowledges.
  CHECK(c.server(kTcpAck | kPsh, 1000) == Verdict::kAccept);
  CHECK(c.client(kTcpAck) == Verdict::kAccept);
  CHECK(c.state() == State::kCloseWait);

  CHECK(c.server(kFinAck) == Verdict::kAccept);
  CHECK(c.state() == State::kLastAck);
  CHECK(c.e->expires == c.deadline(State::kLastAck));
  CHECK_FALSE(is_protected(*c.e));

  CHECK(c.client(kTcpAck) == Verdict::kAccept);
  CHECK(c.state() == State::kTimeWait);
  CHECK(c.e->expires == c.deadline(State::kTimeWait));

  // Retransmissions of the last segments are fine and keep TIME_WAIT.
  CHECK(c.client(kTcpAck) == Verdict::kAccept);
  PacketInfo fin = c.make(kReply, kFinAck);
  fin.seq -= 1;
  CHECK(c.deliver(kReply, fin) == Verdict::kAccept);
  CHECK(c.state() == State::kTimeWait);
  CHECK_FALSE(is_protected(*c.e));
}

TEST_CASE("TCP: the server closes first", "[conntrack][tcp]") {
  Conversation c;
  c.establish();
  CHECK(c.server(kFinAck) == Verdict::kAccept);
  CHECK(c.state() == State::kFinWait);
  CHECK(c.client(kTcpAck) == Verdict::kAccept);
  CHECK(c.state() == State::kCloseWait);
  CHECK(c.client(kTcpAck | kPsh, 200) == Verdict::kAccept);
  CHECK(c.server(kTcpAck) == Verdict::kAccept);
  CHECK(c.state() == State::kCloseWait);
  CHECK(c.client(kFinAck) == Verdict::kAccept);
  CHECK(c.state() == State::kLastAck);
  CHECK(c.server(kTcpAck) == Verdict::kAccept);
  CHECK(c.state() == State::kTimeWait);
}

TEST_CASE("TCP: a FIN answered by FIN+ACK", "[conntrack][tcp]") {
  Conversation c;
  c.establish();
  CHECK(c.client(kFinAck) == Verdict::kAccept);
  CHECK(c.server(kFinAck) == Verdict::kAccept);  // acknowledges the client's FIN
  CHECK(c.state() == State::kLastAck);
  CHECK(c.client(kTcpAck) == Verdict::kAccept);
  CHECK(c.state() == State::kTimeWait);
}

TEST_CASE("TCP: simultaneous close", "[conntrack][tcp]") {
  Conversation c;
  c.establish();
  PacketInfo client_fin = c.make(kOrig, kFinAck);
  PacketInfo server_fin = c.make(kReply, kFinAck);  // sent before the client's FIN arrived
  CHECK(c.deliver(kOrig, client_fin) == Verdict::kAccept);
  CHECK(c.state() == State::kFinWait);
  CHECK(c.deliver(kReply, server_fin) == Verdict::kAccept);
  CHECK(c.state() == State::kLastAck);
  CHECK(c.client(kTcpAck) == Verdict::kAccept);  // acknowledges the server's FIN only
  CHECK(c.state() == State::kLastAck);
  CHECK(c.server(kTcpAck) == Verdict::kAccept);  // and now both FINs are acknowledged
  CHECK(c.state() == State::kTimeWait);
}

TEST_CASE("TCP: FIN_WAIT lasts until the FIN is acknowledged", "[conntrack][tcp]") {
  Conversation c;
  c.establish();
  const uint32_t fin_seq = c.next[0];
  CHECK(c.client(kFinAck) == Verdict::kAccept);
  PacketInfo data = c.make(kReply, kTcpAck | kPsh, 500);
  data.ack = fin_seq;  // sent before the server saw the FIN
  CHECK(c.deliver(kReply, data) == Verdict::kAccept);
  CHECK(c.state() == State::kFinWait);
  CHECK(c.client(kTcpAck) == Verdict::kAccept);  // the client acknowledges the data
  CHECK(c.state() == State::kFinWait);
  CHECK(c.server(kTcpAck) == Verdict::kAccept);
  CHECK(c.state() == State::kCloseWait);
}

TEST_CASE("TCP: nothing may follow a FIN", "[conntrack][tcp]") {
  Conversation c;
  c.establish();
  CHECK(c.client(kFinAck) == Verdict::kAccept);
  PacketInfo more = c.make(kOrig, kTcpAck | kPsh, 100);
  CHECK(c.deliver(kOrig, more) == Verdict::kInvalid);
  PacketInfo again = c.make(kOrig, kFinAck);
  again.seq -= 1;  // the same FIN once more
  CHECK(c.deliver(kOrig, again) == Verdict::kAccept);
  CHECK(c.state() == State::kFinWait);
}

TEST_CASE("TCP: a SYN on TIME_WAIT or CLOSE is a new connection", "[conntrack][tcp]") {
  const State s = GENERATE(State::kTimeWait, State::kClose);
  const Direction d = GENERATE(kOrig, kReply);
  INFO(state_name(s));
  Conversation c;
  drive_to(c, s);
  const Entry before = *c.e;
  PacketInfo syn = c.make(d, kTcpSyn);
  syn.seq += 123456;
  CHECK(c.deliver(d, syn) == Verdict::kNewConnection);
  CHECK(same_bytes(*c.e, before));
  CHECK(c.state() == s);

  // What the dataplane does then: replace the entry.
  FlowKey key = d == kOrig ? c.key : c.key.reversed();
  c.table.erase(c.e);
  CHECK(c.table.size() == 0);
  Entry* fresh = c.table.insert(key, syn, c.now);
  REQUIRE(fresh != nullptr);
  CHECK(fresh->state == State::kSynSent);
  CHECK(fresh->key == key);
  Direction found;
  CHECK(c.table.lookup(key, c.now, found) == fresh);
  CHECK(found == kOrig);
}

TEST_CASE("TCP: a SYN+ACK on a closing connection is invalid", "[conntrack][tcp]") {
  const State s = GENERATE(State::kFinWait, State::kTimeWait, State::kClose);
  Conversation c;
  drive_to(c, s);
  CHECK(c.server(kSynAck) == Verdict::kInvalid);
}

TEST_CASE("TCP: RST in every state", "[conntrack][tcp]") {
  const State s = GENERATE(State::kSynSent, State::kSynRecv, State::kEstablished, State::kFinWait,
                           State::kCloseWait, State::kLastAck, State::kTimeWait, State::kClose);
  const Direction d = GENERATE(kOrig, kReply);
  INFO(state_name(s) << (d == kOrig ? ", from the client" : ", from the server"));
  Conversation c;
  drive_to(c, s);
  const Entry before = *c.e;
  PacketInfo rst = c.make(d, kRstAck);
  const bool refusal = s == State::kSynSent && d == kReply;  // answers the SYN: checked by ack

  SECTION("out of window: beyond what the receiver allowed") {
    if (refusal) {
      rst.ack += 1;
    } else {
      rst.seq += 10000000;
    }
    CHECK(c.deliver(d, rst) == Verdict::kInvalid);
    CHECK(same_bytes(*c.e, before));
  }
  SECTION("out of window: far behind") {
    if (refusal) {
      rst.ack -= 1;
    } else {
      rst.seq -= 10000000;
    }
    CHECK(c.deliver(d, rst) == Verdict::kInvalid);
    CHECK(same_bytes(*c.e, before));
  }
  SECTION("in window") {
    CHECK(c.deliver(d, rst) == Verdict::kAccept);
    CHECK(c.state() == State::kClose);
    CHECK(c.e->expires == c.deadline(State::kClose));
    CHECK_FALSE(is_protected(*c.e));
  }
  SECTION("without ACK flag, in window") {
    rst.tcp_flags = kTcpRst;
    rst.ack = 0;
    // The answer to a SYN must acknowledge it; any other in-window RST needs no ACK.
    CHECK(c.deliver(d, rst) == (refusal ? Verdict::kInvalid : Verdict::kAccept));
    CHECK(c.state() == (refusal ? s : State::kClose));
  }
}

TEST_CASE("TCP: RST inside the window but not at the next sequence number", "[conntrack][tcp]") {
  Conversation c;
  c.establish();
  // The client's ACK offered 29200 bytes: the server may send (and reset) up to there.
  PacketInfo rst = c.make(kReply, kTcpRst);
  rst.seq += 29201;
  CHECK(c.deliver(kReply, rst) == Verdict::kInvalid);
  CHECK(c.state() == State::kEstablished);
  rst.seq -= 1;
  CHECK(c.deliver(kReply, rst) == Verdict::kAccept);
  CHECK(c.state() == State::kClose);
}

TEST_CASE("TCP: the loose window check", "[conntrack][tcp]") {
  Conversation c;
  c.establish();
  // The server's SYN+ACK offered 65535 bytes: that is how far the client may send.
  const uint32_t limit = c.next[0] + 65535;

  SECTION("a segment starting beyond the receiver's window") {
    const Entry before = *c.e;
    const Stats stats_before = c.table.stats(*c.e);
    const uint64_t expires = c.e->expires;
    PacketInfo p = c.make(kOrig, kTcpAck | kPsh, 100);
    p.seq = limit + 1;
    CHECK(c.deliver(kOrig, p) == Verdict::kInvalid);
    CHECK(same_bytes(*c.e, before));
    CHECK(c.e->expires == expires);  // not refreshed
    CHECK(c.table.stats(*c.e).packets[0] == stats_before.packets[0]);
    p.seq = limit;  // the last byte the receiver allowed
    CHECK(c.deliver(kOrig, p) == Verdict::kAccept);
  }
  SECTION("data far behind") {
    for (int i = 0; i < 100; ++i) {  // 100000 bytes, each segment acknowledged
      REQUIRE(c.client(kTcpAck | kPsh, 1000) == Verdict::kAccept);
      REQUIRE(c.server(kTcpAck) == Verdict::kAccept);
    }
    // The server's largest window is 65535: a retransmission may end that far back, not more.
    PacketInfo old = c.make(kOrig, kTcpAck, 100);
    old.seq = c.next[0] - 65535 - 100;
    CHECK(c.deliver(kOrig, old) == Verdict::kAccept);
    old.payload = 99;
    CHECK(c.deliver(kOrig, old) == Verdict::kInvalid);
    old.seq = c.next[0] - 10000000;
    CHECK(c.deliver(kOrig, old) == Verdict::kInvalid);
  }
  SECTION("an acknowledgement of data never sent") {
    PacketInfo p = c.make(kOrig, kTcpAck);
    p.ack += 1;
    CHECK(c.deliver(kOrig, p) == Verdict::kInvalid);
  }
  SECTION("an acknowledgement lagging more than a window") {
    PacketInfo p = c.make(kOrig, kTcpAck);
    p.ack -= 66000;
    CHECK(c.deliver(kOrig, p) == Verdict::kAccept);
    p.ack -= 1;
    CHECK(c.deliver(kOrig, p) == Verdict::kInvalid);
  }
  SECTION("a retransmission inside the window") {
    PacketInfo first = c.make(kOrig, kTcpAck | kPsh, 1000);
    REQUIRE(c.deliver(kOrig, first) == Verdict::kAccept);
    CHECK(c.deliver(kOrig, first) == Verdict::kAccept);
  }
  CHECK(c.state() == State::kEstablished);
}

TEST_CASE("TCP: the receiver's acknowledgements move the window", "[conntrack][tcp]") {
  Conversation c;
  c.window[1] = 4000;  // the server offers 4000 bytes
  c.establish();
  PacketInfo p = c.make(kOrig, kTcpAck, 1000);
  p.seq = c.next[0] + 4001;
  CHECK(c.deliver(kOrig, p) == Verdict::kInvalid);
  REQUIRE(c.client(kTcpAck | kPsh, 4000) == Verdict::kAccept);
  REQUIRE(c.server(kTcpAck) == Verdict::kAccept);  // acknowledges 4000 more, same window
  p.seq = c.next[0] + 4000;
  CHECK(c.deliver(kOrig, p) == Verdict::kAccept);
}

TEST_CASE("TCP: zero window", "[conntrack][tcp]") {
  Conversation c;
  c.window[1] = 0;
  c.establish();
  PacketInfo probe = c.make(kOrig, kTcpAck, 1);
  CHECK(c.deliver(kOrig, probe) == Verdict::kAccept);
  PacketInfo beyond = c.make(kOrig, kTcpAck, 1);
  beyond.seq += 1;
  CHECK(c.deliver(kOrig, beyond) == Verdict::kInvalid);
}

TEST_CASE("TCP: window scaling applies when both SYNs carry the option", "[conntrack][tcp]") {
  Conversation c;
  uint8_t scale = 7;
  bool scaled = true;
  SECTION("both offer 7") {
    c.wscale[0] = 7;
    c.wscale[1] = 7;
  }
  SECTION("the client offers a shift of 0, the server 7") {
    c.wscale[0] = 0;
    c.wscale[1] = 7;
  }
  SECTION("only the client offers") {
    c.wscale[0] = 7;
    scaled = false;
  }
  SECTION("only the server offers") {
    c.wscale[1] = 7;
    scaled = false;
  }
  SECTION("a shift above 14 counts as 14") {
    c.wscale[0] = 2;
    c.wscale[1] = 15;
    scale = 14;
  }
  c.establish();
  // The window of the SYN+ACK itself is never scaled.
  PacketInfo p = c.make(kOrig, kTcpAck, 10);
  p.seq = c.next[0] + 65536;
  CHECK(c.deliver(kOrig, p) == Verdict::kInvalid);
  p.seq = c.next[0] + 65535;
  CHECK(c.deliver(kOrig, p) == Verdict::kAccept);

  c.window[1] = 1000;
  REQUIRE(c.server(kTcpAck) == Verdict::kAccept);
  const uint32_t limit = c.next[0] + (scaled ? 1000u << scale : 1000u);
  p.seq = limit + 1;
  CHECK(c.deliver(kOrig, p) == Verdict::kInvalid);
  p.seq = limit;
  CHECK(c.deliver(kOrig, p) == Verdict::kAccept);
}

TEST_CASE("TCP: a scaled largest window bounds how old data may be", "[conntrack][tcp]") {
  Conversation c;
  c.wscale[0] = 4;
  c.wscale[1] = 4;
  c.establish();
  c.window[1] = 10000;  // 160000 bytes
  REQUIRE(c.server(kTcpAck) == Verdict::kAccept);
  for (int i = 0; i < 200; ++i) {
    REQUIRE(c.client(kTcpAck, 1000) == Verdict::kAccept);
    REQUIRE(c.server(kTcpAck) == Verdict::kAccept);
  }
  PacketInfo old = c.make(kOrig, kTcpAck, 100);
  old.seq = c.next[0] - 160000 - 100;
  CHECK(c.deliver(kOrig, old) == Verdict::kAccept);
  old.seq -= 1;
  CHECK(c.deliver(kOrig, old) == Verdict::kInvalid);
}

TEST_CASE("TCP: sequence numbers wrap around", "[conntrack][tcp]") {
  Conversation c(0xffffff00u, 0xfffffff0u);
  c.establish();
  for (int i = 0; i < 10; ++i) {
    CHECK(c.client(kTcpAck | kPsh, 100) == Verdict::kAccept);
    CHECK(c.server(kTcpAck | kPsh, 100) == Verdict::kAccept);
  }
  CHECK(c.next[0] < 0x1000);
  CHECK(c.client(kFinAck) == Verdict::kAccept);
  CHECK(c.server(kFinAck) == Verdict::kAccept);
  CHECK(c.client(kTcpAck) == Verdict::kAccept);
  CHECK(c.state() == State::kTimeWait);
  PacketInfo rst = c.make(kOrig, kTcpRst);
  rst.seq += 0x80000000u;
  CHECK(c.deliver(kOrig, rst) == Verdict::kInvalid);
}

TEST_CASE("TCP: packets after a RST", "[conntrack][tcp]") {
  Conversation c;
  drive_to(c, State::kClose);
  CHECK(c.server(kTcpAck) == Verdict::kAccept);
  CHECK(c.state() == State::kClose);
  CHECK(c.server(kRstAck) == Verdict::kAccept);
  CHECK(c.state() == State::kClose);
  CHECK(c.e->expires == c.deadline(State::kClose));
}

TEST_CASE("TCP: a refused connection", "[conntrack][tcp]") {
  Conversation c;
  c.open();
  PacketInfo rst = c.make(kReply, kRstAck);
  rst.seq = 0;  // what a closed port answers
  CHECK(c.deliver(kReply, rst) == Verdict::kAccept);
  CHECK(c.state() == State::kClose);
  // Nothing is known of the responder's sequence space: its further segments are invalid.
  CHECK(c.server(kTcpAck) == Verdict::kInvalid);
  CHECK(c.client(kTcpSyn) == Verdict::kNewConnection);
}
