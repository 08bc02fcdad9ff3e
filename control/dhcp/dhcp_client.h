// The box's DHCP clients (`dhcp: true` on an external interface, docs/dhcp.md).
//
// Theory of operation: for every such interface bulwark-control runs BusyBox's udhcpc, a
// maintained DHCP client (RFC 2131), on the interface's tap in the exception namespace (the
// dataplane hands the server's answers, UDP 67 → 68, to that tap whatever their destination).
// udhcpc does the protocol — discover, request, renewal at T1, rebinding at T2, expiry, NAKs,
// release on exit — and runs an event script that this class writes: the script only prints the
// event and the lease's options on udhcpc's output, which comes back here through a pipe
// (child_process.h); it changes nothing on the system. A lease that is new or different
// (address, prefix, router) updates the leases file (config/dhcp_lease.h) and asks the daemon to
// load the configuration again: the lease becomes the interface's address in the next
// generation, and %extern, masquerading, port forwarding, IKE and the portal follow. Losing the
// lease (deconfig: expiry, NAK, release) takes the address away the same way. Renewals that
// change nothing only refresh the lease time shown by `bulwark status`.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/dhcp_lease.h"
#include "config/tables.h"
#include "control/child_process.h"

namespace bulwark::control {

// One event line of the script: "bulwark-dhcp\tEVENT\tip\tsubnet\trouter…\tlease\tserverid\tdns…".
struct DhcpEvent {
  std::string event;  // deconfig, bound, renew, leasefail, nak
  std::optional<config::DhcpLease> lease;  // for bound and renew
};
// nullopt when `line` is not an event line (udhcpc's own messages); an event line with a lease
// that makes no sense (bad address, non-contiguous mask) carries no lease and a `problem`.
std::optional<DhcpEvent> parse_dhcp_event(const std::string& interface, const std::string& line,
                                          std::string& problem);

class DhcpClients {
 public:
  // `run_dir` holds the event script and the leases file; `log` gets every message.
  DhcpClients(std::string run_dir, std::function<void(const std::string&)> log);
  ~DhcpClients() { stop(); }

  // After every applied configuration: a client for each dhcp interface of `t` (in the
  // exception namespace `network_namespace`), none for the others.
  void configure(const config::Tables& t, const std::string& network_namespace);
  // Once per main-loop turn: reads the clients' events, restarts exited ones. True when the
  // leases changed: the caller loads the configuration again with leases().
  bool poll();
  std::vector<config::DhcpLease> leases() const;
  std::string leases_file() const { return run_dir_ + "/leases"; }
  // `bulwark status`: each dhcp interface, its lease and when it was obtained.
  std::string status(bool json) const;
  void stop();

 private:
  struct Client {
    std::unique_ptr<SupervisedChild> child;
    std::optional<config::DhcpLease> lease;
    std::chrono::system_clock::time_point since{};  // the lease's last bound or renew
    std::string state = "requesting";
  };
  std::string run_dir_;
  std::function<void(const std::string&)> log_;
  mutable std::mutex mutex_;
  std::map<std::string, Client> clients_;  // by interface name
  bool changed_ = false;

  void on_line(const std::string& interface, const std::string& line);  // mutex_ held
  bool write_script(std::string& error) const;
  void save();  // mutex_ held
};

}  // namespace bulwark::control
