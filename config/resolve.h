// Resolution of rule columns: IP and port group names become the networks and port ranges they
// stand for. Used by validation (for lint) and by the compiler. Unknown names resolve to nothing;
// validation reports them.
#pragma once

#include <vector>

#include "config/model.h"

namespace bulwark::config {

// Empty input means "any" and resolves to an empty list.
std::vector<Ipv4Prefix> resolve_addresses(const std::vector<AddressTerm>& terms,
                                          const FirewallSection& firewall);
std::vector<PortRange> resolve_ports(const std::vector<PortTerm>& terms,
                                     const FirewallSection& firewall);

// True when every value of `inner` lies in `outer` (empty = any).
bool covers(const std::vector<Ipv4Prefix>& outer, const std::vector<Ipv4Prefix>& inner);
bool covers(const std::vector<PortRange>& outer, const std::vector<PortRange>& inner);

}  // namespace bulwark::config
