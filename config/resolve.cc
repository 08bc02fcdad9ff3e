#include "config/resolve.h"

#include <algorithm>

namespace bulwark::config {
namespace {

const NamedGroup* find_group(const std::vector<NamedGroup>& groups, const std::string& name) {
  for (const auto& g : groups) {
    if (g.name == name) return &g;
  }
  return nullptr;
}

template <class T>
bool is_any(const std::vector<T>& values) {
  return values.empty() || std::any_of(values.begin(), values.end(), [](const T& v) {
           if constexpr (std::is_same_v<T, Ipv4Prefix>) {
             return v.length == 0;
           } else {
             return v.is_any();
           }
         });
}

}  // namespace

std::vector<Ipv4Prefix> resolve_addresses(const std::vector<AddressTerm>& terms,
                                          const FirewallSection& firewall) {
  std::vector<Ipv4Prefix> out;
  for (const auto& term : terms) {
    if (const auto* prefix = std::get_if<Ipv4Prefix>(&term.value)) {
      out.push_back(prefix->canonical());
    } else if (const auto* g = find_group(firewall.ip_groups, std::get<std::string>(term.value))) {
      for (const auto& member : g->addresses) {
        if (const auto* p = std::get_if<Ipv4Prefix>(&member.value)) out.push_back(p->canonical());
      }
    }
  }
  if (is_any(out)) out.clear();
  return out;
}

std::vector<PortRange> resolve_ports(const std::vector<PortTerm>& terms,
                                     const FirewallSection& firewall) {
  std::vector<PortRange> out;
  for (const auto& term : terms) {
    if (const auto* range = std::get_if<PortRange>(&term.value)) {
      out.push_back(*range);
    } else if (const auto* g = find_group(firewall.port_groups, std::get<std::string>(term.value))) {
      for (const auto& member : g->ports) {
        if (const auto* r = std::get_if<PortRange>(&member.value)) out.push_back(*r);
      }
    }
  }
  if (is_any(out)) out.clear();
  return out;
}

bool covers(const std::vector<Ipv4Prefix>& outer, const std::vector<Ipv4Prefix>& inner) {
  if (outer.empty()) return true;
  if (inner.empty()) return false;
  return std::all_of(inner.begin(), inner.end(), [&](const Ipv4Prefix& i) {
    return std::any_of(outer.begin(), outer.end(), [&](const Ipv4Prefix& o) { return o.contains(i); });
  });
}

bool covers(const std::vector<PortRange>& outer, const std::vector<PortRange>& inner) {
  if (outer.empty()) return true;
  if (inner.empty()) return false;
  return std::all_of(inner.begin(), inner.end(), [&](const PortRange& i) {
    return std::any_of(outer.begin(), outer.end(), [&](const PortRange& o) { return o.contains(i); });
  });
}

}  // namespace bulwark::config
