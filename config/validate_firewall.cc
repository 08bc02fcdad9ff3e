// Semantic checks of the packet filter, rule records and user firewall, and the lint of the
// manual's chapter 7: rules that can never match, and source ports set to service ports.
#include <fmt/format.h>

#include "config/resolve.h"
#include "config/services.h"
#include "config/validate_context.h"

namespace bulwark::config {
namespace {

bool is_port_protocol(const Protocol& p) { return p == kProtoTcp || p == kProtoUdp; }

std::string protocol_name(const Protocol& p) {
  if (!p) return "all";
  switch (*p) {
    case kProtoIcmp: return "icmp";
    case kProtoTcp: return "tcp";
    case kProtoUdp: return "udp";
    case kProtoGre: return "gre";
    case kProtoEsp: return "esp";
    case kProtoAh: return "ah";
    default: return fmt::format("protocol {}", *p);
  }
}

std::string action_name(const Rule& r) {
  if (const auto* record = std::get_if<std::string>(&r.action)) return "record " + *record;
  switch (std::get<Verdict>(r.action)) {
    case Verdict::kAccept: return "accept";
    case Verdict::kDrop: return "drop";
    case Verdict::kReject: return "reject";
  }
  return "";
}

struct Resolved {
  const Rule* rule;
  std::vector<Ipv4Prefix> from, to;
  std::vector<PortRange> from_ports, to_ports;
};

// True when every packet `later` matches is matched by `earlier` first.
bool shadows(const Resolved& earlier, const Resolved& later) {
  const Rule& e = *earlier.rule;
  const Rule& l = *later.rule;
  // A rule that jumps to a record decides only when one of the record's rules matches (and not
  // at all while the record is inactive): it never hides the rules after it.
  if (std::holds_alternative<std::string>(e.action)) return false;
  if (e.interface && e.interface != l.interface) return false;
  if (e.protocol && e.protocol != l.protocol) return false;
  // Ports only count for TCP and UDP; a rule with ports and protocol "all" is rejected elsewhere.
  bool ports = is_port_protocol(l.protocol);
  return covers(earlier.from, later.from) && covers(earlier.to, later.to) &&
         (!ports || (covers(earlier.from_ports, later.from_ports) &&
                     covers(earlier.to_ports, later.to_ports)));
}

void lint_list(ValidationContext& ctx, const std::vector<Rule>& rules) {
  const FirewallSection& fw = ctx.model.firewall;
  std::vector<Resolved> resolved;
  for (const auto& r : rules) {
    resolved.push_back({&r, resolve_addresses(r.from, fw), resolve_addresses(r.to, fw),
                        resolve_ports(r.from_port, fw), resolve_ports(r.to_port, fw)});
  }
  for (size_t i = 0; i < resolved.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (!shadows(resolved[j], resolved[i])) continue;
      const Rule& earlier = *resolved[j].rule;
      const Rule& later = *resolved[i].rule;
      std::string what = action_name(earlier) == action_name(later)
                             ? "it is redundant"
                             : fmt::format("its action '{}' never applies; '{}' decides instead",
                                           action_name(later), action_name(earlier));
      ctx.diag.warning(later.origin,
                       fmt::format("this rule can never match: rule {} ({}) covers every packet it "
                                   "would match, so {}",
                                   j + 1, earlier.origin.position(), what),
                       "rules are checked top to bottom and the first match wins; move the more "
                       "specific rule up");
      break;
    }
  }
}

void lint_source_ports(ValidationContext& ctx, const Rule& rule) {
  if (!is_port_protocol(rule.protocol)) return;
  for (const auto& term : rule.from_port) {
    const auto* range = std::get_if<PortRange>(&term.value);
    if (!range || range->is_any() || range->high >= 1024) continue;
    auto service = service_name(range->low);
    ctx.diag.warning(
        term.origin,
        fmt::format("source port {}{} is a well-known service port; clients send from changing "
                    "ports of 1024 and above, so this rule will rarely match",
                    range->str(), service ? fmt::format(" ({})", *service) : ""),
        "did you mean to_port? write from_port: any to match requests from any client");
  }
}

void validate_list(ValidationContext& ctx, const RuleList& list, bool incoming) {
  if (list.policy != DefaultPolicy::kRules && !list.rules.empty()) {
    ctx.diag.warning(list.at("default"),
                     fmt::format("the {} rules below are not used while default is '{}'",
                                 list.rules.size(),
                                 list.policy == DefaultPolicy::kAccept ? "accept" : "drop"),
                     "write default: rules to use the rule list");
  }
  for (const auto& rule : list.rules) {
    validate_rule(ctx, rule);
    if (rule.interface && incoming) {
      if (const Interface* i = ctx.interface(*rule.interface); i && i->role == Role::kInternal) {
        ctx.diag.error(rule.at("interface"),
                       fmt::format("interface '{}' is internal; incoming rules filter traffic that "
                                   "arrives from outside",
                                   i->name),
                       "traffic from internal interfaces is filtered by the outgoing rules");
      }
    }
  }
  lint_list(ctx, list.rules);
}

void validate_groups(ValidationContext& ctx) {
  for (const auto& g : ctx.model.firewall.ip_groups) {
    for (const auto& term : g.addresses) {
      if (std::holds_alternative<std::string>(term.value)) {
        ctx.diag.error(term.origin, "groups cannot contain other groups",
                       "list the networks themselves");
      }
    }
  }
  for (const auto& g : ctx.model.firewall.port_groups) {
    for (const auto& term : g.ports) {
      if (std::holds_alternative<std::string>(term.value)) {
        ctx.diag.error(term.origin, "groups cannot contain other groups",
                       "list the ports themselves");
      }
    }
    if (service_port(g.name) || g.name == "any") {
      ctx.diag.error(g.origin, fmt::format("'{}' is a service name", g.name),
                     "give the group a name of its own");
    }
  }
}

}  // namespace

void validate_rule(ValidationContext& ctx, const Rule& rule) {
  if (rule.interface) ctx.interfaces.check(*rule.interface, rule.at("interface"), ctx.diag);
  for (const auto* terms : {&rule.from, &rule.to}) {
    for (const auto& t : *terms) {
      if (const auto* name = std::get_if<std::string>(&t.value)) {
        ctx.ip_groups.check(*name, t.origin, ctx.diag);
      }
    }
  }
  for (const auto* terms : {&rule.from_port, &rule.to_port}) {
    for (const auto& t : *terms) {
      if (const auto* name = std::get_if<std::string>(&t.value)) {
        ctx.port_groups.check(*name, t.origin, ctx.diag);
      }
    }
  }
  if (!is_port_protocol(rule.protocol)) {
    const FirewallSection& fw = ctx.model.firewall;
    for (const char* key : {"from_port", "to_port"}) {
      const auto& terms = std::string_view(key) == "from_port" ? rule.from_port : rule.to_port;
      if (!resolve_ports(terms, fw).empty()) {
        ctx.diag.error(rule.at(key),
                       fmt::format("ports only apply to TCP and UDP, this rule is for {}",
                                   protocol_name(rule.protocol)),
                       "set protocol: tcp or udp, or remove the port");
      }
    }
  }
  if (const auto* record = std::get_if<std::string>(&rule.action)) {
    ctx.records.check(*record, rule.at("action"), ctx.diag);
  }
  lint_source_ports(ctx, rule);
}

void validate_firewall(ValidationContext& ctx) {
  const FirewallSection& fw = ctx.model.firewall;
  validate_groups(ctx);
  validate_list(ctx, fw.incoming, true);
  validate_list(ctx, fw.outgoing, false);
  validate_list(ctx, fw.dmz, false);
  for (const auto& record : fw.rule_records) {
    if (record.controlled_by) {
      const Control& c = *record.controlled_by;
      (c.kind == Control::Kind::kSwitch ? ctx.switches : ctx.connections)
          .check(c.name, c.at(c.kind == Control::Kind::kSwitch ? "switch" : "vpn"), ctx.diag);
    }
    for (const auto& rule : record.rules) validate_rule(ctx, rule);
    lint_list(ctx, record.rules);
  }
}

// Could `list` accept a TCP connection to `port` arriving on `interface`? (A rule naming a port
// group counts as yes: this is a hint, not a proof.)
bool may_accept_tcp(const RuleList& list, const std::string& interface, uint16_t port) {
  if (list.policy == DefaultPolicy::kAccept) return true;
  if (list.policy == DefaultPolicy::kDrop) return false;
  for (const Rule& r : list.rules) {
    const auto* verdict = std::get_if<Verdict>(&r.action);
    if (!verdict || *verdict != Verdict::kAccept) continue;
    if (r.protocol && *r.protocol != kProtoTcp) continue;
    if (r.interface && *r.interface != interface) continue;
    if (r.to_port.empty()) return true;
    for (const PortTerm& t : r.to_port) {
      const auto* range = std::get_if<PortRange>(&t.value);
      if (!range || (range->low <= port && port <= range->high)) return true;
    }
  }
  return false;
}

void validate_user_firewall(ValidationContext& ctx) {
  const UserFirewallSection& uf = ctx.model.user_firewall;
  for (size_t i = 0; i < uf.login_interfaces.size(); ++i) {
    ctx.interfaces.check(uf.login_interfaces[i], uf.login_interface_origins[i], ctx.diag);
    // Manual 9.2: logging in from outside needs HTTPS access there. The login page is traffic
    // to the box, decided from an external interface by the incoming list, from a DMZ by the
    // DMZ list; internal hosts reach the box unfiltered.
    for (const auto& itf : ctx.model.interfaces) {
      if (itf.name != uf.login_interfaces[i] || itf.role == Role::kInternal) continue;
      const bool dmz = itf.role == Role::kDmz;
      const uint16_t port = ctx.model.management.https.port;
      if (uf.enabled && !may_accept_tcp(dmz ? ctx.model.firewall.dmz : ctx.model.firewall.incoming, itf.name, port)) {
        ctx.diag.warning(uf.login_interface_origins[i],
                         fmt::format("the login page on {} is blocked: the {} list accepts no TCP to port {}",
                                     itf.name, dmz ? "dmz" : "incoming", port),
                         fmt::format("add {{protocol: tcp, to_port: {}, action: accept}} to firewall.{} "
                                     "(manual 9.2: HTTPS access from outside)", port, dmz ? "dmz" : "incoming"));
      }
    }
  }
  if (uf.enabled && !uf.templates.empty() && uf.login_interfaces.empty()) {
    ctx.diag.error(uf.at("login_interfaces"), "users cannot log in: no login interface is given",
                   "e.g. login_interfaces: [internal]");
  }
  bool has_radius_user = false;
  for (const auto& u : uf.users) {
    if (u.authentication == FirewallUser::Auth::kLocal && !u.password_hash) {
      ctx.diag.error(u.origin, fmt::format("local user '{}' needs a password_hash", u.name),
                     "e.g. password_hash: {file: /etc/bulwark/users/NAME.hash} holding a "
                     "crypt(3) hash (mkpasswd -m sha-512)");
    }
    if (u.authentication == FirewallUser::Auth::kRadius) {
      has_radius_user = true;
      if (u.password_hash) {
        ctx.diag.error(u.at("password_hash"), "a RADIUS user's password is checked by the RADIUS server",
                       "remove password_hash, or set authentication: local");
      }
    }
  }
  if (has_radius_user && uf.radius_servers.empty()) {
    ctx.diag.error(uf.at("users"), "users authenticate with RADIUS but no radius_servers are given",
                   "add radius_servers: [{address: …, secret: {env: …}}]");
  }
  NameTable templates{"user firewall template"};
  for (const auto& t : uf.templates) {
    templates.add(t.name, t.at("name"), ctx.diag);
    for (size_t i = 0; i < t.users.size(); ++i) ctx.users.check(t.users[i], t.user_origins[i], ctx.diag);
    if (t.vpn_connection) ctx.connections.check(*t.vpn_connection, t.at("vpn_connection"), ctx.diag);
    if (t.timeout == 0) {
      ctx.diag.error(t.at("timeout"), "a template needs a timeout longer than 0",
                     "users stay logged in for this long, e.g. 8h");
    }
    for (const auto& rule : t.rules) validate_rule(ctx, rule);
  }
}

}  // namespace bulwark::config
