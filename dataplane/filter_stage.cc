// The stateful packet filter stage: connection lookup on the fast path; classification of new
// connections, related ICMP errors and rejects on the slow path (log records: firewall_log.cc).
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
#include "nat/rewrite.h"

namespace bulwark::dataplane {
namespace {

using config::Role;
using conntrack::Direction;
using conntrack::FlowKey;
using conntrack::PacketInfo;

// Entry::flags kFromBox and kThroughVpn: pipeline.h. (conntrack::kUserSession: admitted by a
// user-firewall grant; user_firewall_stage.cc)

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

// Parses what the filter and the translations need; false when the transport header is cut short.
static bool parse_flow(const Ipv4Header* ip, size_t available, Pipeline::Flow& flow) {
  flow.key.src = ip->src.to_host();
  flow.key.dst = ip->dst.to_host();
  flow.key.protocol = ip->protocol;
  flow.info.length = ip->total_length.to_host();
  size_t ihl = ip->header_length();
  if (ip->fragment_offset() != 0) {
    flow.trailing_fragment = true;
    return true;
  }
  if (!read_ports(ip, available, flow.key)) return false;
  if (ip->protocol == config::kProtoTcp) {
    if (available < ihl + sizeof(TcpHeader)) return false;
    const auto* tcp = reinterpret_cast<const TcpHeader*>(reinterpret_cast<const uint8_t*>(ip) + ihl);
    size_t doff = (tcp->data_offset >> 4) * 4u;
    flow.info.tcp_flags = tcp->flags;
    flow.info.seq = tcp->seq.to_host();
    flow.info.ack = tcp->ack.to_host();
    flow.info.window = tcp->window.to_host();
    uint32_t segment = flow.info.length > ihl ? flow.info.length - static_cast<uint32_t>(ihl) : 0;
    flow.info.payload = segment > doff ? segment - static_cast<uint32_t>(doff) : 0;
    if ((tcp->flags & conntrack::kTcpSyn) && doff > sizeof(TcpHeader) && available >= ihl + doff) {
      flow.info.window_scale =
          window_scale(reinterpret_cast<const uint8_t*>(tcp + 1), doff - sizeof(TcpHeader));
    }
  } else if (ip->protocol == config::kProtoIcmp) {
    flow.icmp_error = is_icmp_error_type(reinterpret_cast<const uint8_t*>(ip)[ihl]);
  }
  return true;
}

bool Pipeline::prepare_flow(rte_mbuf* m, uint16_t ip_offset, Flow& flow) {
  const auto* ip = rte_pktmbuf_mtod_offset(m, const Ipv4Header*, ip_offset);
  if (!parse_flow(ip, rte_pktmbuf_data_len(m) - ip_offset, flow)) return false;
  if (!flow.trailing_fragment && !flow.icmp_error) flow.hash = conntrack_.prefetch(flow.key);
  return true;
}

bool Pipeline::track(const Generation& g, rte_mbuf* m, uint16_t ip_offset, uint64_t now,
                     Flow& flow) {
  auto* ip = rte_pktmbuf_mtod_offset(m, Ipv4Header*, ip_offset);
  auto* bytes = reinterpret_cast<uint8_t*>(ip);
  size_t available = rte_pktmbuf_data_len(m) - ip_offset;
  const nat::Rules& rules = g.nat();

  if (flow.trailing_fragment) {
    // No ports: only the static 1:1 mapping can translate it.
    if (auto real = rules.virtual_to_real(flow.key.dst)) {
      conntrack::FlowKey to = flow.key;
      to.dst = *real;
      nat::rewrite(bytes, available, to);
    } else if (rules.is_stateful_address(flow.key.dst)) {
      drop(m, DropReason::nat_fragment);
      return false;
    }
    flow.is_new = true;
    return true;
  }

  if (flow.icmp_error) {
    // Related to a tracked connection (its embedded header is looked up from the embedded
    // packet's receiver's side), and translated back when the connection is.
    const size_t ihl = ip->header_length();
    conntrack::FlowKey inner;
    if (available >= ihl + sizeof(IcmpHeader) + sizeof(Ipv4Header) &&
        nat::read_tuple(bytes + ihl + sizeof(IcmpHeader), available - ihl - sizeof(IcmpHeader), inner)) {
      Direction d;
      if (conntrack::Entry* e = conntrack_.lookup(inner.reversed(), now, d)) {
        conntrack::FlowKey reply = conntrack_.reply_key(*e);
        if (!(reply == e->key.reversed())) {
          // The embedded packet as its sender sent it, the error to that sender; and when the
          // embedded destination was translated (a forwarded or 1:1 host, or a router on its
          // side, reports it), the error comes from the address that side is known by outside.
          const conntrack::FlowKey& to = d == Direction::kReply ? e->key : reply;
          nat::rewrite_icmp_error(bytes, available, to, to.src, to.dst != inner.dst ? to.dst : 0);
        }
        counters_.event(Event::related_icmp);
        return true;
      }
    }
    flow.is_new = true;
    return true;
  }

  Direction direction;
  if (conntrack::Entry* e = conntrack_.lookup(flow.key, flow.hash, now, direction)) {
    // A user firewall connection lives as long as its session (logout, expiry end it).
    int32_t user = -1;
    if ((e->flags & conntrack::kUserSession) && (user = user_slot(*e)) < 0) {
      conntrack_.erase(e);
      drop(m, DropReason::user_session_ended);
      return false;
    }
    if (e->generation != static_cast<uint32_t>(g.number()) && !recheck(g, *e)) {
      conntrack_.erase(e);
      drop(m, DropReason::conntrack_aborted);
      return false;
    }
    switch (conntrack_.update(*e, direction, flow.info, now)) {
      case conntrack::Verdict::kAccept: {
        if (user >= 0 && flow.key.protocol != config::kProtoIcmp) {
          users_->record_activity(res_.worker, static_cast<uint32_t>(user), now, res_.hz);  // dynamic timeout, 9.3.3
        }
        if (!(e->flags & conntrack::kTranslated)) return true;  // replies carry the key reversed
        conntrack::FlowKey reply = conntrack_.reply_key(*e);
        if (!(reply == e->key.reversed())) {
          nat::rewrite(bytes, available, direction == Direction::kOriginal ? reply.reversed() : e->key.reversed());
        }
        return true;
      }
      case conntrack::Verdict::kInvalid:
        drop(m, DropReason::conntrack_invalid);
        return false;
      case conntrack::Verdict::kNewConnection:
        conntrack_.erase(e);
        break;
    }
  }

  // A new connection: destination NAT now, so that routing and the filter see the real host.
  flow.is_new = true;
  if (auto dnat = rules.destination(flow.key)) {
    conntrack::FlowKey to = flow.key;
    to.dst = dnat->dst;
    if (flow.key.protocol == config::kProtoTcp || flow.key.protocol == config::kProtoUdp) {
      to.dst_port = dnat->dst_port;
    }
    nat::rewrite(bytes, available, to);
    flow.forwarded = dnat->forwarded;
  }
  return true;
}

bool Pipeline::admit_new(const Generation& g, rte_mbuf* m, uint16_t ip_offset, const Flow& flow,
                         uint16_t in, uint16_t in_vlan, int out, uint64_t now) {
  auto* bytes = rte_pktmbuf_mtod_offset(m, uint8_t*, ip_offset);
  size_t available = rte_pktmbuf_data_len(m) - ip_offset;
  conntrack::FlowKey now_key;  // the tuple as it is now, after destination NAT
  nat::read_tuple(bytes, available, now_key);

  // The packet filter, unless a port forwarding took the connection (manual 4.4.2 NOTE).
  std::optional<Role> out_role;
  if (out >= 0) out_role = g.role(static_cast<uint16_t>(out));
  const std::optional<FilterList> chosen =
      flow.forwarded ? std::nullopt : list_for(g.role(in), out_role);
  const bool filtered = chosen.has_value();
  const FilterList list = chosen.value_or(FilterList::kIncoming);

  // Traffic that is neither filtered nor translated (between internal interfaces, from inside to
  // the box) needs no connection at all.
  const bool destination_translated =
      now_key.dst != flow.key.dst || now_key.dst_port != flow.key.dst_port;
  if (!filtered && !destination_translated &&
      (out < 0 || !g.nat().source(now_key, static_cast<uint16_t>(out)))) {
    return true;
  }

  // Only a SYN opens a TCP connection.
  if (!flow.trailing_fragment && !flow.icmp_error &&
      !conntrack::opens_connection(flow.key.protocol, flow.info)) {
    drop(m, DropReason::tcp_no_connection);
    return false;
  }
  const FilterRule* rule = nullptr;
  // Logged-in users' templates come before the list (manual 9.1).
  UserMatch user;
  if (filtered && users_ && !users_->empty()) {
    user = match_user(g, list, config::kNoIndex, filter_key(now_key, in), now_key.src);
  }
  if (user.rule) {
    rule = user.rule;
    user_accepted(g, user, in, out, m, ip_offset, now);
  } else if (filtered) {
    config::DefaultPolicy policy = g.filter().policy(list);
    config::ActionKind action = config::ActionKind::kAccept;
    if (policy == config::DefaultPolicy::kDrop) {
      action = config::ActionKind::kDrop;
    } else if (policy == config::DefaultPolicy::kRules) {
      rule = g.filter().classify(list, filter_key(now_key, in));
      if (!rule) {
        drop(m, DropReason::filter_no_match);
        return false;
      }
      g.filter().hit(res_.worker, rule);
      action = rule->action;
      if (rule->log) log_decision(m, ip_offset, *rule, in, out, now);
    }
    if (action == config::ActionKind::kReject) {
      if (flow.key.protocol == config::kProtoTcp && !flow.trailing_fragment) {
        send_tcp_reset(g, m, ip_offset, flow.key, now);
      } else {
        send_icmp_error(g, m, ip_offset, in, in_vlan, kIcmpUnreachable, 3, 0, now, &flow.key);
      }
      drop(m, DropReason::filter_reject);
      return false;
    }
    if (action != config::ActionKind::kAccept) {
      drop(m, policy == config::DefaultPolicy::kDrop ? DropReason::filter_policy_drop
                                                     : DropReason::filter_rule_drop);
      return false;
    }
  }

  // Source NAT: 1:1 towards the virtual network, masquerading, or the hairpin of a forwarding.
  std::optional<nat::SourceNat> snat;
  if (out >= 0) {
    if (flow.trailing_fragment) {
      if (auto v = g.nat().real_to_virtual(now_key.src, static_cast<uint16_t>(out))) {
        conntrack::FlowKey to = now_key;
        to.src = *v;
        nat::rewrite(bytes, available, to);
      } else if (g.nat().source(now_key, static_cast<uint16_t>(out))) {
        // Masquerading needs the connection, which a fragment without ports cannot name.
        drop(m, DropReason::nat_fragment);
        return false;
      }
      return true;
    }
    snat = g.nat().source(now_key, static_cast<uint16_t>(out));
    if (!snat && flow.forwarded && out == in) snat = nat::SourceNat{g.first_address(in, in_vlan), true};
  }
  // ICMP errors and fragment tails pass alone; everything else opens a connection.
  if (flow.icmp_error || flow.trailing_fragment) return true;

  conntrack::FlowKey translated = now_key;
  if (snat) {
    translated.src = snat->src;
    if (snat->allocate_port && !allocate_port(g, now_key, translated, now)) {
      drop(m, DropReason::nat_ports_exhausted);
      return false;
    }
    nat::rewrite(bytes, available, translated);
  }
  conntrack::Entry* e = conntrack_.insert(flow.key, flow.info, now, translated.reversed());
  if (!e) {
    drop(m, DropReason::conntrack_full);
    return false;
  }
  conntrack_.set_rule_id(*e, rule ? rule->rule_id : 0);
  if (user.rule) mark_user(*e, user);
  e->generation = static_cast<uint32_t>(g.number());
  counters_.event(Event::connections_created);
  if (flow.forwarded) {
    if (auto d = g.nat().destination(flow.key); d && d->log) log_forwarding(m, ip_offset, flow.key, now_key, d->position, in, out, now);
  }
  return true;
}

bool Pipeline::admit_vpn(const Generation& g, rte_mbuf* m, uint16_t ip_offset, const Flow& flow, const SaRuntime* from,
                         const SaRuntime* to, uint16_t in, uint16_t in_vlan, int out, uint32_t masquerade,
                         uint64_t now) {
  auto* bytes = rte_pktmbuf_mtod_offset(m, uint8_t*, ip_offset);
  const size_t available = rte_pktmbuf_data_len(m) - ip_offset;
  conntrack::FlowKey now_key;
  nat::read_tuple(bytes, available, now_key);

  const FilterKey key = filter_key(now_key, in);
  const FilterRule* decided = nullptr;
  UserMatch user;  // a grant of a template bound to the connection, before its list
  // Out of one tunnel (its incoming list), into one (its outgoing list), or both (hub and spoke).
  for (const SaRuntime* sa : {from, to}) {
    if (!sa) continue;
    const bool incoming = sa == from;
    const int connection = g.vpn_connection(*sa);
    if (connection < 0) continue;  // no longer configured: only its SA remains, until deleted
    const auto c = static_cast<uint16_t>(connection);
    if (users_ && !users_->empty()) {
      const UserMatch u = match_user(g, incoming ? FilterList::kIncoming : FilterList::kOutgoing, c, key, now_key.src);
      if (u.rule) {
        user_accepted(g, u, in, out, m, ip_offset, now);
        user = u;
        decided = u.rule;
        continue;
      }
    }
    config::ActionKind action = config::ActionKind::kAccept;
    switch (g.filter().vpn_policy(c, incoming)) {
      case config::DefaultPolicy::kAccept: break;
      case config::DefaultPolicy::kDrop: action = config::ActionKind::kDrop; break;
      case config::DefaultPolicy::kRules: {
        const FilterRule* rule = g.filter().classify_vpn(c, incoming, key);
        if (!rule) {
          drop(m, DropReason::filter_no_match);
          return false;
        }
        g.filter().hit(res_.worker, rule);
        if (rule->log) log_decision(m, ip_offset, *rule, in, out, now);
        action = rule->action;
        decided = rule;
        break;
      }
    }
    if (action == config::ActionKind::kReject) {
      // The answer goes back through the tunnel (send_generated_ip protects it), from the box's
      // address on the side of the tunnel's local network, which the tunnel carries.
      // Out of a tunnel with 1:1 NAT, it answers the tunnel's addresses (as_sent).
      const conntrack::FlowKey sent = incoming ? as_sent(g, flow.key) : flow.key;
      if (flow.key.protocol == config::kProtoTcp && !flow.trailing_fragment) {
        send_tcp_reset(g, m, ip_offset, sent, now);
      } else if (incoming && out >= 0) {
        send_icmp_error(g, m, ip_offset, static_cast<uint16_t>(out), 0, kIcmpUnreachable, 3, 0, now, &sent, true);
      } else {
        send_icmp_error(g, m, ip_offset, in, in_vlan, kIcmpUnreachable, 3, 0, now, &sent, incoming);
      }
      drop(m, DropReason::filter_reject);
      return false;
    }
    if (action != config::ActionKind::kAccept) {
      drop(m, decided ? DropReason::filter_rule_drop : DropReason::filter_policy_drop);
      return false;
    }
  }
  if (!flow.trailing_fragment && !flow.icmp_error && !conntrack::opens_connection(flow.key.protocol, flow.info)) {
    drop(m, DropReason::tcp_no_connection);
    return false;
  }
  if (flow.icmp_error || flow.trailing_fragment) {
    if (!masquerade) return true;
    // Masquerading needs a connection, which neither can open: an ICMP error that belongs to no
    // connection, or a fragment that was not reassembled (from another tunnel: hub and spoke).
    drop(m, flow.icmp_error ? DropReason::conntrack_invalid : DropReason::nat_fragment);
    return false;
  }
  conntrack::FlowKey translated = now_key;
  if (masquerade) {
    translated.src = masquerade;
    if (!allocate_port(g, now_key, translated, now)) {
      drop(m, DropReason::nat_ports_exhausted);
      return false;
    }
    nat::rewrite(bytes, available, translated);
  }
  conntrack::Entry* e = conntrack_.insert(flow.key, flow.info, now, translated.reversed());
  if (!e) {
    drop(m, DropReason::conntrack_full);
    return false;
  }
  e->flags |= kThroughVpn;
  conntrack_.set_rule_id(*e, decided ? decided->rule_id : 0);
  if (user.rule) mark_user(*e, user);
  e->generation = static_cast<uint32_t>(g.number());
  counters_.event(Event::connections_created);
  return true;
}

namespace {

// Where masquerading starts probing for a port: a mix (splitmix64's finaliser) of the internal
// connection, so that it is spread over the range and the same on every run (replays repeat).
uint64_t port_probe_start(const conntrack::FlowKey& k) {
  uint64_t x = (uint64_t{k.src} << 32 | k.dst) ^ (uint64_t{k.src_port} << 24 | uint64_t{k.dst_port} << 8 | k.protocol);
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

bool Pipeline::allocate_port(const Generation& g, const conntrack::FlowKey& internal,
                             conntrack::FlowKey& t, uint64_t now) {
  config::PortRange range = g.nat().port_range();
  bool ports = t.protocol == config::kProtoTcp || t.protocol == config::kProtoUdp ||
               t.protocol == config::kProtoIcmp;
  if (!ports) return true;
  // Endpoint-independent mapping: the endpoint's port of its earlier connections, and no port
  // of another endpoint's. A mapping lives for the UDP-assured timeout after its last new
  // connection (docs/nat.md).
  const bool eim = g.nat().endpoint_independent();
  auto set_port = [&](uint16_t port) {
    t.src_port = port;
    if (t.protocol == config::kProtoIcmp) t.dst_port = port;
  };
  auto claim = [&]() {
    if (eim) {
      endpoint_mappings_.remember(t.protocol, internal.src, internal.src_port, t.src, t.src_port,
                                  now + g.timeouts().udp_assured, now);
    }
    return true;
  };
  if (eim) {
    if (auto mapped = endpoint_mappings_.port_of(t.protocol, internal.src, internal.src_port, t.src, now)) {
      set_port(*mapped);
      if (conntrack_.unused(t, now)) return claim();
    }
  }
  auto free_port = [&]() {
    return conntrack_.unused(t, now) &&
           !(eim && endpoint_mappings_.taken_by_other(t.protocol, t.src, t.src_port, internal.src,
                                                       internal.src_port, now));
  };
  // Keep the source port when it is free (also outside the range: ICMP identifiers, low ports).
  set_port(t.src_port);
  if (free_port()) return claim();
  // Else probe the range from a point given by a hash of the connection: hosts that all use the
  // same source port towards one server then find a free port in about one probe each, where
  // probing upwards from their common port would cost the n-th of them n probes.
  uint32_t size = uint32_t{range.high} - range.low + 1;
  uint32_t offset = static_cast<uint32_t>(port_probe_start(internal) % size);
  constexpr uint32_t kMaxProbes = 4096;
  for (uint32_t i = 0; i < std::min(size, kMaxProbes); ++i) {
    set_port(static_cast<uint16_t>(range.low + (offset + i) % size));
    if (free_port()) return claim();
  }
  return false;
}

bool Pipeline::recheck(const Generation& g, conntrack::Entry& e) {
  e.generation = static_cast<uint32_t>(g.number());
  // A translation through an address the box no longer has (a new DHCP lease, an address taken
  // out of the configuration) cannot carry its connection on: aborted, whatever the filter says.
  if ((e.flags & conntrack::kTranslated) && !(e.flags & kThroughVpn)) {
    const conntrack::FlowKey reply = conntrack_.reply_key(e);
    auto gone = [&](uint32_t address) { return !g.is_local(address) && !g.nat().virtual_to_real(address); };
    if (reply.dst != e.key.src && gone(reply.dst)) return false;  // masqueraded to it
    if (reply.src != e.key.dst && gone(e.key.dst)) return false;  // forwarded from it
  }
  // The box's own connections are not filtered; forwarded ones never were.
  // VPN connections stay: their SAs, not the interface lists, decide (docs/esp.md).
  if (!g.filter().abort_on_reconfiguration() || (e.flags & (kFromBox | kThroughVpn))) return true;
  auto dnat = g.nat().destination(e.key);
  if (dnat && dnat->forwarded) return true;
  // The connection as the filter saw it: after destination NAT.
  conntrack::FlowKey seen = e.key;
  conntrack::FlowKey reply = conntrack_.reply_key(e);
  if (!(reply == e.key.reversed())) {
    seen.dst = reply.src;
    seen.dst_port = reply.src_port;
  }
  // Where the connection came from and goes: the routes towards its two ends.
  int32_t back = g.route(seen.src);
  if (back < 0) return false;
  uint16_t in = g.next_hop(back).interface;
  std::optional<Role> out;
  if (!g.is_local(seen.dst)) {
    int32_t forward = g.route(seen.dst);
    if (forward < 0) return false;
    out = g.role(g.next_hop(forward).interface);
  }
  std::optional<FilterList> list = list_for(g.role(in), out);
  if (!list) return true;
  // A logged-in user's connection stays while its session's templates still accept it.
  if (e.flags & conntrack::kUserSession) {
    const UserMatch u = match_user(g, *list, config::kNoIndex, filter_key(seen, in), seen.src, conntrack_.session(e));
    if (u.rule) {
      conntrack_.set_rule_id(e, u.rule->rule_id);
      return true;
    }
  }
  switch (g.filter().policy(*list)) {
    case config::DefaultPolicy::kAccept: return true;
    case config::DefaultPolicy::kDrop: return false;
    case config::DefaultPolicy::kRules: break;
  }
  const FilterRule* rule = g.filter().classify(*list, filter_key(seen, in));
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
                              const conntrack::FlowKey& original, uint64_t now) {
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
  out->src = Be32::from_host(original.dst);
  out->dst = Be32::from_host(original.src);
  ipv4_set_checksum(*out);
  auto* rst = reinterpret_cast<TcpHeader*>(out + 1);
  rst->src_port = Be16::from_host(original.dst_port);
  rst->dst_port = Be16::from_host(original.src_port);
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

}  // namespace bulwark::dataplane
