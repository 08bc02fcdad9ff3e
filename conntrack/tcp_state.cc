#include "conntrack/tcp_state.h"

#include <algorithm>

namespace bulwark::conntrack::tcp {
namespace {

// TcpWindow::flags
constexpr uint8_t kSeen = 0x01;          // this side sent its SYN: its window is tracked
constexpr uint8_t kScaleOffered = 0x02;  // its SYN carried the window-scale option
constexpr uint8_t kFinSent = 0x04;       // it sent a FIN
constexpr uint8_t kFinAcked = 0x08;      // the other side acknowledged that FIN

constexpr uint8_t kMaxScale = 14;          // RFC 7323, 2.3
constexpr uint32_t kMinAckWindow = 66000;  // how far an ACK may lag behind at least (as Linux)
constexpr uint8_t kTracked = kTcpFin | kTcpSyn | kTcpRst | kTcpAck;

// Sequence-space comparisons (RFC 1982 arithmetic).
bool after(uint32_t a, uint32_t b) {
  return static_cast<int32_t>(a - b) > 0;
}
bool before(uint32_t a, uint32_t b) {
  return static_cast<int32_t>(a - b) < 0;
}

// The combinations TCP uses; anything else (SYN+FIN, no flags, FIN without ACK…) is a scan or
// garbage. PSH, URG, ECE and CWR do not matter here.
bool valid_flags(uint8_t f) {
  switch (f) {
    case kTcpSyn:
    case kTcpSyn | kTcpAck:
    case kTcpRst:
    case kTcpRst | kTcpAck:
    case kTcpAck:
    case kTcpFin | kTcpAck:
      return true;
    default:
      return false;
  }
}

uint32_t segment_end(const PacketInfo& p, uint8_t f) {
  return p.seq + p.payload + ((f & kTcpSyn) ? 1 : 0) + ((f & kTcpFin) ? 1 : 0);
}

// The largest window `w`'s side advertised, in bytes.
uint32_t max_window(const TcpWindow& w) {
  return uint32_t{w.max_win} << w.scale;
}

// `bytes` (at most 65535) in units of 1 << shift, rounded up.
uint16_t to_units(uint32_t bytes, uint8_t shift) {
  return static_cast<uint16_t>((bytes + (uint32_t{1} << shift) - 1) >> shift);
}

// The window a segment of `s`'s side advertises. The window of a SYN segment is never scaled.
struct Advertised {
  uint32_t bytes;
  uint16_t units;
};
Advertised advertised(const TcpWindow& s, const PacketInfo& p, uint8_t f) {
  if (f & kTcpSyn) return {p.window, to_units(p.window, s.scale)};
  return {uint32_t{p.window} << s.scale, p.window};
}

// Starts tracking a side from its SYN or SYN+ACK. Until `negotiate`, `max_win` is in bytes and
// `scale` is the offered shift.
void init_side(TcpWindow& w, const PacketInfo& p, uint8_t f) {
  const bool offered = p.window_scale != kNoWindowScale;
  w.end = segment_end(p, f);
  w.max_end = w.end;
  w.max_win = std::max<uint16_t>(p.window, 1);
  w.scale = offered ? std::min(p.window_scale, kMaxScale) : 0;
  w.flags = static_cast<uint8_t>(kSeen | (offered ? kScaleOffered : 0));
}

// Both SYNs are known: scaling is in effect only when both carried the option (RFC 7323).
void negotiate(Entry& e) {
  TcpWindow& a = e.window[0];
  TcpWindow& b = e.window[1];
  if ((a.flags & kScaleOffered) && (b.flags & kScaleOffered)) {
    a.max_win = to_units(a.max_win, a.scale);
    b.max_win = to_units(b.max_win, b.scale);
  } else {
    a.scale = b.scale = 0;
  }
}

// An ACK from `s`'s side may not acknowledge data `r`'s side never sent, nor lag further behind
// than a window.
bool ack_acceptable(const TcpWindow& s, const TcpWindow& r, uint32_t ack) {
  return !after(ack, r.end) && !before(ack, r.end - std::max(max_window(s), kMinAckWindow));
}

// The loose window check of a segment from `s`'s side to `r`'s side: its sequence number must
// not lie beyond what the receiver allowed, its end not further behind than the receiver's
// largest window, and its acknowledgement must be plausible.
bool in_window(const TcpWindow& s, const TcpWindow& r, const PacketInfo& p, uint8_t f) {
  const uint32_t ack = (f & kTcpAck) ? p.ack : r.end;
  return !after(p.seq, s.max_end) && !before(segment_end(p, f), s.end - max_window(r)) &&
         ack_acceptable(s, r, ack);
}

// Records an accepted segment: the sender's end and window, and the limit its ACK grants the
// other side.
void absorb(TcpWindow& s, TcpWindow& r, const PacketInfo& p, uint8_t f) {
  const Advertised win = advertised(s, p, f);
  if (win.units > s.max_win) s.max_win = win.units;
  const uint32_t end = segment_end(p, f);
  if (after(end, s.end)) s.end = end;
  if (f & kTcpAck) {
    const uint32_t limit = p.ack + win.bytes;
    if (after(limit, r.max_end)) r.max_end = limit;
    if ((r.flags & kFinSent) && p.ack == r.end) r.flags |= kFinAcked;
  }
}

// After the handshake the state follows from the FINs seen and acknowledged.
State closing_state(const Entry& e) {
  const uint8_t a = e.window[0].flags;
  const uint8_t b = e.window[1].flags;
  const int fins = ((a & kFinSent) ? 1 : 0) + ((b & kFinSent) ? 1 : 0);
  const int acked = ((a & kFinAcked) ? 1 : 0) + ((b & kFinAcked) ? 1 : 0);
  if (fins == 0) return State::kEstablished;
  if (fins == 1) return acked ? State::kCloseWait : State::kFinWait;
  return acked == 2 ? State::kTimeWait : State::kLastAck;
}

Verdict on_rst(Entry& e, const TcpWindow& s, const TcpWindow& r, const PacketInfo& p) {
  if (!(s.flags & kSeen)) {
    // The answer to the SYN ("connection refused") acknowledges exactly the SYN.
    if (!(p.tcp_flags & kTcpAck) || p.ack != r.end) return Verdict::kInvalid;
  } else if (after(p.seq, s.max_end) || before(p.seq, s.end - max_window(r))) {
    return Verdict::kInvalid;
  }
  e.state = State::kClose;
  return Verdict::kAccept;
}

Verdict on_syn(Entry& e, bool from_original, TcpWindow& s, const PacketInfo& p) {
  switch (e.state) {
    case State::kTimeWait:
    case State::kClose:
      return Verdict::kNewConnection;
    case State::kSynSent:
      if (!(s.flags & kSeen)) {  // the responder's own SYN: simultaneous open
        init_side(s, p, kTcpSyn);
        negotiate(e);
        return Verdict::kAccept;
      }
      if (from_original && !(e.window[1].flags & kSeen)) {  // retransmitted, maybe renumbered
        init_side(s, p, kTcpSyn);
        return Verdict::kAccept;
      }
      [[fallthrough]];
    case State::kSynRecv:  // only a retransmission of the side's SYN
      return segment_end(p, kTcpSyn) == s.end ? Verdict::kAccept : Verdict::kInvalid;
    default:
      return Verdict::kInvalid;
  }
}

Verdict on_syn_ack(Entry& e, TcpWindow& s, TcpWindow& r, const PacketInfo& p) {
  constexpr uint8_t f = kTcpSyn | kTcpAck;
  switch (e.state) {
    case State::kSynSent:
      if (!(r.flags & kSeen)) return Verdict::kInvalid;  // answers a SYN nobody sent
      if (!(s.flags & kSeen)) {                          // the responder answers the SYN
        if (!ack_acceptable(TcpWindow{}, r, p.ack)) return Verdict::kInvalid;
        init_side(s, p, f);
        negotiate(e);
      } else if (!in_window(s, r, p, f)) {  // simultaneous open: both SYNs seen
        return Verdict::kInvalid;
      }
      absorb(s, r, p, f);
      e.state = State::kSynRecv;
      return Verdict::kAccept;
    case State::kSynRecv:
    case State::kEstablished:  // a retransmission (the final ACK was lost further on)
      if (!(s.flags & kSeen) || !in_window(s, r, p, f)) return Verdict::kInvalid;
      absorb(s, r, p, f);
      return Verdict::kAccept;
    default:
      return Verdict::kInvalid;
  }
}

Verdict on_segment(Entry& e, bool from_original, TcpWindow& s, TcpWindow& r, const PacketInfo& p,
                   uint8_t f) {
  // Before the SYN is answered only SYNs and RSTs are acceptable.
  if (e.state == State::kSynSent || !(s.flags & kSeen) || !(r.flags & kSeen)) {
    return Verdict::kInvalid;
  }
  if (!in_window(s, r, p, f)) return Verdict::kInvalid;
  if ((s.flags & kFinSent) && after(segment_end(p, f), s.end)) return Verdict::kInvalid;
  absorb(s, r, p, f);
  if (f & kTcpFin) s.flags |= kFinSent;
  switch (e.state) {
    case State::kSynRecv:
      // The originator's ACK of the SYN+ACK completes the handshake; a FIN starts closing.
      if ((f & kTcpFin) || (from_original && p.ack == r.end)) e.state = closing_state(e);
      break;
    case State::kEstablished:
    case State::kFinWait:
    case State::kCloseWait:
    case State::kLastAck:
      e.state = closing_state(e);
      break;
    default:  // TIME_WAIT and CLOSE stay until they expire or a SYN replaces them
      break;
  }
  return Verdict::kAccept;
}

}  // namespace

bool is_opening(const PacketInfo& p) {
  return (p.tcp_flags & kTracked) == kTcpSyn;
}

void start(Entry& e, const PacketInfo& syn) {
  e.window[0] = {};
  e.window[1] = {};
  init_side(e.window[0], syn, kTcpSyn);
  e.state = State::kSynSent;
}

Verdict track(Entry& e, Direction d, const PacketInfo& p) {
  const uint8_t f = p.tcp_flags & kTracked;
  if (!valid_flags(f)) return Verdict::kInvalid;
  const bool from_original = d == Direction::kOriginal;
  TcpWindow& s = e.window[from_original ? 0 : 1];
  TcpWindow& r = e.window[from_original ? 1 : 0];
  if (f & kTcpRst) return on_rst(e, s, r, p);
  if (f == kTcpSyn) return on_syn(e, from_original, s, p);
  if (f & kTcpSyn) return on_syn_ack(e, s, r, p);
  return on_segment(e, from_original, s, r, p, f);
}

}  // namespace bulwark::conntrack::tcp
