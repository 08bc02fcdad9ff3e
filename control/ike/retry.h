// Connections that initiate keep trying, as a VPN gateway's do (manual chapter 15: a peer that
// was unreachable, not configured yet or refused us is tried again): after a failed negotiation
// the connection is started again — 10 s after the failure, then 20, 40 … up to 5 minutes while
// it keeps failing — until it comes up. charon itself gives up after a refusal, and retries a
// lost tunnel only by DPD. `bulwark vpn down` stops the retries, `bulwark vpn up` allows them again.
#pragma once

#include <ctime>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "config/tables.h"
#include "control/ike/vpn_status.h"

namespace bulwark::control::ike {

class InitiateRetry {
 public:
  InitiateRetry(std::string vici_socket, VpnStatus& status) : vici_(std::move(vici_socket)), status_(status) {}
  // By `bulwark vpn down` (stopped) and `up`.
  void set_stopped(const std::string& connection, bool stopped);
  // Once in a while (not on charon's threads): starts what is due; returns the log lines.
  std::vector<std::string> poll(const config::Tables& tables, std::time_t now);

 private:
  struct Attempt {
    std::time_t failure = 0;  // the failure this connection was last retried for
    int count = 0;            // retries since it was last up
  };
  std::string vici_;
  VpnStatus& status_;
  std::mutex mutex_;
  std::set<std::string> stopped_;
  std::map<std::string, Attempt> attempts_;
};

}  // namespace bulwark::control::ike
