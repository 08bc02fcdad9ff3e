#include "control/ike/retry.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "control/ike/vici_client.h"
#include "control/ike/vici_config.h"

namespace bulwark::control::ike {

void InitiateRetry::set_stopped(const std::string& connection, bool stopped) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopped) {
    stopped_.insert(connection);
  } else {
    stopped_.erase(connection);
  }
  attempts_.erase(connection);
}

std::vector<std::string> InitiateRetry::poll(const config::Tables& tables, std::time_t now) {
  std::vector<std::string> log;
  std::vector<const config::VpnConnectionEntry*> due;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& c : tables.ipsec.connections) {
      if (!c.initiate || !c.initially_started || stopped_.count(c.name)) continue;
      auto failed = status_.failed_at(c.name);
      Attempt& a = attempts_[c.name];
      if (!failed) {  // up, or never failed: the next failure starts the back-off afresh
        a = Attempt{};
        continue;
      }
      const std::time_t delay = std::min<std::time_t>(10 << std::min(a.count, 5), 300);
      if (a.failure == *failed || now < *failed + delay) continue;
      a.failure = *failed;
      ++a.count;
      due.push_back(&c);
    }
  }
  for (const auto* c : due) {
    ViciClient client;
    std::string error;
    if (!client.connect(vici_, error)) {
      log.push_back(fmt::format("VPN {}: cannot start it again: {}", c->name, error));
      continue;
    }
    for (size_t i = 0; i < c->tunnels.size(); ++i) {
      // A negative timeout: charon starts the negotiation and answers at once.
      client.request("initiate", {{"child", child_name(*c, i)}, {"ike", c->name}, {"timeout", "-1"}}, error);
    }
    log.push_back(fmt::format("VPN {}: negotiating again after the failure above", c->name));
  }
  return log;
}

}  // namespace bulwark::control::ike
