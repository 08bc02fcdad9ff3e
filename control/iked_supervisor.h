// bulwark-control runs bulwark-iked (control/ike/) as a child process while the configuration
// has VPN connections, in the exception namespace when there is an exception path: starts it with the same configuration files and the dataplane's socket,
// restarts it when it exits (1 s, doubling to 30 s between attempts), passes reloads on as
// SIGHUP and stops it on shutdown. bulwark-iked reports VPN connections going up and down to
// bulwark-control's socket, for the rule records they control. IKE lives in its own process so that a fault there cannot
// take configuration handling and integrity monitoring down with it (docs/ike.md). What it
// prints (its own and charon's messages) comes back through a pipe, line by line, to `log`:
// bulwark-control's log, syslog and remote syslog, like every other message of the box.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace bulwark::control {

struct IkedOptions {
  std::string program;  // bulwark-iked; empty: IKE is not run
  std::string run_dir = "/run/bulwark/iked";
  std::string dataplane_socket;
  std::string control_socket;  // bulwark-control's, for VPN up/down
  std::vector<std::string> config_files;
  std::function<void(const std::string&)> log;  // each line bulwark-iked prints; empty: inherited stdout
};

class IkedSupervisor {
 public:
  explicit IkedSupervisor(IkedOptions options) : options_(std::move(options)) {}
  ~IkedSupervisor() { stop(); }

  // After every applied configuration: runs bulwark-iked if `wanted`, else stops it; a running
  // one re-reads the configuration. `network_namespace` (empty: this one) is where it runs:
  // the exception namespace, where the box's addresses are and IKE reaches it.
  void configure(bool wanted, const std::string& network_namespace = {});
  // Once per loop: restarts bulwark-iked when it has exited and is still wanted. True when it
  // has just exited: its tunnels are gone.
  bool poll();
  void stop();

 private:
  IkedOptions options_;
  pid_t pid_ = -1;
  bool wanted_ = false;
  std::string namespace_;
  std::chrono::seconds backoff_{1};
  std::chrono::steady_clock::time_point next_start_{};
  int output_ = -1;      // read end of the child's stdout and stderr
  std::string partial_;  // a line not yet complete
  void start();
  void drain_output();
};

// bulwark-iked next to the running program (installed side by side, or in the build tree's
// control/ike/), or empty.
std::string find_iked();

}  // namespace bulwark::control
