// Parsers for packet-filter rules, rule lists, rule records, groups and the user firewall.
#include <fmt/format.h>

#include "config/parse_sections.h"
#include "config/yaml_values.h"

namespace bulwark::config {
namespace {

bool allows_interface(RuleContext c) { return c == RuleContext::kInterfaceList; }
bool allows_records(RuleContext c) {
  return c == RuleContext::kInterfaceList || c == RuleContext::kPlainList;
}

std::optional<std::variant<Verdict, std::string>> parse_action(Reader& r, const YAML::Node& n,
                                                               const std::string& path,
                                                               RuleContext context) {
  auto text = as_string(r, n, path);
  if (!text) return std::nullopt;
  if (*text == "accept") return Verdict::kAccept;
  if (*text == "drop") return Verdict::kDrop;
  if (*text == "reject") return Verdict::kReject;
  if (!allows_records(context)) {
    r.error(n, path, fmt::format("'{}' is not an action here", *text),
            context == RuleContext::kRecord
                ? "rules inside a rule record accept, drop or reject; records do not nest"
                : "write accept, drop or reject");
    return std::nullopt;
  }
  auto name = as_name(r, n, path);
  if (!name) return std::nullopt;
  return *name;  // a rule record, resolved by validation
}

std::optional<NamedGroup> parse_group(Reader& r, const std::string& name, const YAML::Node& key,
                                      const YAML::Node& n, const std::string& path, bool ports) {
  NamedGroup g;
  g.name = name;
  g.origin = r.origin(key, path);
  if (ports) {
    auto terms = as_port_terms(r, n, path);
    if (!terms) return std::nullopt;
    g.ports = std::move(*terms);
  } else {
    auto terms = as_address_terms(r, n, path);
    if (!terms) return std::nullopt;
    g.addresses = std::move(*terms);
  }
  return g;
}

void parse_groups(Reader& r, const YAML::Node& n, const std::string& path, bool ports,
                  std::vector<NamedGroup>& out) {
  if (!n.IsMap()) {
    r.error(n, path, "expected a mapping of group names to lists",
            ports ? "e.g. web: [http, https, 8080]" : "e.g. plcs: [192.168.1.10, 192.168.1.20]");
    return;
  }
  for (auto it = n.begin(); it != n.end(); ++it) {
    std::string item_path = join_path(path, it->first.Scalar());
    auto name = as_group_name(r, it->first, item_path);
    if (!name) continue;
    if (auto g = parse_group(r, *name, it->first, it->second, item_path, ports)) {
      out.push_back(std::move(*g));
    }
  }
}

std::optional<RuleRecord> parse_record(Reader& r, const YAML::Node& n, const std::string& path) {
  RuleRecord rec;
  MapReader m(r, n, path, rec);
  bool ok = m.required("name", rec.name, as_name);
  m.optional("initial_mode", rec.initially_active,
             OneOf<bool>{{"active", true}, {"inactive", false}});
  m.optional("deactivation_timeout", rec.deactivation_timeout, as_duration);
  if (auto c = m.take("controlled_by")) {
    rec.controlled_by = parse_control(r, *c, join_path(path, "controlled_by"), true);
  }
  m.non_empty_list("rules", rec.rules, [](Reader& r, const YAML::Node& n, const std::string& p) {
    return parse_rule(r, n, p, RuleContext::kRecord);
  }, "a record without rules matches nothing");
  m.optional("comment", rec.comment, as_text);
  m.finish();
  if (!ok) return std::nullopt;
  return rec;
}

std::optional<FirewallUser> parse_user(Reader& r, const YAML::Node& n, const std::string& path) {
  FirewallUser u;
  MapReader m(r, n, path, u);
  bool ok = m.required("name", u.name, as_name);
  m.optional("authentication", u.authentication,
             OneOf<FirewallUser::Auth>{{"local", FirewallUser::Auth::kLocal},
                                       {"radius", FirewallUser::Auth::kRadius}});
  SecretRef hash;
  if (m.optional("password_hash", hash, as_secret)) u.password_hash = hash;
  m.finish();
  if (!ok) return std::nullopt;
  return u;
}

std::optional<RadiusServer> parse_radius(Reader& r, const YAML::Node& n, const std::string& path) {
  RadiusServer s;
  MapReader m(r, n, path, s);
  bool ok = m.required("address", s.address, as_address);
  uint32_t port = s.port;
  m.optional("port", port, Integer{1, 65535});
  s.port = static_cast<uint16_t>(port);
  SecretRef secret;
  if (m.required("secret", secret, as_secret, "the RADIUS shared secret, e.g. {env: RADIUS_SECRET}")) {
    s.secret = secret;
  }
  m.optional("timeout", s.timeout, as_duration);
  m.optional("require_message_authenticator", s.require_message_authenticator, as_bool);
  m.finish();
  if (!ok) return std::nullopt;
  return s;
}

std::optional<UserTemplate> parse_template(Reader& r, const YAML::Node& n, const std::string& path) {
  UserTemplate t;
  MapReader m(r, n, path, t);
  bool ok = m.required("name", t.name, as_name);
  m.optional("timeout", t.timeout, as_duration);
  m.optional("timeout_type", t.dynamic_timeout, OneOf<bool>{{"static", false}, {"dynamic", true}});
  std::string vpn;
  if (m.optional("vpn_connection", vpn, as_name) && vpn != "none") t.vpn_connection = vpn;
  std::vector<std::pair<std::string, Origin>> users;
  if (m.required("users", users, as_name_list, "the firewall users this template unlocks")) {
    for (auto& [name, origin] : users) {
      t.users.push_back(name);
      t.user_origins.push_back(origin);
    }
  }
  std::string source;
  if (m.optional("source_ip", source, as_string) && source != "%authorized_ip") {
    auto address = Ipv4Address::parse(source);
    if (address) {
      t.source_ip = address;
    } else {
      r.diagnostics().error(t.at("source_ip"),
                            fmt::format("'{}' is neither %authorized_ip nor an address", source),
                            "%authorized_ip unlocks the rules for the address the user logged "
                            "in from");
    }
  }
  m.list("rules", t.rules, [](Reader& r, const YAML::Node& n, const std::string& p) {
    return parse_rule(r, n, p, RuleContext::kUserTemplate);
  });
  m.optional("comment", t.comment, as_text);
  m.finish();
  if (!ok) return std::nullopt;
  return t;
}

}  // namespace

std::optional<Control> parse_control(Reader& r, const YAML::Node& n, const std::string& path,
                                     bool allow_vpn) {
  Control c;
  MapReader m(r, n, path, c);
  bool has_switch = m.optional("switch", c.name, as_name);
  bool has_vpn = false;
  if (allow_vpn) {
    std::string vpn;
    has_vpn = m.optional("vpn", vpn, as_name);
    if (has_vpn) {
      c.kind = Control::Kind::kVpn;
      c.name = vpn;
    }
  }
  m.finish();
  if (!m.ok()) return std::nullopt;
  if (has_switch == has_vpn) {
    r.error(n, path,
            allow_vpn ? "controlled_by needs exactly one of 'switch' and 'vpn'"
                      : "controlled_by needs 'switch'",
            allow_vpn ? "e.g. {switch: CMD1} or {vpn: VPN to Branch Office}" : "e.g. {switch: CMD1}");
    return std::nullopt;
  }
  return c;
}

std::optional<Rule> parse_rule(Reader& r, const YAML::Node& n, const std::string& path,
                               RuleContext context) {
  Rule rule;
  MapReader m(r, n, path, rule);
  if (allows_interface(context)) {
    std::string iface;
    if (m.optional("interface", iface, as_name)) rule.interface = iface;
  }
  m.optional("protocol", rule.protocol, as_protocol);
  if (context != RuleContext::kUserTemplate) m.optional("from", rule.from, as_address_terms);
  m.optional("from_port", rule.from_port, as_port_terms);
  m.optional("to", rule.to, as_address_terms);
  m.optional("to_port", rule.to_port, as_port_terms);
  bool ok = true;
  if (context == RuleContext::kUserTemplate) {
    rule.action = Verdict::kAccept;
  } else {
    ok = m.required("action", rule.action,
                    [context](Reader& r, const YAML::Node& n, const std::string& p) {
                      return parse_action(r, n, p, context);
                    },
                    "accept, drop, reject or the name of a rule record");
  }
  m.optional("log", rule.log, as_bool);
  m.optional("comment", rule.comment, as_text);
  m.finish();
  if (!ok || !m.ok()) return std::nullopt;
  return rule;
}

void parse_rule_list(Reader& r, const YAML::Node& n, const std::string& path, RuleContext context,
                     RuleList& out) {
  MapReader m(r, n, path, out);
  m.optional("default", out.policy,
             OneOf<DefaultPolicy>{{"accept", DefaultPolicy::kAccept},
                                  {"drop", DefaultPolicy::kDrop},
                                  {"rules", DefaultPolicy::kRules}});
  m.list("rules", out.rules, [context](Reader& r, const YAML::Node& n, const std::string& p) {
    return parse_rule(r, n, p, context);
  });
  m.finish();
}

void parse_firewall(Reader& r, const YAML::Node& n, FirewallSection& out) {
  MapReader m(r, n, "firewall", out);
  m.optional("abort_on_reconfiguration", out.abort_on_reconfiguration, as_bool);
  out.incoming.policy = DefaultPolicy::kDrop;
  out.outgoing.policy = DefaultPolicy::kAccept;
  out.dmz.policy = DefaultPolicy::kDrop;
  if (auto l = m.take("incoming")) {
    out.incoming.policy = DefaultPolicy::kRules;
    parse_rule_list(r, *l, "firewall.incoming", RuleContext::kInterfaceList, out.incoming);
  }
  if (auto l = m.take("outgoing")) {
    out.outgoing.policy = DefaultPolicy::kRules;
    parse_rule_list(r, *l, "firewall.outgoing", RuleContext::kPlainList, out.outgoing);
  }
  if (auto l = m.take("dmz")) {
    out.dmz.policy = DefaultPolicy::kRules;
    parse_rule_list(r, *l, "firewall.dmz", RuleContext::kInterfaceList, out.dmz);
  }
  if (auto g = m.take("ip_groups")) parse_groups(r, *g, "firewall.ip_groups", false, out.ip_groups);
  if (auto g = m.take("port_groups")) {
    parse_groups(r, *g, "firewall.port_groups", true, out.port_groups);
  }
  m.list("rule_records", out.rule_records, parse_record);
  m.finish();
}

void parse_user_firewall(Reader& r, const YAML::Node& n, UserFirewallSection& out) {
  MapReader m(r, n, "user_firewall", out);
  out.enabled = true;
  m.optional("enabled", out.enabled, as_bool);
  std::vector<std::pair<std::string, Origin>> interfaces;
  if (m.optional("login_interfaces", interfaces, as_name_list)) {
    for (auto& [name, origin] : interfaces) {
      out.login_interfaces.push_back(name);
      out.login_interface_origins.push_back(origin);
    }
  }
  m.list("users", out.users, parse_user);
  m.list("radius_servers", out.radius_servers, parse_radius);
  m.list("templates", out.templates, parse_template);
  m.finish();
}

}  // namespace bulwark::config
