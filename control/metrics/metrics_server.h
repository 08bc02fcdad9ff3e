// The box's Prometheus endpoint (docs/metrics.md): GET /metrics over plain HTTP on every address
// of the `management.metrics.interfaces`, inside the exception namespace like the login portal
// (control/portal/https_server.h, here without TLS: Prometheus scrapes plain HTTP by default, and
// the packet filter decides who reaches the box from outside). The text is rendered per scrape by
// `render` — the dataplane's counters, read on its control thread, and bulwark-control's own —
// so a scrape never touches the dataplane's workers.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/tables.h"
#include "control/portal/https_server.h"

namespace bulwark::control {

class MetricsServer {
 public:
  using Render = std::function<std::string()>;
  MetricsServer(Render render, std::function<void(const std::string&)> log)
      : render_(std::move(render)), log_(std::move(log)) {}

  // After every applied configuration: serves on the configured addresses (restarting only when
  // they or the port changed), or stops. False with `error` when a listener cannot be bound.
  bool apply(const config::Tables& t, const std::string& network_namespace, std::string& error);
  void stop() { server_.reset(); }

  // The answer to one request (public for the unit tests).
  HttpResponse answer(const HttpRequest& request) const;

 private:
  Render render_;
  std::function<void(const std::string&)> log_;
  std::unique_ptr<HttpsServer> server_;
  std::string serving_;  // "ns address:port …" of the running server
};

}  // namespace bulwark::control
