#include "dataplane/log_format.h"

#include <fmt/format.h>

#include "config/net_types.h"
#include "config/tables.h"
#include "dataplane/filter.h"

namespace bulwark::dataplane {
namespace {

std::string name_of(uint16_t index, const std::vector<std::string>& names) {
  return index < names.size() ? names[index] : std::string{};
}

const char* action_name(uint8_t action) {
  switch (static_cast<config::ActionKind>(action)) {
    case config::ActionKind::kAccept: return "ACCEPT";
    case config::ActionKind::kReject: return "REJECT";
    default: return "DROP";
  }
}

}  // namespace

std::string format_log(const LogRecord& r, const std::vector<std::string>& names,
                       const std::vector<std::string>& vpn_names, const std::vector<std::string>& template_names) {
  const char* list = filter_list_name(static_cast<FilterList>(r.list));
  std::string prefix = r.user_template != 0xffff && r.connection == 0xffff ? fmt::format("fw-user-{}", list)
                       : r.user_template != 0xffff
                           ? fmt::format("fw-user-vpn_{}-{}", name_of(r.connection, vpn_names),
                                         static_cast<FilterList>(r.list) == FilterList::kIncoming ? "in" : "out")
                       : r.connection == 0xffff
                           ? fmt::format("fw-{}", list)
                           : fmt::format("fw-vpn_{}-{}", name_of(r.connection, vpn_names),
                                         static_cast<FilterList>(r.list) == FilterList::kIncoming ? "in" : "out");
  if (r.forwarding) prefix = "fwd";
  std::string line = fmt::format(
      "{}-{} act={} IN={} OUT={} SRC={} DST={} LEN={} TOS=0x{:02x} TTL={} ID={}", prefix, r.position,
      r.forwarding ? "FORWARD" : action_name(r.action),
      name_of(r.in_interface, names), name_of(r.out_interface, names),
      config::Ipv4Address{r.src}.str(), config::Ipv4Address{r.dst}.str(), r.length, r.tos, r.ttl,
      r.ip_id);
  switch (r.protocol) {
    case config::kProtoTcp: line += fmt::format(" PROTO=TCP SPT={} DPT={}", r.src_port, r.dst_port); break;
    case config::kProtoUdp: line += fmt::format(" PROTO=UDP SPT={} DPT={}", r.src_port, r.dst_port); break;
    case config::kProtoIcmp:
      line += fmt::format(" PROTO=ICMP TYPE={} CODE={}", r.icmp_type, r.icmp_code);
      if (r.icmp_type == 0 || r.icmp_type == 8) line += fmt::format(" ID={} SEQ={}", r.src_port, r.dst_port);
      break;
    default: line += fmt::format(" PROTO={}", r.protocol);
  }
  if (r.forwarding) {
    line += r.protocol == config::kProtoTcp || r.protocol == config::kProtoUdp
                ? fmt::format(" TO={}:{}", config::Ipv4Address{r.to_ip}.str(), r.to_port)
                : fmt::format(" TO={}", config::Ipv4Address{r.to_ip}.str());
    return line;
  }
  line += fmt::format(" RULE={}", r.rule_id);
  if (r.record_rule_id) line += fmt::format(" RECORD-RULE={}", r.record_rule_id);
  if (r.user_template != 0xffff) {
    line += fmt::format(" TEMPLATE=\"{}\" SESSION={}", name_of(r.user_template, template_names), r.session);
  }
  if (r.comment[0]) line += fmt::format(" \"{}\"", r.comment);
  return line;
}

}  // namespace bulwark::dataplane
