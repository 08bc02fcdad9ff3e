// Remote syslog (system.syslog): every line bulwark-control logs — the packet filter's and port
// forwardings' log lines, the user firewall's logins, logouts and expiries, the portal's failures,
// bulwark-iked's messages, the CIFS integrity checks' results — is also sent to each configured server as an RFC 5424 message over UDP (RFC 5426).
//
// Theory of operation
// -------------------
// `configure` follows every applied configuration: one UDP socket per server, created in the
// exception namespace (where the box's addresses are, docs/exception-path.md) and connected to
// the server, so the messages leave from the box's own address through the dataplane like any
// traffic of the box. `send` formats one message (facility daemon, the given severity, the
// host name of system.hostname, APP-NAME "bulwark", MSGID by kind of line) and hands it to the
// kernel without waiting: a full socket buffer or an unreachable server drops the message and
// counts it (`dropped`), so a slow or absent log server never holds up the control plane.
// Formatting is ours (a few lines of RFC 5424; Debian has no library for it to use).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"

namespace bulwark::control {

// RFC 5424 6.2.1 (the same numbers as syslog(3)'s LOG_*).
enum class SyslogSeverity : uint8_t { kAlert = 1, kCritical = 2, kError = 3, kWarning = 4, kNotice = 5, kInfo = 6 };

class RemoteSyslog {
 public:
  RemoteSyslog() = default;
  ~RemoteSyslog();
  RemoteSyslog(const RemoteSyslog&) = delete;
  RemoteSyslog& operator=(const RemoteSyslog&) = delete;

  // Replaces the servers. False with `error` when a socket cannot be made (the others are kept).
  bool configure(const std::vector<config::SyslogServer>& servers, const std::string& hostname,
                 const std::string& network_namespace, std::string& error);
  // Thread-safe; never blocks.
  void send(SyslogSeverity severity, std::string_view msgid, std::string_view text);
  uint64_t sent() const { return sent_.load(); }
  uint64_t dropped() const { return dropped_.load(); }
  // For `bulwark status`: servers, messages sent and dropped (text, or a JSON object).
  std::string status(bool json);

  // One RFC 5424 message (public for the unit tests). `unix_ms`: the time, ms since 1970.
  static std::string format(SyslogSeverity severity, std::string_view hostname, int pid,
                            std::string_view msgid, std::string_view text, int64_t unix_ms);

 private:
  void close_all();
  std::mutex mutex_;
  std::vector<int> sockets_;
  std::string key_;        // the servers and namespace the sockets were made for
  bool complete_ = false;  // every one of them
  std::string hostname_ = "bulwark";
  std::atomic<uint64_t> sent_{0}, dropped_{0};
};

}  // namespace bulwark::control
