// bulwark-dataplane as a service: waits on the control socket for its first table set, starts
// EAL, ports and workers from it, and then applies every further table set as a new generation.
// The management thread (this one) serves the socket; workers never block on it. When the
// control plane goes away the dataplane keeps forwarding with the tables it has.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "config/control_protocol.h"
#include "config/ipsec_records.h"
#include "dataplane/dataplane.h"

namespace bulwark::dataplane {

struct DaemonOptions {
  std::string socket_path = "/run/bulwark/dataplane.sock";
  std::vector<std::string> extra_eal_args;
  bool exception_path = true;  // one tap interface per configured interface
};

class Daemon {
 public:
  explicit Daemon(DaemonOptions options) : options_(std::move(options)) {}
  ~Daemon();

  // Serves until a shutdown request or `stop()`. Returns the process exit status.
  int run();
  void stop() { running_ = false; }

 private:
  config::Message handle(const config::Message& request);
  config::Message apply(const std::string& payload);
  config::Message status(bool json) const;
  config::Message connections(const config::Message& request);
  // kUserGrants: decode, publish to the workers, reply "grants N sessions M".
  config::Message user_grants(const std::string& payload);
  config::Message neighbours(bool json) const;
  bool start(const config::Tables& tables, std::string& error);

  DaemonOptions options_;
  std::atomic<bool> running_{true};
  bool eal_ready_ = false;
  std::unique_ptr<Dataplane> dataplane_;
  // Hands the SAs and policies to the workers (once the dataplane runs; again when it starts).
  void publish_ipsec();

  // The SAs and policies bulwark-iked negotiated; listed by `bulwark sa`.
  config::IpsecState ipsec_;
  std::vector<std::string> boot_ports_;
};

}  // namespace bulwark::dataplane
