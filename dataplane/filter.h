// The compiled packet filter of one generation: the incoming, outgoing and DMZ rule lists as
// DPDK `rte_acl` classifiers, whose cost per packet does not grow with the number of rules.
//
// Rule records are resolved here: a rule whose action is a record is replaced, at its place in
// the list, by the intersection of the rule with each of the record's rules — but only while the
// record is active. Switching a record therefore builds a new generation (the control plane sends
// the tables with the record's new state), which is atomic for the workers. A list rule with
// several networks or ports expands to their cartesian product; first match wins (earlier rules
// have higher rte_acl priority). Every expanded rule keeps the ids of the rules it came from, for
// hit counters and log lines.
//
// Each VPN connection has an incoming and an outgoing list of its own (the VPN firewall, manual
// 10.4), compiled the same way after the three interface lists.
//
// Each user-firewall template (manual 9.3) has a list of its own too, after the VPN lists: its
// rules accept only and have no source (a grant's address is the source; user_table.h), and the
// user-firewall stage classifies a logged-in user's new connections against it before the list
// of the traffic's direction (user_firewall_stage.cc).
//
// Only the first packet of a connection is classified; the connection table carries the rest.
#pragma once

#include <rte_acl.h>

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "config/tables.h"
#include "dataplane/counters.h"
#include "dataplane/headers.h"

namespace bulwark::dataplane {

enum class FilterList : uint8_t { kIncoming, kOutgoing, kDmz };
inline constexpr size_t kFilterLists = 3;
const char* filter_list_name(FilterList l);

// The classifier's input, fields in network byte order as rte_acl expects.
struct [[gnu::packed]] FilterKey {
  uint8_t protocol = 0;
  uint8_t pad[3] = {};
  Be32 src;
  Be32 dst;
  Be16 src_port;
  Be16 dst_port;
  Be32 interface;  // ingress interface index
};
static_assert(sizeof(FilterKey) == 20);

// One rule after record resolution.
struct FilterRule {
  uint32_t rule_id = 0;         // the list's rule
  uint32_t record_rule_id = 0;  // the record's rule, 0 when the rule is not a record jump
  config::ActionKind action = config::ActionKind::kDrop;  // accept, drop or reject
  FilterList list = FilterList::kIncoming;  // a VPN list: kIncoming or kOutgoing
  uint16_t connection = config::kNoIndex;   // the VPN connection of a VPN list
  uint16_t user_template = config::kNoIndex;  // the user-firewall template of a template's list
  uint16_t position = 0;        // in its list, 1-based
  uint16_t record = config::kNoIndex;
  bool log = false;
  std::string comment;
};

class Filter {
 public:
  // `workers` sizes the per-worker hit counters.
  static std::unique_ptr<Filter> build(const config::FirewallTables& tables,
                                       const std::vector<config::VpnConnectionEntry>& vpn,
                                       const std::vector<config::UserTemplateEntry>& templates, unsigned workers,
                                       std::string& error);
  ~Filter();
  Filter(const Filter&) = delete;
  Filter& operator=(const Filter&) = delete;

  config::DefaultPolicy policy(FilterList l) const { return policy_[static_cast<size_t>(l)]; }
  config::DefaultPolicy vpn_policy(uint16_t connection, bool incoming) const {
    return policy_[vpn_list(connection, incoming)];
  }
  bool abort_on_reconfiguration() const { return abort_; }

  // The first matching rule of list `l`, or nullptr (then the list's policy decides:
  // for `rules` a packet that matches nothing is dropped).
  const FilterRule* classify(FilterList l, const FilterKey& key) const { return classify(static_cast<size_t>(l), key); }
  const FilterRule* classify_vpn(uint16_t connection, bool incoming, const FilterKey& key) const {
    return classify(vpn_list(connection, incoming), key);
  }
  // The first rule of user-firewall template `t` that matches, or nullptr.
  const FilterRule* classify_template(uint16_t t, const FilterKey& key) const {
    return classify(template_base_ + t, key);
  }

  // Per-worker hit counters, indexed by the FilterRule's place in rules().
  void hit(unsigned worker, const FilterRule* rule) { hits_[worker][index_of(rule)].add(); }
  const std::vector<FilterRule>& rules() const { return rules_; }
  uint64_t hits(size_t rule_index) const;

 private:
  Filter() = default;
  size_t index_of(const FilterRule* r) const { return static_cast<size_t>(r - rules_.data()); }
  static size_t vpn_list(uint16_t connection, bool incoming) { return kFilterLists + 2u * connection + (incoming ? 0 : 1); }
  const FilterRule* classify(size_t list, const FilterKey& key) const;

  std::vector<config::DefaultPolicy> policy_;  // interface lists, two per VPN connection, one per template
  size_t template_base_ = 0;                   // the first template's list
  std::vector<rte_acl_ctx*> acl_;
  std::vector<FilterRule> rules_;  // userdata of an ACL rule = index + 1
  std::vector<std::unique_ptr<Counter[]>> hits_;
  bool abort_ = false;
};

}  // namespace bulwark::dataplane
