#include "dataplane/filter.h"

#include <rte_errno.h>

#include <algorithm>
#include <cstddef>

#include <fmt/format.h>

namespace bulwark::dataplane {
namespace {

using config::ActionKind;
using config::Ipv4Prefix;
using config::PortRange;
using config::RuleEntry;

constexpr size_t kMaxAclRules = 1u << 20;
constexpr int32_t kTopPriority = RTE_ACL_MAX_PRIORITY;

enum AclField { kProto, kSrc, kDst, kSrcPort, kDstPort, kIface, kFieldCount };
RTE_ACL_RULE_DEF(AclRule, kFieldCount);

rte_acl_field_def field_defs[kFieldCount] = {
    {RTE_ACL_FIELD_TYPE_BITMASK, sizeof(uint8_t), kProto, 0, offsetof(FilterKey, protocol)},
    {RTE_ACL_FIELD_TYPE_MASK, sizeof(uint32_t), kSrc, 1, offsetof(FilterKey, src)},
    {RTE_ACL_FIELD_TYPE_MASK, sizeof(uint32_t), kDst, 2, offsetof(FilterKey, dst)},
    {RTE_ACL_FIELD_TYPE_RANGE, sizeof(uint16_t), kSrcPort, 3, offsetof(FilterKey, src_port)},
    {RTE_ACL_FIELD_TYPE_RANGE, sizeof(uint16_t), kDstPort, 3, offsetof(FilterKey, dst_port)},
    {RTE_ACL_FIELD_TYPE_BITMASK, sizeof(uint32_t), kIface, 4, offsetof(FilterKey, interface)},
};

bool has_ports(const std::optional<uint8_t>& p) {
  return p == config::kProtoTcp || p == config::kProtoUdp;
}

// The networks in both lists (empty = any); `ok` false when they do not intersect.
std::vector<Ipv4Prefix> intersect(const std::vector<Ipv4Prefix>& a, const std::vector<Ipv4Prefix>& b,
                                  bool& ok) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  std::vector<Ipv4Prefix> out;
  for (const auto& x : a) {
    for (const auto& y : b) {
      if (x.contains(y)) out.push_back(y);
      else if (y.contains(x)) out.push_back(x);
    }
  }
  ok = ok && !out.empty();
  return out;
}

std::vector<PortRange> intersect(const std::vector<PortRange>& a, const std::vector<PortRange>& b,
                                 bool& ok) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  std::vector<PortRange> out;
  for (const auto& x : a) {
    for (const auto& y : b) {
      uint16_t low = std::max(x.low, y.low), high = std::min(x.high, y.high);
      if (low <= high) out.push_back({low, high});
    }
  }
  ok = ok && !out.empty();
  return out;
}

// A list rule with its record resolved: what the classifier matches, and what it decides.
struct Flat {
  RuleEntry match;
  FilterRule rule;
};

}  // namespace

const char* filter_list_name(FilterList l) {
  switch (l) {
    case FilterList::kIncoming: return "incoming";
    case FilterList::kOutgoing: return "outgoing";
    case FilterList::kDmz: return "dmz";
  }
  return "?";
}

std::unique_ptr<Filter> Filter::build(const config::FirewallTables& tables,
                                      const std::vector<config::VpnConnectionEntry>& vpn,
                                      const std::vector<config::UserTemplateEntry>& templates, unsigned workers,
                                      std::string& error) {
  std::unique_ptr<Filter> f(new Filter());
  f->abort_ = tables.abort_on_reconfiguration;
  std::vector<const config::RuleListEntry*> lists = {&tables.incoming, &tables.outgoing, &tables.dmz};
  for (const auto& c : vpn) {
    lists.push_back(&c.firewall_incoming);
    lists.push_back(&c.firewall_outgoing);
  }
  f->template_base_ = lists.size();
  for (const auto& t : templates) lists.push_back(&t.rules);
  const size_t count = lists.size();
  f->policy_.resize(count);
  f->acl_.resize(count, nullptr);

  // Resolve records into flat rules, list by list, in order.
  std::vector<std::vector<Flat>> flat(count);
  for (size_t l = 0; l < count; ++l) {
    f->policy_[l] = lists[l]->policy;
    if (lists[l]->policy != config::DefaultPolicy::kRules) continue;
    for (const RuleEntry& r : lists[l]->rules) {
      FilterRule base;
      base.rule_id = r.id;
      if (l < kFilterLists) {
        base.list = static_cast<FilterList>(l);
      } else if (l >= f->template_base_) {
        base.user_template = static_cast<uint16_t>(l - f->template_base_);
      } else {
        base.connection = static_cast<uint16_t>((l - kFilterLists) / 2);
        base.list = (l - kFilterLists) % 2 == 0 ? FilterList::kIncoming : FilterList::kOutgoing;
      }
      base.position = r.position;
      base.log = r.log;
      base.comment = r.comment;
      if (base.user_template != config::kNoIndex && (r.action != ActionKind::kAccept || !r.from.empty())) {
        error = fmt::format("user firewall template '{}': rule {} must accept and have no source",
                            templates[base.user_template].name, r.position);
        return nullptr;
      }
      if (r.action != ActionKind::kRecord) {
        base.action = r.action;
        flat[l].push_back({r, base});
        continue;
      }
      const config::RuleRecordEntry& record = tables.records.at(r.record);
      if (!record.initially_active) continue;  // an inactive record's rules match nothing
      for (const RuleEntry& j : record.rules.rules) {
        bool ok = true;
        RuleEntry m = r;
        if (r.protocol && j.protocol && r.protocol != j.protocol) continue;
        m.protocol = r.protocol ? r.protocol : j.protocol;
        m.from = intersect(r.from, j.from, ok);
        m.to = intersect(r.to, j.to, ok);
        m.from_ports = has_ports(m.protocol) ? intersect(r.from_ports, j.from_ports, ok)
                                             : std::vector<PortRange>{};
        m.to_ports = has_ports(m.protocol) ? intersect(r.to_ports, j.to_ports, ok)
                                           : std::vector<PortRange>{};
        if (!ok) continue;
        FilterRule fr = base;
        fr.record_rule_id = j.id;
        fr.record = r.record;
        fr.action = j.action;
        fr.log = r.log || j.log;
        if (!j.comment.empty()) fr.comment = fr.comment.empty() ? j.comment : fr.comment + "; " + j.comment;
        flat[l].push_back({m, fr});
      }
    }
  }
  size_t total = 0;
  for (const auto& l : flat) total += l.size();
  f->rules_.reserve(total);
  for (const auto& l : flat) {
    for (const auto& x : l) f->rules_.push_back(x.rule);
  }

  static std::atomic<uint32_t> serial{0};
  size_t rule_index = 0;
  for (size_t l = 0; l < count; ++l) {
    if (flat[l].empty()) {
      rule_index += flat[l].size();
      continue;
    }
    std::vector<AclRule> acl;
    int32_t priority = kTopPriority;
    for (const Flat& x : flat[l]) {
      const RuleEntry& m = x.match;
      auto nets = [](const std::vector<Ipv4Prefix>& v) {
        return v.empty() ? std::vector<Ipv4Prefix>{Ipv4Prefix{}} : v;
      };
      auto ports = [](const std::vector<PortRange>& v) {
        return v.empty() ? std::vector<PortRange>{PortRange{}} : v;
      };
      uint32_t userdata = static_cast<uint32_t>(++rule_index);
      for (const auto& src : nets(m.from)) {
        for (const auto& dst : nets(m.to)) {
          for (const auto& sp : ports(m.from_ports)) {
            for (const auto& dp : ports(m.to_ports)) {
              if (acl.size() >= kMaxAclRules) {
                error = fmt::format("the {} list{} expands to more than {} classifier rules",
                                    x.rule.user_template != config::kNoIndex ? "user firewall" : filter_list_name(x.rule.list),
                                    x.rule.user_template != config::kNoIndex ? " of template " + templates[x.rule.user_template].name
                                    : l < kFilterLists ? "" : " of VPN connection " + vpn[x.rule.connection].name,
                                    kMaxAclRules);
                return nullptr;
              }
              AclRule a{};
              a.data.category_mask = 1;
              a.data.priority = priority;
              a.data.userdata = userdata;
              a.field[kProto].value.u8 = m.protocol.value_or(0);
              a.field[kProto].mask_range.u8 = m.protocol ? 0xff : 0;
              a.field[kSrc].value.u32 = src.network().value;
              a.field[kSrc].mask_range.u32 = src.length;
              a.field[kDst].value.u32 = dst.network().value;
              a.field[kDst].mask_range.u32 = dst.length;
              a.field[kSrcPort].value.u16 = sp.low;
              a.field[kSrcPort].mask_range.u16 = sp.high;
              a.field[kDstPort].value.u16 = dp.low;
              a.field[kDstPort].mask_range.u16 = dp.high;
              a.field[kIface].value.u32 = m.interface == config::kNoIndex ? 0 : m.interface;
              a.field[kIface].mask_range.u32 = m.interface == config::kNoIndex ? 0 : 0xffffffff;
              acl.push_back(a);
            }
          }
        }
      }
      --priority;
    }
    std::string name = fmt::format("bw_acl_{}", serial.fetch_add(1));
    rte_acl_param param{};
    param.name = name.c_str();
    param.socket_id = SOCKET_ID_ANY;
    param.rule_size = RTE_ACL_RULE_SZ(kFieldCount);
    param.max_rule_num = static_cast<uint32_t>(acl.size());
    rte_acl_ctx* ctx = rte_acl_create(&param);
    if (!ctx) {
      error = fmt::format("cannot create the classifier: {}", rte_strerror(rte_errno));
      return nullptr;
    }
    f->acl_[l] = ctx;
    if (int rc = rte_acl_add_rules(ctx, reinterpret_cast<rte_acl_rule*>(acl.data()),
                                   static_cast<uint32_t>(acl.size()));
        rc != 0) {
      error = fmt::format("cannot add classifier rules: {}", rte_strerror(-rc));
      return nullptr;
    }
    rte_acl_config config{};
    config.num_categories = 1;
    config.num_fields = kFieldCount;
    std::copy(std::begin(field_defs), std::end(field_defs), config.defs);
    if (int rc = rte_acl_build(ctx, &config); rc != 0) {
      error = fmt::format("cannot build the classifier: {}", rte_strerror(-rc));
      return nullptr;
    }
  }

  for (unsigned w = 0; w < workers; ++w) {
    f->hits_.push_back(std::make_unique<Counter[]>(std::max<size_t>(f->rules_.size(), 1)));
  }
  return f;
}

Filter::~Filter() {
  for (rte_acl_ctx* ctx : acl_) {
    if (ctx) rte_acl_free(ctx);
  }
}

const FilterRule* Filter::classify(size_t l, const FilterKey& key) const {
  rte_acl_ctx* ctx = acl_[l];
  if (!ctx) return nullptr;
  const uint8_t* data[1] = {reinterpret_cast<const uint8_t*>(&key)};
  uint32_t result = 0;
  rte_acl_classify(ctx, data, &result, 1, 1);
  return result ? &rules_[result - 1] : nullptr;
}

uint64_t Filter::hits(size_t rule_index) const {
  uint64_t total = 0;
  for (const auto& h : hits_) total += h[rule_index].get();
  return total;
}

}  // namespace bulwark::dataplane
