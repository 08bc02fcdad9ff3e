// Log records of the packet filter's rules and of port forwardings (`log: true`), for the
// control plane's log (docs/firewall.md, "Logging"): filled on the worker, rate-limited per
// worker, and pushed into its single-producer ring; bulwark-control formats them
// (log_format.cc).
#include <algorithm>
#include <cstring>

#include "dataplane/headers.h"
#include "dataplane/pipeline.h"

namespace bulwark::dataplane {
namespace {

constexpr double kLogRate = 200;  // lines per second per worker
constexpr double kLogBurst = 200;

}  // namespace

bool Pipeline::log_allowed(uint64_t now) {
  if (!res_.log) return false;
  if (now > log_refill_) {
    log_tokens_ = std::min(kLogBurst, log_tokens_ + double(now - log_refill_) * kLogRate / double(res_.hz));
  }
  log_refill_ = now;
  if (log_tokens_ < 1) {
    counters_.event(Event::log_rate_limited);
    return false;
  }
  log_tokens_ -= 1;
  return true;
}

LogRecord Pipeline::describe(const rte_mbuf* m, uint16_t ip_offset, uint64_t now) const {
  const auto* ip = rte_pktmbuf_mtod_offset(m, const Ipv4Header*, ip_offset);
  LogRecord r;
  r.time = now;
  r.src = ip->src.to_host();
  r.dst = ip->dst.to_host();
  r.length = ip->total_length.to_host();
  r.ip_id = ip->id.to_host();
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
  return r;
}

void Pipeline::push_log(const LogRecord& r) {
  if (res_.log->push(r)) {
    counters_.event(Event::log_lines);
  } else {
    counters_.event(Event::log_rate_limited);
  }
}

void Pipeline::log_decision(const rte_mbuf* m, uint16_t ip_offset,
                            const FilterRule& rule, uint16_t in, int out, uint64_t now, const UserMatch* user) {
  if (!log_allowed(now)) return;
  LogRecord r = describe(m, ip_offset, now);
  r.rule_id = rule.rule_id;
  r.record_rule_id = rule.record_rule_id;
  r.in_interface = in;
  r.out_interface = out < 0 ? 0xffff : static_cast<uint16_t>(out);
  r.position = rule.position;
  r.list = static_cast<uint8_t>(rule.list);
  r.connection = rule.connection;
  if (user) {  // a template's rule: the list and VPN connection it was applied as
    r.list = static_cast<uint8_t>(user->list);
    r.connection = user->connection;
    r.user_template = rule.user_template;
    r.session = user->session;
  }
  r.action = static_cast<uint8_t>(rule.action);
  std::strncpy(r.comment, rule.comment.c_str(), sizeof r.comment - 1);
  push_log(r);
}

void Pipeline::log_forwarding(const rte_mbuf* m, uint16_t ip_offset, const conntrack::FlowKey& original,
                              const conntrack::FlowKey& to, uint16_t position, uint16_t in, int out, uint64_t now) {
  if (!log_allowed(now)) return;
  LogRecord r = describe(m, ip_offset, now);
  // The connection as it arrived (the forwarded address and port), and where it goes.
  r.src = original.src;
  r.dst = original.dst;
  if (original.protocol == config::kProtoTcp || original.protocol == config::kProtoUdp) {
    r.src_port = original.src_port;
    r.dst_port = original.dst_port;
  }
  r.forwarding = true;
  r.position = position;
  r.to_ip = to.dst;
  r.to_port = to.dst_port;
  r.in_interface = in;
  r.out_interface = out < 0 ? 0xffff : static_cast<uint16_t>(out);
  push_log(r);
}

}  // namespace bulwark::dataplane
