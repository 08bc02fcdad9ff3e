// The dataplane's counters as Prometheus metrics (docs/metrics.md), for bulwark-control's
// /metrics. Built on the control thread from the workers' counters, like `bulwark status`: a
// scrape never touches the workers' loops.
#pragma once

#include <string>
#include <vector>

#include "dataplane/counters.h"
#include "dataplane/dataplane.h"

namespace bulwark::dataplane {

std::string prometheus_metrics(uint64_t generation, const CounterSnapshot& c, const std::vector<PortCounters>& ports,
                               const Dataplane::UserFirewallStatus& users, const config::IpsecUsageReport& sas);

}  // namespace bulwark::dataplane
