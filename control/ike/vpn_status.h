// What `bulwark vpn status` says about each VPN connection: waiting, pending or established,
// with the SAs, and — for the failures of manual chapter 15 — what went wrong and what to check.
// Fed by charon's bus (charon_shim.h events) from charon's threads.
#pragma once

#include <ctime>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/tables.h"
#include "control/ike/charon_shim.h"

namespace bulwark::control::ike {

class VpnStatus {
 public:
  // The connections and their remote gateways, so that an event known only by the peer's
  // address ("@ADDRESS": a responder before it has chosen a connection) reaches the
  // connections that address could belong to.
  void set_connections(const config::Tables& t);
  void on_event(const std::string& connection, int kind, const std::string& detail, uint32_t reqid = 0);
  // The reqids of the connection's CHILD SAs that are up (to pick its SAs from the database).
  std::set<uint32_t> reqids(const std::string& connection);
  // One paragraph per connection of `t` (all when `name` is empty); empty if `name` is unknown.
  // `started`: who started a connection and when it stops (activation.h), by name.
  std::string describe(const config::Tables& t, const std::string& name, const std::string& sas_text,
                       const std::map<std::string, std::string>& started = {});
  std::string describe_json(const config::Tables& t, const std::string& name);
  // When the connection's last negotiation failed and it has no IKE SA: the time of the failure.
  std::optional<std::time_t> failed_at(const std::string& connection);

 private:
  struct State {
    bool ike_up = false;
    int children_up = 0;
    std::map<uint32_t, int> reqids;  // CHILD SAs up, by reqid
    std::time_t since = 0;
    std::string problem;  // plain words and what to check; cleared when a CHILD SA comes up
    std::time_t problem_at = 0;
  };
  std::mutex mutex_;
  std::map<std::string, State> states_;
  std::vector<std::pair<std::string, std::string>> gateways_;  // connection, remote gateway
  void apply(State& s, int kind, const std::string& detail, uint32_t reqid);
  std::string state_word(const config::VpnConnectionEntry& c, const State& s) const;
};

// The chapter-15 explanation of a failure kind: what is wrong and what to check.
std::string explain(int kind, const std::string& detail);

}  // namespace bulwark::control::ike
