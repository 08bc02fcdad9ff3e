#include "control/metrics/metrics_server.h"

#include <fmt/format.h>

namespace bulwark::control {

HttpResponse MetricsServer::answer(const HttpRequest& request) const {
  HttpResponse r;
  r.content_type = "text/plain; charset=utf-8";
  if (request.path != "/metrics") {
    r.status = 404;
    r.body = "not found: the metrics are at /metrics\n";
    return r;
  }
  if (request.method != "GET" && request.method != "HEAD") {
    r.status = 405;
    r.headers.push_back({"Allow", "GET, HEAD"});
    r.body = "only GET\n";
    return r;
  }
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = render_();
  return r;
}

bool MetricsServer::apply(const config::Tables& t, const std::string& network_namespace, std::string& error) {
  HttpsServerOptions o;
  o.tls = false;
  o.network_namespace = network_namespace;
  o.max_connections = 16;
  o.max_connections_per_address = 4;
  o.connection_timeout_s = 10;
  o.max_body_bytes = 0;
  std::string serving = network_namespace;
  for (uint16_t index : t.management.metrics_interfaces) {
    for (const auto& a : t.interfaces.at(index).addresses) {
      o.listeners.push_back({a.prefix.address, t.management.metrics_port});
      serving += fmt::format(" {}:{}", a.prefix.address.str(), t.management.metrics_port);
    }
  }
  if (o.listeners.empty()) {
    if (server_) log_("metrics: no longer served");
    server_.reset();
    serving_.clear();
    return true;
  }
  if (server_ && serving == serving_) return true;
  server_.reset();  // the port may be the same: the old listeners go first
  serving_.clear();
  server_ = HttpsServer::start(o, [this](const HttpRequest& request) { return answer(request); }, error);
  if (!server_) return false;
  serving_ = serving;
  log_(fmt::format("metrics: serving /metrics on{}", serving.substr(network_namespace.size())));
  return true;
}

}  // namespace bulwark::control
