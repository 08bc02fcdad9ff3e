// Shared state of the semantic checks: name tables for every kind of named object, built once,
// so that each check can resolve a reference and suggest the intended name when it fails.
// Internal to config/.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config/diagnostics.h"
#include "config/model.h"

namespace bulwark::config {

// Names of one kind of object ("rule record", "interface", …) and the position of each.
class NameTable {
 public:
  explicit NameTable(std::string kind) : kind_(std::move(kind)) {}

  // Adds a name; a second object with the same name is an error.
  void add(const std::string& name, const Origin& origin, Diagnostics& diag);
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  // Index in declaration order, or -1.
  int find(const std::string& name) const;
  // Reports an error at `origin` when `name` is unknown, with a "did you mean" hint.
  bool check(const std::string& name, const Origin& origin, Diagnostics& diag) const;
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::string kind_;
  std::map<std::string, int> index_;
  std::map<std::string, Origin> origins_;
  std::vector<std::string> names_;
};

struct ValidationContext {
  const Model& model;
  Diagnostics& diag;
  NameTable interfaces{"interface"};
  NameTable switches{"switch"};
  NameTable records{"rule record"};
  NameTable ip_groups{"IP group"};
  NameTable port_groups{"port group"};
  NameTable connections{"VPN connection"};
  NameTable machine_certificates{"machine certificate"};
  NameTable ca_certificates{"CA certificate"};
  NameTable remote_certificates{"remote certificate"};
  NameTable users{"firewall user"};
  NameTable shares{"share"};
  NameTable pattern_sets{"pattern set"};

  const Interface* interface(const std::string& name) const;
  // Every address the box owns, with the interface it is on.
  std::vector<std::pair<Ipv4Address, const Interface*>> own_addresses() const;
};

void validate_network(ValidationContext& ctx);
void validate_firewall(ValidationContext& ctx);
void validate_user_firewall(ValidationContext& ctx);
void validate_management(ValidationContext& ctx);
void validate_nat(ValidationContext& ctx);
void validate_ipsec(ValidationContext& ctx);
void validate_cifs(ValidationContext& ctx);

// Checks of one rule that apply wherever rules stand (references, ports only with TCP/UDP).
void validate_rule(ValidationContext& ctx, const Rule& rule);

}  // namespace bulwark::config
