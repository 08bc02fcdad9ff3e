// bulwark-control runs bulwark-iked (control/ike/) as a child process while the configuration
// has VPN connections, in the exception namespace when there is an exception path: starts it
// with the same configuration files, the DHCP leases file and the dataplane's socket, restarts
// it when it exits (child_process.h), passes reloads on as SIGHUP and stops it on shutdown.
// bulwark-iked reports VPN connections going up and down to bulwark-control's socket, for the
// rule records they control. IKE lives in its own process so that a fault there cannot take
// configuration handling and integrity monitoring down with it (docs/ike.md). What it prints
// (its own and charon's messages) comes back line by line to `log`: bulwark-control's log,
// syslog and remote syslog, like every other message of the box.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "control/child_process.h"

namespace bulwark::control {

struct IkedOptions {
  std::string program;  // bulwark-iked; empty: IKE is not run
  std::string run_dir = "/run/bulwark/iked";
  std::string dataplane_socket;
  std::string control_socket;  // bulwark-control's, for VPN up/down
  std::string dhcp_leases;     // the leases file bulwark-control writes (config/dhcp_lease.h)
  std::vector<std::string> config_files;
  std::function<void(const std::string&)> log;  // each line bulwark-iked prints, "ike: " in front
};

class IkedSupervisor {
 public:
  explicit IkedSupervisor(IkedOptions options)
      : options_(std::move(options)), child_("bulwark-iked", [this](const std::string& line) {
          options_.log("ike: " + line);
        }) {}

  // After every applied configuration: runs bulwark-iked if `wanted`, else stops it; a running
  // one re-reads the configuration. `network_namespace` (empty: this one) is where it runs:
  // the exception namespace, where the box's addresses are and IKE reaches it.
  void configure(bool wanted, const std::string& network_namespace = {});
  // Once per loop: restarts bulwark-iked when it has exited and is still wanted. True when it
  // has just exited: its tunnels are gone.
  bool poll() { return child_.poll(); }
  void stop() { child_.stop(); }
  // A new value: bulwark-iked was (re)started and knows nothing of the switches' states yet.
  unsigned starts() const { return child_.starts(); }
  std::string socket() const { return options_.run_dir + "/iked.sock"; }

 private:
  IkedOptions options_;
  SupervisedChild child_;
};

// bulwark-iked next to the running program (installed side by side, or in the build tree's
// control/ike/), or empty.
std::string find_iked();

}  // namespace bulwark::control
