// The user firewall's logged-in users (manual chapter 9), kept by bulwark-control.
//
// Theory of operation
// -------------------
// The login portal (control/portal/) verifies a user's password and calls `login`. A *session*
// is one user logged in from one address through one login interface; it unlocks every template
// of the running configuration that lists the user, each for its own timeout: *static* counts from
// the login, *dynamic* from the last packet other than ICMP on a connection the session's rules
// admitted (9.3.3). Logging in again from the same address renews the session (same id, so its
// connections survive); another user from the same address gets a session of their own.
//
// The dataplane learns the sessions as one set of grants (config/user_grants.h), sent whole after
// every change: login, logout, expiry, reload, and a restarted dataplane (`resync`). A session
// missing from the set has ended, and the dataplane aborts its connections at their next packet.
//
// `tick` runs once a second: it asks the dataplane how long each session has been idle (and how
// many connections it has), ends the templates whose time is up, and ends a session with none
// left. `configure` follows a new configuration (9.3): a template that was removed, or no longer
// lists the user, is taken from the sessions at once; a template added or given to the user later
// needs a new login; a user removed from the configuration (or the user firewall switched off)
// is logged out. Changed rules of a template apply at once, because the dataplane resolves the
// template names against its running generation.
//
// Every login, logout and expiry is written to the log (the portal logs failed logins). Sessions
// live in memory: a restart of bulwark-control ends them all (it sends an empty set on start).
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/tables.h"
#include "config/user_grants.h"
#include "control/user_firewall/login_types.h"

namespace bulwark::control {

class UserSessions {
 public:
  struct Backend {
    // Sends a grant set to the dataplane; false with `error` when it was not applied.
    std::function<bool(const config::UserGrants&, std::string& error)> push;
    // The dataplane's activity report for the last set, or nullopt when it cannot be had.
    std::function<std::optional<std::vector<config::SessionActivity>>()> activity;
    // One line for syslog and the log file.
    std::function<void(const std::string&)> log;
  };

  explicit UserSessions(Backend backend) : backend_(std::move(backend)) {}

  // Follows a newly applied configuration; pushes the resulting set.
  void configure(const config::Tables& tables);
  LoginOutcome login(const LoginRequest& request);
  bool logout_address(config::Ipv4Address source, const std::string& by);
  // `bulwark users logout NAME|ADDRESS`: ends every matching session; how many it ended.
  size_t logout(const std::string& name_or_address, const std::string& by);
  std::optional<SessionView> session_of(config::Ipv4Address source) const;
  // Once a second: activity, expiry.
  void tick();
  // The dataplane was restarted: send it the set again.
  void resync();

  // `bulwark users`: the table of figure 9-2, or JSON.
  std::string list(bool json) const;
  size_t count() const;

  PortalHooks hooks();

 private:
  using Steady = std::chrono::steady_clock;
  using System = std::chrono::system_clock;

  struct Session {
    uint32_t id = 0;
    std::string user;
    config::Ipv4Address source;
    std::string interface;
    config::Role role = config::Role::kInternal;
    AuthMethod method = AuthMethod::kLocal;
    System::time_point login_time;
    Steady::time_point login_steady;
    Steady::time_point last_activity;  // the login, or the dataplane's last reported packet
    uint32_t connections = 0;
    std::vector<std::string> templates;  // names, in configuration order
  };

  const config::UserTemplateEntry* find_template(const std::string& name) const;
  std::vector<std::string> templates_of(const std::string& user) const;
  Steady::time_point expiry(const Session& s, const config::UserTemplateEntry& t) const;
  SessionView view(const Session& s) const;
  config::UserGrants grants() const;
  bool push_locked(std::string& error);
  void end_locked(size_t index, const std::string& why);

  Backend backend_;
  mutable std::mutex mutex_;
  std::optional<config::Tables> tables_;
  std::vector<Session> sessions_;
  uint32_t next_id_ = 1;
  uint64_t serial_ = 0;
};

}  // namespace bulwark::control
