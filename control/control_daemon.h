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

namespace bulwark::control {

struct ControlOptions {
  std::vector<std::string> config_files;  // empty = built-in default
  std::string dataplane_socket = "/run/bulwark/dataplane.sock";
  std::string control_socket = "/run/bulwark/control.sock";
  bool exception_path = true;
  int connect_timeout_seconds = 30;
};

class ControlDaemon {
 public:
  explicit ControlDaemon(ControlOptions options) : options_(std::move(options)) {}

  int run();
  void stop() { running_ = false; }
  void request_reload() { reload_requested_ = true; }

  // Loads, compiles and pushes; the reply text holds every diagnostic.
  config::Message reload();

 private:
  ControlOptions options_;
  std::atomic<bool> running_{true};
  std::atomic<bool> reload_requested_{false};
  std::mutex reload_mutex_;  // SIGHUP and socket requests may overlap
  uint64_t generation_ = 0;
};

}  // namespace bulwark::control
