// Parsers of the individual top-level sections, used by parse_config.cc. Internal to config/.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "config/model.h"
#include "config/yaml_reader.h"

namespace bulwark::config {

void parse_system(Reader& r, const YAML::Node& n, SystemSection& out);
void parse_dataplane(Reader& r, const YAML::Node& n, DataplaneSection& out);
// Returns false when an entry could not be read (checks of the whole set are then skipped).
bool parse_interfaces(Reader& r, const YAML::Node& n, std::vector<Interface>& out);
void parse_switches(Reader& r, const YAML::Node& n, std::vector<Switch>& out);
void parse_nat(Reader& r, const YAML::Node& n, NatSection& out);
void parse_firewall(Reader& r, const YAML::Node& n, FirewallSection& out);
void parse_user_firewall(Reader& r, const YAML::Node& n, UserFirewallSection& out);
void parse_management(Reader& r, const YAML::Node& n, ManagementSection& out);
void parse_ipsec(Reader& r, const YAML::Node& n, IpsecSection& out);
void parse_cifs(Reader& r, const YAML::Node& n, CifsSection& out);

// The columns a rule may have depend on where it stands.
enum class RuleContext {
  kInterfaceList,  // incoming and DMZ lists: `interface` allowed, records as actions
  kPlainList,      // outgoing list: records as actions
  kRecord,         // inside a rule record: verdicts only
  kVpn,            // a VPN connection's firewall: verdicts only
  kUserTemplate,   // user firewall template: no interface, from or action
};

std::optional<Rule> parse_rule(Reader& r, const YAML::Node& n, const std::string& path,
                               RuleContext context);
void parse_rule_list(Reader& r, const YAML::Node& n, const std::string& path, RuleContext context,
                     RuleList& out);
std::optional<Control> parse_control(Reader& r, const YAML::Node& n, const std::string& path,
                                     bool allow_vpn);

}  // namespace bulwark::config
