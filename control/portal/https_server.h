// A small HTTPS server for the box's own web services (the user firewall's login portal; the
// management API reuses it). libmicrohttpd parses HTTP, its GnuTLS backend does TLS (1.2 and
// 1.3 only); this file adds what the box needs around them: listening sockets created inside
// the exception namespace (the box's own addresses live there, docs/exception-path.md), one per
// address, connection limits overall and per client address, idle timeouts, a bounded request body
// (application/x-www-form-urlencoded is decoded into `form`), and a handler that answers every
// request with a complete response. See docs/user-firewall.md, "The login portal".
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config/net_types.h"

namespace bulwark::control {

struct HttpRequest {
  std::string method;                         // "GET", "POST", ...
  std::string path;                           // without the query string
  std::map<std::string, std::string> query;   // decoded ?a=b&c=d
  std::map<std::string, std::string> form;    // decoded urlencoded POST body
  std::map<std::string, std::string> headers; // names in lower case
  config::Ipv4Address peer;                   // the client's address
  config::Ipv4Address local;                  // the box address it connected to
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

// Called on the server's worker threads, concurrently; must not throw.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpsListener {
  config::Ipv4Address address;
  uint16_t port = 443;
};

struct HttpsServerOptions {
  std::string network_namespace;  // "" = the caller's namespace
  std::vector<HttpsListener> listeners;
  bool tls = true;                // false: plain HTTP (the metrics listener), no certificate
  std::string certificate_pem;    // chain, leaf first
  std::string private_key_pem;
  // One thread per connection (a login may wait seconds for RADIUS without stalling others),
  // so these two bound the threads as well as the sockets.
  unsigned max_connections = 64;
  unsigned max_connections_per_address = 8;
  unsigned connection_timeout_s = 15;
  size_t max_body_bytes = 8192;   // larger bodies: 413
};

class HttpsServer {
 public:
  // Binds every listener and starts serving. nullptr with `error` when a socket cannot be bound
  // or the certificate/key are refused by GnuTLS. Worker threads (and anything they create,
  // such as a RADIUS client's sockets) run in `network_namespace`.
  static std::unique_ptr<HttpsServer> start(const HttpsServerOptions& options, HttpHandler handler,
                                            std::string& error);
  ~HttpsServer();  // stops: closes the listeners, waits for the workers
  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;

  const std::vector<HttpsListener>& listeners() const;

  struct Impl;

 private:
  explicit HttpsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bulwark::control
