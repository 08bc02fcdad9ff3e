#include "control/user_firewall/sessions.h"

#include <algorithm>
#include <ctime>

#include <fmt/format.h>

#include "config/json.h"

namespace bulwark::control {

const char* auth_method_name(AuthMethod m) { return m == AuthMethod::kRadius ? "radius" : "local"; }

namespace {

std::string utc(std::chrono::system_clock::time_point t) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

const char* role_name(config::Role r) {
  switch (r) {
    case config::Role::kInternal: return "internal";
    case config::Role::kExternal: return "external";
    case config::Role::kDmz: return "dmz";
  }
  return "internal";
}

}  // namespace

const config::UserTemplateEntry* UserSessions::find_template(const std::string& name) const {
  if (!tables_) return nullptr;
  for (const auto& t : tables_->user_firewall.templates) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::vector<std::string> UserSessions::templates_of(const std::string& user) const {
  std::vector<std::string> names;
  if (!tables_) return names;
  for (const auto& t : tables_->user_firewall.templates) {
    if (std::find(t.users.begin(), t.users.end(), user) != t.users.end()) names.push_back(t.name);
  }
  return names;
}

UserSessions::Steady::time_point UserSessions::expiry(const Session& s, const config::UserTemplateEntry& t) const {
  const auto timeout = std::chrono::seconds(t.timeout);
  return (t.dynamic_timeout ? s.last_activity : s.login_steady) + timeout;
}

SessionView UserSessions::view(const Session& s) const {
  SessionView v;
  v.session = s.id;
  v.user = s.user;
  v.source = s.source;
  v.interface = s.interface;
  v.method = s.method;
  v.login_time = s.login_time;
  const auto steady_now = Steady::now();
  const auto system_now = System::now();
  for (const auto& name : s.templates) {
    const config::UserTemplateEntry* t = find_template(name);
    if (!t) continue;
    auto left = std::chrono::duration_cast<System::duration>(expiry(s, *t) - steady_now);
    v.templates.push_back({name, t->source_ip.value_or(s.source), t->dynamic_timeout, system_now + left});
  }
  return v;
}

config::UserGrants UserSessions::grants() const {
  config::UserGrants g;
  g.serial = serial_;
  for (const auto& s : sessions_) {
    for (const auto& name : s.templates) {
      const config::UserTemplateEntry* t = find_template(name);
      if (!t) continue;
      g.grants.push_back({s.id, t->source_ip.value_or(s.source), s.role, name});
    }
  }
  return g;
}

bool UserSessions::push_locked(std::string& error) {
  ++serial_;
  return backend_.push(grants(), error);
}

void UserSessions::end_locked(size_t index, const std::string& why) {
  const Session& s = sessions_[index];
  backend_.log(fmt::format("user firewall: {} {} from {} via {} ({})", why, s.user, s.source.str(), s.interface,
                           auth_method_name(s.method)));
  sessions_.erase(sessions_.begin() + static_cast<std::ptrdiff_t>(index));
}

void UserSessions::configure(const config::Tables& tables) {
  std::lock_guard<std::mutex> lock(mutex_);
  tables_ = tables;
  const config::UserFirewallTables& uf = tables_->user_firewall;
  for (size_t i = sessions_.size(); i-- > 0;) {
    Session& s = sessions_[i];
    bool user_known = std::any_of(uf.users.begin(), uf.users.end(), [&](const auto& u) { return u.name == s.user; });
    bool interface_allowed = false;
    for (uint16_t index : uf.login_interfaces) {
      if (index < tables_->interfaces.size() && tables_->interfaces[index].name == s.interface) interface_allowed = true;
    }
    if (!uf.enabled || !user_known || !interface_allowed) {
      end_locked(i, "logged out by reconfiguration:");
      continue;
    }
    // A template that was removed or no longer lists the user is taken away at once; one that was
    // added is not given until the user logs in again (9.3).
    std::vector<std::string> still = templates_of(s.user);
    std::vector<std::string> kept;
    for (const auto& name : s.templates) {
      if (std::find(still.begin(), still.end(), name) != still.end()) {
        kept.push_back(name);
      } else {
        backend_.log(fmt::format("user firewall: template '{}' of {} from {} removed by reconfiguration", name,
                                 s.user, s.source.str()));
      }
    }
    s.templates = std::move(kept);
    if (s.templates.empty()) end_locked(i, "logged out by reconfiguration (no template left):");
  }
  std::string error;
  if (!push_locked(error)) backend_.log("user firewall: grants not applied after reconfiguration: " + error);
}

LoginOutcome UserSessions::login(const LoginRequest& request) {
  std::lock_guard<std::mutex> lock(mutex_);
  LoginOutcome out;
  if (!tables_ || !tables_->user_firewall.enabled) {
    out.error = "the user firewall is not enabled";
    return out;
  }
  const config::InterfaceEntry* interface = nullptr;
  for (const auto& i : tables_->interfaces) {
    if (i.name == request.interface) interface = &i;
  }
  if (!interface) {
    out.error = "logins are not accepted on this interface";
    return out;
  }
  std::vector<std::string> templates = templates_of(request.user);
  if (templates.empty()) {
    out.error = "no user firewall template is assigned to this user";
    backend_.log(fmt::format("user firewall: login {} from {} via {} ({}) refused: no template", request.user,
                             request.source.str(), request.interface, auth_method_name(request.method)));
    return out;
  }
  auto it = std::find_if(sessions_.begin(), sessions_.end(),
                         [&](const Session& s) { return s.user == request.user && s.source == request.source; });
  const bool renewed = it != sessions_.end();
  Session previous;
  if (renewed) previous = *it;
  Session& s = renewed ? *it : sessions_.emplace_back();
  if (!renewed) s.id = next_id_++;
  s.user = request.user;
  s.source = request.source;
  s.interface = request.interface;
  s.role = interface->role;
  s.method = request.method;
  s.login_time = System::now();
  s.login_steady = Steady::now();
  s.last_activity = s.login_steady;
  s.templates = std::move(templates);
  std::string error;
  if (!push_locked(error)) {
    if (renewed) {
      *it = previous;
    } else {
      sessions_.pop_back();
    }
    backend_.log(fmt::format("user firewall: login {} from {} failed: dataplane: {}", request.user,
                             request.source.str(), error));
    out.error = "the firewall could not be updated; try again";
    return out;
  }
  out.ok = true;
  out.session = view(s);
  std::string unlocked;
  for (const auto& t : out.session.templates) {
    unlocked += fmt::format("{}'{}' for {} until {}{}", unlocked.empty() ? "" : ", ", t.name, t.source.str(),
                            utc(t.expires), t.dynamic_timeout ? " (dynamic)" : "");
  }
  backend_.log(fmt::format("user firewall: {} {} from {} via {} ({}): {}", renewed ? "login renewed for" : "login",
                           s.user, s.source.str(), s.interface, auth_method_name(s.method), unlocked));
  return out;
}

bool UserSessions::logout_address(config::Ipv4Address source, const std::string& by) {
  std::lock_guard<std::mutex> lock(mutex_);
  bool any = false;
  for (size_t i = sessions_.size(); i-- > 0;) {
    if (sessions_[i].source == source) {
      end_locked(i, "logout (" + by + "):");
      any = true;
    }
  }
  std::string error;
  if (any && !push_locked(error)) backend_.log("user firewall: grants not applied after logout: " + error);
  return any;
}

size_t UserSessions::logout(const std::string& name_or_address, const std::string& by) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto address = config::Ipv4Address::parse(name_or_address);
  size_t ended = 0;
  for (size_t i = sessions_.size(); i-- > 0;) {
    const Session& s = sessions_[i];
    if ((address && s.source == *address) || s.user == name_or_address) {
      end_locked(i, "logout (" + by + "):");
      ++ended;
    }
  }
  std::string error;
  if (ended && !push_locked(error)) backend_.log("user firewall: grants not applied after logout: " + error);
  return ended;
}

std::optional<SessionView> UserSessions::session_of(config::Ipv4Address source) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& s : sessions_) {
    if (s.source == source) return view(s);
  }
  return std::nullopt;
}

void UserSessions::tick() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (sessions_.empty()) return;
  const auto now = Steady::now();
  if (auto activity = backend_.activity()) {
    for (const auto& a : *activity) {
      for (auto& s : sessions_) {
        if (s.id != a.session) continue;
        s.connections = a.connections;
        if (a.idle_ms != config::kNeverActive) {
          s.last_activity = std::max(s.last_activity, now - std::chrono::milliseconds(a.idle_ms));
        }
      }
    }
  }
  bool changed = false;
  for (size_t i = sessions_.size(); i-- > 0;) {
    Session& s = sessions_[i];
    std::vector<std::string> kept;
    for (const auto& name : s.templates) {
      const config::UserTemplateEntry* t = find_template(name);
      if (t && expiry(s, *t) > now) {
        kept.push_back(name);
      } else {
        backend_.log(fmt::format("user firewall: template '{}' of {} from {} expired ({} timeout)", name, s.user,
                                 s.source.str(), t && t->dynamic_timeout ? "dynamic" : "static"));
        changed = true;
      }
    }
    s.templates = std::move(kept);
    if (s.templates.empty()) end_locked(i, "expired:");
  }
  std::string error;
  if (changed && !push_locked(error)) backend_.log("user firewall: grants not applied after expiry: " + error);
}

void UserSessions::resync() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string error;
  if (!push_locked(error)) backend_.log("user firewall: grants not sent to the restarted dataplane: " + error);
}

size_t UserSessions::count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sessions_.size();
}

std::string UserSessions::list(bool json) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (json) {
    std::string out = "{\"users\": [";
    for (size_t i = 0; i < sessions_.size(); ++i) {
      const Session& s = sessions_[i];
      SessionView v = view(s);
      out += fmt::format("{}{{\"user\": {}, \"address\": \"{}\", \"interface\": {}, \"role\": \"{}\", "
                         "\"method\": \"{}\", \"login_time\": \"{}\", \"session\": {}, \"connections\": {}, "
                         "\"templates\": [",
                         i ? ", " : "", config::json_string(s.user), s.source.str(), config::json_string(s.interface),
                         role_name(s.role), auth_method_name(s.method), utc(s.login_time), s.id, s.connections);
      for (size_t j = 0; j < v.templates.size(); ++j) {
        const UnlockedTemplate& t = v.templates[j];
        out += fmt::format("{}{{\"name\": {}, \"source\": \"{}\", \"dynamic\": {}, \"expires\": \"{}\"}}",
                           j ? ", " : "", config::json_string(t.name), t.source.str(),
                           t.dynamic_timeout ? "true" : "false", utc(t.expires));
      }
      out += "]}";
    }
    return out + "]}\n";
  }
  if (sessions_.empty()) return "no users logged in\n";
  std::string out = fmt::format("{:<16} {:<15} {:<20} {:<7} {:>5}  {}\n", "user", "address", "expires (UTC)",
                                "method", "conns", "template");
  for (const auto& s : sessions_) {
    for (const auto& t : view(s).templates) {
      out += fmt::format("{:<16} {:<15} {:<20} {:<7} {:>5}  {}{}\n", s.user, t.source.str(), utc(t.expires),
                         auth_method_name(s.method), s.connections, t.name, t.dynamic_timeout ? " (dynamic)" : "");
    }
  }
  return out;
}

PortalHooks UserSessions::hooks() {
  PortalHooks h;
  h.login = [this](const LoginRequest& r) { return login(r); };
  h.logout = [this](config::Ipv4Address source) { return logout_address(source, "portal"); };
  h.session_of = [this](config::Ipv4Address source) { return session_of(source); };
  return h;
}

}  // namespace bulwark::control
