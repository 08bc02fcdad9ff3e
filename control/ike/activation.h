// Who started which VPN connection at runtime, and when it stops (manual 10.2, 10.9).
//
// `bulwark vpn up NAME` and a switch (bulwark-control passes `switch NAME` as the starter when a
// switch that controls the connection goes on) start a connection; a connection with a
// deactivation timeout is stopped that long after it was started, whatever started it.
// `bulwark vpn down` and the switch going off stop it. bulwark-iked's timer asks for the due
// stops once a second; `bulwark vpn status` shows the starter and the time left.
#pragma once

#include <ctime>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace bulwark::control::ike {

class Activation {
 public:
  // False when it was already started by `by` (a switch said on again: nothing to do).
  bool started(const std::string& connection, const std::string& by, uint32_t timeout_seconds, std::time_t now);
  void stopped(const std::string& connection);
  bool is_started(const std::string& connection) const;
  // Connections whose deactivation time has come; they count as stopped from now on.
  std::vector<std::string> due(std::time_t now);
  // "started by switch S at 2026-12-08 10:00:00, stops in 120 s", or empty.
  std::string describe(const std::string& connection, std::time_t now) const;

 private:
  struct Start {
    std::string by;
    std::time_t at = 0;
    std::time_t stop_at = 0;  // 0: no deactivation timeout
  };
  mutable std::mutex mutex_;
  std::map<std::string, Start> started_;
};

}  // namespace bulwark::control::ike
