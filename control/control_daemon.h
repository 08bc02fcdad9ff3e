// bulwark-control: loads the YAML configuration, compiles it and pushes it to the dataplane as
// a numbered generation; re-does so on SIGHUP or a reload request on its own socket.
//
// All-or-nothing: a configuration with errors is reported (every diagnostic) and never pushed,
// and a table set the dataplane refuses leaves the dataplane on its running generation. On start
// the daemon asks the dataplane for its generation and continues the numbering, so a restarted
// control plane re-synchronises without disturbing forwarding.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "config/control_protocol.h"
#include "config/tables.h"
#include "control/cifs/monitor.h"
#include "control/dhcp/dhcp_client.h"
#include "control/iked_supervisor.h"
#include "control/metrics/metrics_server.h"
#include "control/portal/portal.h"
#include "control/syslog/remote_syslog.h"
#include "control/user_firewall/sessions.h"

#include <syslog.h>

#include <chrono>
#include <map>
#include <optional>

namespace bulwark::control {

struct ControlOptions {
  std::vector<std::string> config_files;  // empty = built-in default
  std::string dataplane_socket = "/run/bulwark/dataplane.sock";
  std::string control_socket = "/run/bulwark/control.sock";
  bool exception_path = true;
  int connect_timeout_seconds = 30;
  std::string state_dir = "/var/lib/bulwark";  // integrity databases and reports (cifs/)
  std::string iked;                            // bulwark-iked to run for VPN connections; empty: none
  std::string iked_run_dir = "/run/bulwark/iked";
  std::string dhcp_run_dir = "/run/bulwark/dhcp";  // DHCP event script and leases file
};

class ControlDaemon {
 public:
  explicit ControlDaemon(ControlOptions options)
      : options_(std::move(options)),
        cifs_(options_.state_dir, [this](int priority, const std::string& line) { announce(line, priority); }),
        dhcp_(options_.dhcp_run_dir, [this](const std::string& line) { announce(line); }),
        iked_({options_.iked, options_.iked_run_dir, options_.dataplane_socket, options_.control_socket,
               dhcp_.leases_file(), options_.config_files, [this](const std::string& line) { announce(line); }}),
        sessions_(session_backend()),
        portal_(sessions_.hooks(), options_.state_dir, [this](const std::string& line) { announce(line); }),
        metrics_([this] { return metrics_text(); }, [this](const std::string& line) { announce(line); }) {}

  int run();
  void stop() { running_ = false; }
  void request_reload() { reload_requested_ = true; }

  // Loads, compiles and pushes; the reply text holds every diagnostic.
  config::Message reload();
  // `bulwark record NAME on|off|status` and `bulwark switch NAME on|off|status`.
  config::Message record(const std::string& request);
  config::Message switch_(const std::string& request);
  // From bulwark-iked: "NAME\tup|down"; the rule records the connection controls follow it.
  config::Message vpn_state(const std::string& request);
  // Once a second: a restarted dataplane (another generation than ours) gets the tables again.
  void resync_dataplane();
  void iked_exited();
  // `bulwark users`: "list\tjson|text", "logout\tNAME|ADDRESS", "portal\tjson|text".
  config::Message users(const std::string& request);

 private:
  ControlOptions options_;
  std::atomic<bool> running_{true};
  std::atomic<bool> reload_requested_{false};
  std::mutex reload_mutex_;  // SIGHUP and socket requests may overlap
  uint64_t generation_ = 0;
  std::mutex log_mutex_;   // log_line runs on the portal's threads too
  RemoteSyslog remote_syslog_;  // system.syslog
  std::string log_file_;  // from the last applied configuration (system.log_file); under log_mutex_

  // Runtime state of rule records and switches, kept across reloads for names that remain.
  // A record controlled by a switch follows it; switching a record on starts its deactivation
  // timer. Every change is pushed as a new generation (atomic for the workers).
  std::optional<config::Tables> applied_;
  uint64_t resync_refused_for_ = ~uint64_t{0};  // the dataplane generation a resend failed for
  std::map<std::string, bool> records_;
  std::map<std::string, bool> switches_;
  std::map<std::string, bool> vpn_up_;  // VPN connections with a CHILD SA up, from bulwark-iked
  std::map<std::string, std::chrono::steady_clock::time_point> deactivate_at_;
  unsigned iked_synced_ = ~0u;  // the bulwark-iked start that last got the switches' VPN states

  cifs::CifsMonitor cifs_;
  DhcpClients dhcp_;  // before iked_: it reads their leases file
  IkedSupervisor iked_;
  UserSessions sessions_;  // the user firewall's logged-in users
  Portal portal_;          // their HTTPS login page (after sessions_: it calls into them)
  MetricsServer metrics_;  // GET /metrics (docs/metrics.md)

  // The metrics of a scrape: the dataplane's, then the control plane's own (switches, rule
  // records, VPN connections, remote syslog, DHCP leases).
  std::string metrics_text();

  UserSessions::Backend session_backend();
  // Writes one line to syslog (at `priority`, LOG_*), the configured log file and the remote
  // syslog servers.
  void log_line(const std::string& line, int priority = LOG_INFO);
  // log_line, and the same line on stdout (the service's journal).
  void announce(const std::string& line, int priority = LOG_INFO);

  // Applies the runtime record states to `t` and pushes it as the next generation.
  config::Message push(config::Tables t, std::string report);
  void adopt_runtime_state(const config::Tables& t);
  bool record_active(const config::RuleRecordEntry& r, const config::Tables& t) const;
  void expire_records();

  // VPN connections controlled by a switch (manual 10.9) follow it: bulwark-iked is told to
  // start or stop those of `switch_name` (all switches when empty; with `only_on`, only starts).
  // The report's lines; `ok` false when bulwark-iked did not answer.
  std::string drive_vpn_switches(const std::string& switch_name, bool only_on, bool& ok);
  void resync_vpn_switches();

  // Fetches the dataplane's firewall log lines and writes them to syslog and the log file.
  void forward_log();
};

}  // namespace bulwark::control
