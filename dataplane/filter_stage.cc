// The stateful packet filter stage: connection lookup on the fast path; classification of new
// connections, related ICMP errors, rejects and log records on the slow path.
//
// Which list decides a new connection depends on where it comes from and goes (manual ch. 6):
// from an external interface: incoming; from internal to external: outgoing; to or from a DMZ
// interface: dmz. Traffic between internal interfaces and from internal hosts to the box itself
// is not filtered. The box's own connections (from the exception path) are tracked, so their
// answers pass.
#include <cstring>

#include "dataplane/checksum.h"
#include "dataplane/headers.h"
#include "dataplane/pipeline.h"

namespace bulwark::dataplane {
namespace {

using config::Role;
using conntrack::Direction;
using conntrack::FlowKey;
using conntrack::PacketInfo;

constexpr double kLogRate = 200;  // lines per second per worker
constexpr uint8_t kFromBox = 1;    // Entry::flags: opened by the box itself
constexpr double kLogBurst = 200;

struct [[gnu::packed]] TcpHeader {
  Be16 src_port;
  Be16 dst_port;
  Be32 seq;
  Be32 ack;
  uint8_t data_offset;  // upper 4 bits
  uint8_t flags;
  Be16 window;
  Be16 checksum;
  Be16 urgent;
};
static_assert(sizeof(TcpHeader) == 20);

struct [[gnu::packed]] UdpHeader {
  Be16 src_port;
  Be16 dst_port;
  Be16 length;
  Be16 checksum;
};
static_assert(sizeof(UdpHeader) == 8);

bool is_icmp_query(uint8_t type) {
  return type == kIcmpEchoRequest || type == kIcmpEchoReply || (type >= 13 && type <= 18);
}

bool is_icmp_error_type(uint8_t type) {
  return type == kIcmpUnreachable || type == 4 || type == 5 || type == kIcmpTimeExceeded ||
         type == kIcmpParameterProblem;
}

// The TCP window scale option of a SYN, or kNoWindowScale.
uint8_t window_scale(const uint8_t* options, size_t length) {
  for (size_t i = 0; i < length;) {
    uint8_t kind = options[i];
    if (kind == 0) break;
    if (kind == 1) {
      ++i;
      continue;
    }
    if (i + 1 >= length || options[i + 1] < 2) break;
    if (kind == 3 && options[i + 1] == 3 && i + 2 < length) return std::min<uint8_t>(options[i + 2], 14);
    i += options[i + 1];
  }
  return conntrack::kNoWindowScale;
}

// Reads the transport ports (or ICMP identifier) of a packet whose IPv4 header is at `ip`,
// with `available` bytes of it in the buffer. False when the transport header is cut short.
bool read_ports(const Ipv4Header* ip, size_t available, FlowKey& key) {
  size_t ihl = ip->header_length();
  const uint8_t* l4 = reinterpret_cast<const uint8_t*>(ip) + ihl;
  if (ip->protocol == config::kProtoTcp || ip->protocol == config::kProtoUdp) {
    if (available < ihl + 4) return false;
    key.src_port = static_cast<uint16_t>(l4[0] << 8 | l4[1]);
    key.dst_port = static_cast<uint16_t>(l4[2] << 8 | l4[3]);
  } else if (ip->protocol == config::kProtoIcmp) {
    if (available < ihl + 8) return false;
    if (is_icmp_query(l4[0])) key.src_port = key.dst_port = static_cast<uint16_t>(l4[4] << 8 | l4[5]);
  }
  return true;
}

// The list that decides a new connection, or none (not filtered).
std::optional<FilterList> list_for(Role in, std::optional<Role> out) {
  if (in == Role::kDmz || out == Role::kDmz) return FilterList::kDmz;
  if (in == Role::kExternal) return FilterList::kIncoming;
  if (in == Role::kInternal && out == Role::kExternal) return FilterList::kOutgoing;
  return std::nullopt;
}

FilterKey filter_key(const FlowKey& k, uint16_t in) {
  FilterKey key;
  key.protocol = k.protocol;
  bool ports = k.protocol == config::kProtoTcp || k.protocol == config::kProtoUdp;
  key.src = Be32::from_host(k.src);
  key.dst = Be32::from_host(k.dst);
  key.src_port = Be16::from_host(ports ? k.src_port : 0);
  key.dst_port = Be16::from_host(ports ? k.dst_port : 0);
  key.interface = Be32::from_host(in);
  return key;
}

}  // namespace

// What the filter knows about one packet.
struct Pipeline::Flow {
  FlowKey key;
  PacketInfo info;
  bool icmp_error = false;
  bool trailing_fragment = false;  // a fragment after the first: no transport header
  uint8_t icmp_type = 0;
  FlowKey inner;  // for ICMP errors: the packet the error is about
  bool inner_valid = false;
};

bool Pipeline::admit(const Generation& g, rte_mbuf* m, uint16_t ip_offset, uint16_t in,
                     uint16_t in_vlan, int out, uint64_t now) {
  const auto* ip = rte_pktmbuf_mtod_offset(m, const Ipv4Header*, ip_offset);
  size_t available = rte_pktmbuf_data_len(m) - ip_offset;
  Flow flow;
  flow.key.src = ip->src.to_host();
  flow.key.dst = ip->dst.to_host();
  flow.key.protocol = ip->protocol;
  flow.info.length = ip->total_length.to_host();
  size_t ihl = ip->header_length();
  if (ip->fragment_offset() != 0) {
    flow.trailing_fragment = true;
  } else if (!read_ports(ip, available, flow.key)) {
    drop(m, DropReason::ipv4_truncated);
    return false;
  } else if (ip->protocol == config::kProtoTcp) {
    if (available < ihl + sizeof(TcpHeader)) {
      drop(m, DropReason::ipv4_truncated);
      return false;
    }
    const auto* tcp = reinterpret_cast<const TcpHeader*>(reinterpret_cast<const uint8_t*>(ip) + ihl);
    size_t doff = (tcp->data_offset >> 4) * 4u;
    flow.info.tcp_flags = tcp->flags;
    flow.info.seq = tcp->seq.to_host();
    flow.info.ack = tcp->ack.to_host();
    flow.info.window = tcp->window.to_host();
    uint32_t segment = flow.info.length > ihl ? flow.info.length - static_cast<uint32_t>(ihl) : 0;
    flow.info.payload = segment > doff ? segment - static_cast<uint32_t>(doff) : 0;
    if ((tcp->flags & conntrack::kTcpSyn) && doff > sizeof(TcpHeader) && available >= ihl + doff) {
      flow.info.window_scale = window_scale(reinterpret_cast<const uint8_t*>(tcp + 1), doff - sizeof(TcpHeader));
    }
  } else if (ip->protocol == config::kProtoIcmp) {
    const uint8_t* icmp = reinterpret_cast<const uint8_t*>(ip) + ihl;
    flow.icmp_type = icmp[0];
    if (is_icmp_error_type(icmp[0])) {
      flow.icmp_error = true;
      const auto* inner = reinterpret_cast<const Ipv4Header*>(icmp + sizeof(IcmpHeader));
      size_t inner_available = available - ihl - sizeof(IcmpHeader);
      if (available >= ihl + sizeof(IcmpHeader) + sizeof(Ipv4Header) && inner->version() == 4 &&
          inner->header_length() >= sizeof(Ipv4Header)) {
        flow.inner.src = inner->src.to_host();
        flow.inner.dst = inner->dst.to_host();
        flow.inner.protocol = inner->protocol;
        flow.inner_valid = read_ports(inner, inner_available, flow.inner);
      }
    }
  }

  if (!flow.icmp_error && !flow.trailing_fragment) {
    Direction direction;
    if (conntrack::Entry* e = conntrack_.lookup(flow.key, now, direction)) {
      if (e->generation != static_cast<uint32_t>(g.number()) && !recheck(g, *e)) {
        conntrack_.erase(e);
        drop(m, DropReason::conntrack_aborted);
        return false;
      }
      switch (conntrack_.update(*e, direction, flow.info, now)) {
        case conntrack::Verdict::kAccept: return true;
        case conntrack::Verdict::kInvalid:
          drop(m, DropReason::conntrack_invalid);
          return false;
        case conntrack::Verdict::kNewConnection:
          conntrack_.erase(e);
          break;
      }
    }
  }
  return admit_new(g, m, ip_offset, flow, in, in_vlan, out, now);
}

bool Pipeline::admit_new(const Generation& g, rte_mbuf* m, uint16_t ip_offset, const Flow& flow,
                         uint16_t in, uint16_t in_vlan, int out, uint64_t now) {
  // ICMP errors about a tracked connection are related and pass without a state of their own.
  if (flow.icmp_error && flow.inner_valid) {
    Direction ignored;
    if (conntrack_.lookup(flow.inner, now, ignored)) {
      counters_.event(Event::related_icmp);
      return true;
    }
  }
  std::optional<Role> out_role;
  if (out >= 0) out_role = g.role(static_cast<uint16_t>(out));
  std::optional<FilterList> list = list_for(g.role(in), out_role);
  if (!list) return true;

  // Only a SYN opens a TCP connection.
  if (!flow.trailing_fragment && !flow.icmp_error &&
      !conntrack::opens_connection(flow.key.protocol, flow.info)) {
    drop(m, DropReason::tcp_no_connection);
    return false;
  }

  const FilterRule* rule = nullptr;
  config::DefaultPolicy policy = g.filter().policy(*list);
  config::ActionKind action = config::ActionKind::kAccept;
  if (policy == config::DefaultPolicy::kDrop) {
    action = config::ActionKind::kDrop;
  } else if (policy == config::DefaultPolicy::kRules) {
    rule = g.filter().classify(*list, filter_key(flow.key, in));
    if (!rule) {
      drop(m, DropReason::filter_no_match);
      return false;
    }
    g.filter().hit(res_.worker, rule);
    action = rule->action;
    if (rule->log) log_decision(m, ip_offset, *rule, in, out, now);
  }

  switch (action) {
    case config::ActionKind::kAccept:
      break;
    case config::ActionKind::kReject:
      if (flow.key.protocol == config::kProtoTcp && !flow.trailing_fragment) {
        send_tcp_reset(g, m, ip_offset, now);
      } else {
        send_icmp_error(g, m, ip_offset, in, in_vlan, kIcmpUnreachable, 3, 0, now);
      }
      drop(m, DropReason::filter_reject);
      return false;
    default:
      drop(m, policy == config::DefaultPolicy::kDrop ? DropReason::filter_policy_drop
                                                     : DropReason::filter_rule_drop);
      return false;
  }

  // Accepted: ICMP errors and fragment tails pass alone; everything else opens a connection.
  if (flow.icmp_error || flow.trailing_fragment) return true;
  conntrack::Entry* e = conntrack_.insert(flow.key, flow.info, now);
  if (!e) {
    drop(m, DropReason::conntrack_full);
    return false;
  }
  conntrack_.set_rule_id(*e, rule ? rule->rule_id : 0);
  e->generation = static_cast<uint32_t>(g.number());
  counters_.event(Event::connections_created);
  return true;
}

bool Pipeline::recheck(const Generation& g, conntrack::Entry& e) {
  e.generation = static_cast<uint32_t>(g.number());
  // The box's own connections are not filtered.
  if (!g.filter().abort_on_reconfiguration() || (e.flags & kFromBox)) return true;
  // Where the connection came from and goes: the routes towards its two ends.
  int32_t back = g.route(e.key.src);
  if (back < 0) return false;
  uint16_t in = g.next_hop(back).interface;
  std::optional<Role> out;
  if (!g.is_local(e.key.dst)) {
    int32_t forward = g.route(e.key.dst);
    if (forward < 0) return false;
    out = g.role(g.next_hop(forward).interface);
  }
  std::optional<FilterList> list = list_for(g.role(in), out);
  if (!list) return true;
  switch (g.filter().policy(*list)) {
    case config::DefaultPolicy::kAccept: return true;
    case config::DefaultPolicy::kDrop: return false;
    case config::DefaultPolicy::kRules: break;
  }
  const FilterRule* rule = g.filter().classify(*list, filter_key(e.key, in));
  if (!rule || rule->action != config::ActionKind::kAccept) return false;
  conntrack_.set_rule_id(e, rule->rule_id);
  return true;
}

void Pipeline::track_injected(const Generation& g, const rte_mbuf* frame, uint64_t now) {
  // The kernel's frames are untagged or carry one tag.
  if (rte_pktmbuf_data_len(frame) < sizeof(EthernetHeader)) return;
  const auto* eth = rte_pktmbuf_mtod(frame, const EthernetHeader*);
  uint16_t offset = sizeof(EthernetHeader);
  uint16_t type = eth->ether_type.to_host();
  if (type == kEtherTypeVlan && rte_pktmbuf_data_len(frame) >= offset + sizeof(VlanTag)) {
    type = reinterpret_cast<const VlanTag*>(eth + 1)->ether_type.to_host();
    offset += sizeof(VlanTag);
  }
  if (type != kEtherTypeIpv4 || rte_pktmbuf_data_len(frame) < offset + sizeof(Ipv4Header)) return;
  const auto* ip = rte_pktmbuf_mtod_offset(frame, const Ipv4Header*, offset);
  if (ip->version() != 4 || ip->fragment_offset() != 0) return;
  FlowKey key;
  key.src = ip->src.to_host();
  key.dst = ip->dst.to_host();
  key.protocol = ip->protocol;
  if (!read_ports(ip, rte_pktmbuf_data_len(frame) - offset, key)) return;
  PacketInfo info;
  info.length = ip->total_length.to_host();
  if (ip->protocol == config::kProtoTcp &&
      rte_pktmbuf_data_len(frame) >= offset + ip->header_length() + sizeof(TcpHeader)) {
    const auto* tcp = reinterpret_cast<const TcpHeader*>(reinterpret_cast<const uint8_t*>(ip) + ip->header_length());
    info.tcp_flags = tcp->flags;
    info.seq = tcp->seq.to_host();
    info.ack = tcp->ack.to_host();
    info.window = tcp->window.to_host();
  }
  Direction direction;
  if (conntrack::Entry* e = conntrack_.lookup(key, now, direction)) {
    conntrack_.update(*e, direction, info, now);
    return;
  }
  if (ip->protocol == config::kProtoTcp && (info.tcp_flags & conntrack::kTcpSyn) == 0) return;
  if (conntrack::Entry* e = conntrack_.insert(key, info, now)) {
    e->generation = static_cast<uint32_t>(g.number());
    e->flags |= kFromBox;
    counters_.event(Event::connections_created);
  }
}

void Pipeline::age(uint64_t now) {
  size_t expired = conntrack_.sweep(now, 64);
  if (expired) counters_.event(Event::connections_expired, expired);
}

}  // namespace bulwark::dataplane

namespace bulwark::dataplane {

void Pipeline::send_tcp_reset(const Generation& g, const rte_mbuf* offending, uint16_t ip_offset,
                              uint64_t now) {
  const auto* ip = rte_pktmbuf_mtod_offset(offending, const Ipv4Header*, ip_offset);
  size_t ihl = ip->header_length();
  const auto* tcp = reinterpret_cast<const TcpHeader*>(reinterpret_cast<const uint8_t*>(ip) + ihl);
  if (tcp->flags & conntrack::kTcpRst) return;  // never answer a reset
  if (!icmp_allowed(now)) return;
  rte_mbuf* m = rte_pktmbuf_alloc(res_.pool);
  if (!m) {
    counters_.event(Event::tx_generated_failed);
    return;
  }
  auto* out = reinterpret_cast<Ipv4Header*>(rte_pktmbuf_append(m, sizeof(Ipv4Header) + sizeof(TcpHeader)));
  if (!out) {
    rte_pktmbuf_free(m);
    counters_.event(Event::tx_generated_failed);
    return;
  }
  out->version_ihl = 0x45;
  out->tos = 0;
  out->total_length = Be16::from_host(sizeof(Ipv4Header) + sizeof(TcpHeader));
  out->id = Be16{};
  out->fragment = Be16{};
  out->ttl = 64;
  out->protocol = config::kProtoTcp;
  out->src = ip->dst;
  out->dst = ip->src;
  ipv4_set_checksum(*out);
  auto* rst = reinterpret_cast<TcpHeader*>(out + 1);
  rst->src_port = tcp->dst_port;
  rst->dst_port = tcp->src_port;
  rst->data_offset = 5 << 4;
  rst->window = Be16{};
  rst->urgent = Be16{};
  if (tcp->flags & conntrack::kTcpAck) {
    // RFC 793: the reset takes its sequence number from the ACK field.
    rst->seq = tcp->ack;
    rst->ack = Be32{};
    rst->flags = conntrack::kTcpRst;
  } else {
    uint32_t segment = ip->total_length.to_host() - static_cast<uint32_t>(ihl) - (tcp->data_offset >> 4) * 4u;
    uint32_t ack = tcp->seq.to_host() + segment + ((tcp->flags & conntrack::kTcpSyn) ? 1 : 0) +
                   ((tcp->flags & conntrack::kTcpFin) ? 1 : 0);
    rst->seq = Be32{};
    rst->ack = Be32::from_host(ack);
    rst->flags = conntrack::kTcpRst | conntrack::kTcpAck;
  }
  rst->checksum = Be16{};
  // Pseudo header: source, destination, zero, protocol, TCP length.
  uint8_t pseudo[12];
  std::memcpy(pseudo, &out->src, 4);
  std::memcpy(pseudo + 4, &out->dst, 4);
  pseudo[8] = 0;
  pseudo[9] = config::kProtoTcp;
  pseudo[10] = 0;
  pseudo[11] = sizeof(TcpHeader);
  uint32_t sum = checksum_add(checksum_add(0, pseudo, sizeof pseudo), rst, sizeof(TcpHeader));
  rst->checksum = Be16::from_host(checksum_finish(sum));
  send_generated_ip(g, m, now);
}

void Pipeline::log_decision(const rte_mbuf* m, uint16_t ip_offset,
                            const FilterRule& rule, uint16_t in, int out, uint64_t now) {
  if (!res_.log) return;
  if (now > log_refill_) {
    log_tokens_ = std::min(kLogBurst, log_tokens_ + double(now - log_refill_) * kLogRate / double(res_.hz));
  }
  log_refill_ = now;
  if (log_tokens_ < 1) {
    counters_.event(Event::log_rate_limited);
    return;
  }
  log_tokens_ -= 1;
  const auto* ip = rte_pktmbuf_mtod_offset(m, const Ipv4Header*, ip_offset);
  LogRecord r;
  r.time = now;
  r.rule_id = rule.rule_id;
  r.record_rule_id = rule.record_rule_id;
  r.src = ip->src.to_host();
  r.dst = ip->dst.to_host();
  r.length = ip->total_length.to_host();
  r.ip_id = ip->id.to_host();
  r.in_interface = in;
  r.out_interface = out < 0 ? 0xffff : static_cast<uint16_t>(out);
  r.position = rule.position;
  r.list = static_cast<uint8_t>(rule.list);
  r.action = static_cast<uint8_t>(rule.action);
  r.protocol = ip->protocol;
  r.tos = ip->tos;
  r.ttl = ip->ttl;
  const uint8_t* l4 = reinterpret_cast<const uint8_t*>(ip) + ip->header_length();
  size_t available = rte_pktmbuf_data_len(m) - ip_offset - ip->header_length();
  if (ip->fragment_offset() == 0) {
    if ((ip->protocol == config::kProtoTcp || ip->protocol == config::kProtoUdp) && available >= 4) {
      r.src_port = static_cast<uint16_t>(l4[0] << 8 | l4[1]);
      r.dst_port = static_cast<uint16_t>(l4[2] << 8 | l4[3]);
    } else if (ip->protocol == config::kProtoIcmp && available >= 8) {
      r.icmp_type = l4[0];
      r.icmp_code = l4[1];
      r.src_port = static_cast<uint16_t>(l4[4] << 8 | l4[5]);
      r.dst_port = static_cast<uint16_t>(l4[6] << 8 | l4[7]);
    }
  }
  std::strncpy(r.comment, rule.comment.c_str(), sizeof r.comment - 1);
  if (res_.log->push(r)) {
    counters_.event(Event::log_lines);
  } else {
    counters_.event(Event::log_rate_limited);
  }
}

}  // namespace bulwark::dataplane
