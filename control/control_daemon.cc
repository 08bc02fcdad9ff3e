#include "control/control_daemon.h"

#include <syslog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "config/config.h"
#include "config/prometheus.h"
#include "config/user_grants.h"
#include "control/dataplane_client.h"
#include "control/exception_path.h"
#include "config/control_server.h"

namespace bulwark::control {
namespace {

using config::Message;
using config::MessageType;

// The dataplane's generation from its status reply, or 0.
uint64_t dataplane_generation(const std::string& socket, std::string& error) {
  auto reply = request(socket, {MessageType::kGetStatus, {}}, error);
  if (!reply || reply->type != MessageType::kStatus) return 0;
  const std::string key = "\"generation\": ";
  size_t at = reply->payload.find(key);
  return at == std::string::npos ? 0 : std::stoull(reply->payload.substr(at + key.size()));
}

}  // namespace

Message ControlDaemon::reload() {
  std::lock_guard<std::mutex> lock(reload_mutex_);
  config::LoadResult loaded = config::load_files(options_.config_files, generation_ + 1, dhcp_.leases());
  std::string report;
  for (const auto& d : loaded.diagnostics.all()) report += d.str() + "\n";
  if (!loaded.tables) {
    return {MessageType::kError,
            report + fmt::format("configuration rejected; the dataplane keeps generation {}\n", generation_)};
  }
  adopt_runtime_state(*loaded.tables);
  Message result = push(*loaded.tables, report);
  if (result.type == MessageType::kApplied) {
    const std::string ns = options_.exception_path ? loaded.tables->dataplane.exception_namespace : std::string();
    sessions_.configure(*applied_);
    std::string portal_error;
    if (!portal_.apply(*applied_, ns, portal_error)) {
      announce("user firewall: " + portal_error);
      result.payload += "warning: " + portal_error + "\n";
    }
    std::string metrics_error;
    if (!metrics_.apply(*applied_, ns, metrics_error)) {
      announce("metrics: " + metrics_error);
      result.payload += "warning: metrics: " + metrics_error + "\n";
    }
    std::string syslog_error;
    if (!remote_syslog_.configure(loaded.tables->syslog, loaded.tables->hostname, ns, syslog_error)) {
      result.payload += "warning: remote syslog: " + syslog_error + "\n";
    }
    cifs_.apply(*loaded.tables);
    if (options_.exception_path) {
      dhcp_.configure(*loaded.tables, ns);
    } else if (std::any_of(applied_->interfaces.begin(), applied_->interfaces.end(),
                           [](const config::InterfaceEntry& i) { return i.dhcp; })) {
      result.payload += "warning: dhcp: without an exception path the box cannot run its DHCP client\n";
    }
    iked_.configure(!loaded.tables->ipsec.connections.empty(), ns);
    iked_synced_ = ~0u;  // connections newly under a switch that is on start at the next resync
  }
  return result;
}

void ControlDaemon::adopt_runtime_state(const config::Tables& t) {
  std::map<std::string, bool> switches, records;
  for (const auto& s : t.switches) {
    auto it = switches_.find(s.name);
    switches[s.name] = it != switches_.end() ? it->second : s.initial_on;
  }
  switches_ = std::move(switches);
  for (const auto& r : t.firewall.records) {
    auto it = records_.find(r.name);
    records[r.name] = it != records_.end() ? it->second : r.initially_active;
  }
  records_ = std::move(records);
}

bool ControlDaemon::record_active(const config::RuleRecordEntry& r, const config::Tables& t) const {
  if (r.control == config::ControlKind::kSwitch) return switches_.at(t.switches.at(r.control_index).name);
  if (r.control == config::ControlKind::kVpn && r.control_index < t.ipsec.connections.size()) {
    auto it = vpn_up_.find(t.ipsec.connections[r.control_index].name);
    return it != vpn_up_.end() && it->second;  // active while the connection is established
  }
  return records_.at(r.name);
}

Message ControlDaemon::push(config::Tables t, std::string report) {
  t.generation = generation_ + 1;
  for (auto& r : t.firewall.records) r.initially_active = record_active(r, t);
  std::string error;
  auto reply = request(options_.dataplane_socket,
                       {MessageType::kApply, config::encode_dataplane_tables(t)}, error);
  if (!reply) return {MessageType::kError, report + "dataplane unreachable: " + error + "\n"};
  if (reply->type != MessageType::kApplied) {
    return {MessageType::kError, report + "dataplane refused the tables: " + reply->payload + "\n"};
  }
  generation_ = t.generation;
  {
    std::lock_guard<std::mutex> log_lock(log_mutex_);
    log_file_ = t.log_file;
  }
  if (options_.exception_path && !configure_exception_path(t, error)) {
    report += "warning: exception path: " + error + "\n";
  }
  applied_ = std::move(t);
  return {MessageType::kApplied, report + fmt::format("applied generation {}\n", generation_)};
}

namespace {

// "NAME\tVERB" → {NAME, VERB}
std::pair<std::string, std::string> split_request(const std::string& request) {
  size_t tab = request.find('\t');
  if (tab == std::string::npos) return {request, "status"};
  return {request.substr(0, tab), request.substr(tab + 1)};
}

}  // namespace

Message ControlDaemon::record(const std::string& request_text) {
  std::lock_guard<std::mutex> lock(reload_mutex_);
  if (!applied_) return {MessageType::kError, "no configuration applied yet\n"};
  auto [name, verb] = split_request(request_text);
  const config::Tables& t = *applied_;
  auto describe = [&](const config::RuleRecordEntry& r) {
    std::string state = record_active(r, t) ? "active" : "inactive";
    std::string control;
    if (r.control == config::ControlKind::kSwitch) {
      control = fmt::format(", controlled by switch {}", t.switches.at(r.control_index).name);
    } else if (r.control == config::ControlKind::kVpn && r.control_index < t.ipsec.connections.size()) {
      control = fmt::format(", controlled by VPN connection {}", t.ipsec.connections[r.control_index].name);
    }
    std::string timer;
    if (auto it = deactivate_at_.find(r.name); it != deactivate_at_.end()) {
      auto left = std::chrono::duration_cast<std::chrono::seconds>(it->second - std::chrono::steady_clock::now());
      timer = fmt::format(", switches off in {} s", std::max<long>(0, left.count()));
    }
    return fmt::format("{}: {}{}{}\n", r.name, state, control, timer);
  };
  if (verb == "status") {
    std::string out;
    for (const auto& r : t.firewall.records) {
      if (name.empty() || r.name == name) out += describe(r);
    }
    if (out.empty()) return {MessageType::kError, fmt::format("no rule record '{}'\n", name)};
    return {MessageType::kApplied, out};
  }
  if (verb != "on" && verb != "off") return {MessageType::kError, "expected on, off or status\n"};
  const config::RuleRecordEntry* rec = nullptr;
  for (const auto& r : t.firewall.records) {
    if (r.name == name) rec = &r;
  }
  if (!rec) return {MessageType::kError, fmt::format("no rule record '{}'\n", name)};
  if (rec->control == config::ControlKind::kSwitch) {
    return {MessageType::kError, fmt::format("'{}' follows switch {}; use bulwark switch\n", name,
                                             t.switches.at(rec->control_index).name)};
  }
  if (rec->control == config::ControlKind::kVpn) {
    return {MessageType::kError, fmt::format("'{}' follows its VPN connection; use bulwark vpn up|down\n", name)};
  }
  records_[name] = verb == "on";
  deactivate_at_.erase(name);
  if (verb == "on" && rec->deactivation_timeout > 0) {
    deactivate_at_[name] = std::chrono::steady_clock::now() + std::chrono::seconds(rec->deactivation_timeout);
  }
  std::string text = describe(*rec);
  Message result = push(t, "");
  result.payload = text + result.payload;
  return result;
}

Message ControlDaemon::switch_(const std::string& request_text) {
  std::lock_guard<std::mutex> lock(reload_mutex_);
  if (!applied_) return {MessageType::kError, "no configuration applied yet\n"};
  auto [name, verb] = split_request(request_text);
  auto it = switches_.find(name);
  if (it == switches_.end()) return {MessageType::kError, fmt::format("no switch '{}'\n", name)};
  if (verb == "status") return {MessageType::kApplied, fmt::format("{}: {}\n", name, it->second ? "on" : "off")};
  if (verb != "on" && verb != "off") return {MessageType::kError, "expected on, off or status\n"};
  it->second = verb == "on";
  Message result = push(*applied_, "");
  bool ok = true;
  result.payload = fmt::format("{}: {}\n", name, verb) + drive_vpn_switches(name, false, ok) + result.payload;
  return result;
}

std::string ControlDaemon::drive_vpn_switches(const std::string& switch_name, bool only_on, bool& ok) {
  ok = true;
  if (!applied_) return {};
  std::string report;
  for (const auto& c : applied_->ipsec.connections) {
    if (c.controlling_switch >= applied_->switches.size()) continue;
    const std::string& s = applied_->switches[c.controlling_switch].name;
    if (!switch_name.empty() && s != switch_name) continue;
    const bool on = switches_.at(s);
    if (only_on && !on) continue;
    std::string error;
    auto reply = request(iked_.socket(), {MessageType::kVpn, fmt::format("{}\t{}\tswitch {}", on ? "up" : "down", c.name, s)},
                         error);
    if (!reply) {
      ok = false;
      report += fmt::format("VPN {}: bulwark-iked did not answer ({}); it follows the switch when it runs\n", c.name, error);
      continue;
    }
    report += reply->payload;
  }
  return report;
}

void ControlDaemon::resync_vpn_switches() {
  std::lock_guard<std::mutex> lock(reload_mutex_);
  const unsigned starts = iked_.starts();
  if (starts == iked_synced_ || starts == 0) return;
  bool ok = false;
  std::string report = drive_vpn_switches("", true, ok);
  if (!ok) return;  // not listening yet: next time
  iked_synced_ = starts;
  if (!report.empty()) fmt::print("{}", report);
  std::fflush(stdout);
}

void ControlDaemon::resync_dataplane() {
  std::lock_guard<std::mutex> lock(reload_mutex_);
  if (!applied_) return;
  std::string error;
  auto reply = request(options_.dataplane_socket, {MessageType::kGetStatus, "json"}, error);
  if (!reply || reply->type != MessageType::kStatus) return;  // not there (yet): nothing to do now
  // A dataplane that runs another generation than ours was restarted (or started after us).
  const std::string key = "\"generation\": ";
  size_t at = reply->payload.find(key);
  if (at == std::string::npos) return;
  uint64_t running = std::strtoull(reply->payload.c_str() + at + key.size(), nullptr, 10);
  if (running == generation_ || running == resync_refused_for_) return;
  const uint64_t ours = generation_;
  Message result = push(*applied_, "");
  resync_refused_for_ = result.type == MessageType::kApplied ? ~uint64_t{0} : running;  // say it once
  if (result.type == MessageType::kApplied) sessions_.resync();  // its logged-in users too
  fmt::print("bulwark-dataplane runs generation {}, not {}: tables sent again\n{}", running, ours, result.payload);
  std::fflush(stdout);
}

void ControlDaemon::iked_exited() {
  std::vector<std::string> up;
  {
    std::lock_guard<std::mutex> lock(reload_mutex_);
    for (const auto& [name, is_up] : vpn_up_) {
      if (is_up) up.push_back(name);
    }
  }
  for (const auto& name : up) vpn_state(name + "\tdown");  // its tunnels died with it
}

Message ControlDaemon::vpn_state(const std::string& request_text) {
  std::lock_guard<std::mutex> lock(reload_mutex_);
  auto [name, state] = split_request(request_text);
  if (state != "up" && state != "down") return {MessageType::kError, "expected NAME\tup or NAME\tdown\n"};
  bool up = state == "up";
  bool changed = vpn_up_[name] != up;
  vpn_up_[name] = up;
  fmt::print("VPN {} {}\n", name, up ? "up" : "down");
  std::fflush(stdout);
  if (!changed || !applied_) return {MessageType::kApplied, "noted\n"};
  bool controls_records = false;
  for (const auto& r : applied_->firewall.records) {
    controls_records |= r.control == config::ControlKind::kVpn && r.control_index < applied_->ipsec.connections.size() &&
                        applied_->ipsec.connections[r.control_index].name == name;
  }
  if (!controls_records) return {MessageType::kApplied, "noted\n"};
  Message result = push(*applied_, fmt::format("VPN {} {}: rule records follow\n", name, up ? "up" : "down"));
  fmt::print("{}", result.payload);
  std::fflush(stdout);
  return result;
}

void ControlDaemon::expire_records() {
  std::lock_guard<std::mutex> lock(reload_mutex_);
  auto now = std::chrono::steady_clock::now();
  bool changed = false;
  for (auto it = deactivate_at_.begin(); it != deactivate_at_.end();) {
    if (it->second <= now) {
      records_[it->first] = false;
      it = deactivate_at_.erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  if (changed && applied_) {
    Message result = push(*applied_, "deactivation timeout: ");
    fmt::print("{}", result.payload);
  }
}

void ControlDaemon::log_line(const std::string& line, int priority) {
  syslog(priority, "%s", line.c_str());
  const bool firewall = line.rfind("fw-", 0) == 0 || line.rfind("fwd-", 0) == 0;
  const bool user_firewall = line.rfind("user firewall:", 0) == 0;
  const bool ike = line.rfind("ike:", 0) == 0;
  const bool cifs = line.rfind("cifs ", 0) == 0;
  const int severity = priority != LOG_INFO ? priority : line.rfind("warning:", 0) == 0 ? LOG_WARNING : LOG_INFO;
  remote_syslog_.send(static_cast<SyslogSeverity>(severity),
                      firewall ? "firewall" : user_firewall ? "userfw" : ike ? "ike" : cifs ? "cifs" : "bulwark", line);
  std::lock_guard<std::mutex> lock(log_mutex_);
  if (log_file_.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(log_file_).parent_path(), ec);
  std::ofstream file(log_file_, std::ios::app);
  if (!file) return;
  auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  localtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  file << stamp << " " << line << "\n";
}

void ControlDaemon::forward_log() {
  std::string error;
  auto reply = request(options_.dataplane_socket, {MessageType::kGetLog, {}}, error);
  if (!reply || reply->type != MessageType::kLog || reply->payload.empty()) return;
  size_t start = 0;
  while (start < reply->payload.size()) {
    size_t end = reply->payload.find('\n', start);
    if (end == std::string::npos) end = reply->payload.size();
    log_line(reply->payload.substr(start, end - start));
    start = end + 1;
  }
}

UserSessions::Backend ControlDaemon::session_backend() {
  UserSessions::Backend b;
  b.push = [this](const config::UserGrants& grants, std::string& error) {
    auto reply = request(options_.dataplane_socket, {MessageType::kUserGrants, config::encode_user_grants(grants)},
                         error);
    if (!reply) return false;
    if (reply->type != MessageType::kApplied) {
      error = reply->payload;
      return false;
    }
    return true;
  };
  b.activity = [this]() -> std::optional<std::vector<config::SessionActivity>> {
    std::string error;
    auto reply = request(options_.dataplane_socket, {MessageType::kUserActivity, {}}, error);
    if (!reply || reply->type != MessageType::kApplied) return std::nullopt;
    return config::decode_session_activity(reply->payload, error);
  };
  b.log = [this](const std::string& line) { announce(line); };
  return b;
}

std::string ControlDaemon::metrics_text() {
  std::string error;
  auto reply = request(options_.dataplane_socket, {MessageType::kGetStatus, "prometheus"}, error);
  const bool dataplane = reply && reply->type == MessageType::kStatus;
  config::MetricsWriter w;
  w.family("bulwark_dataplane_up", "gauge", "1 when the dataplane answered this scrape (its metrics are then included).");
  w.sample(dataplane ? 1 : 0);
  {
    std::lock_guard<std::mutex> lock(reload_mutex_);
    w.family("bulwark_control_generation", "gauge", "The configuration generation bulwark-control applied last.");
    w.sample(generation_);
    if (applied_) {
      w.family("bulwark_switch_on", "gauge", "1 while the switch is on.");
      for (const auto& s : applied_->switches) w.sample(switches_.at(s.name) ? 1 : 0, {{"switch", s.name}});
      w.family("bulwark_rule_record_active", "gauge", "1 while the rule record is active.");
      for (const auto& r : applied_->firewall.records) w.sample(record_active(r, *applied_) ? 1 : 0, {{"record", r.name}});
      w.family("bulwark_vpn_connection_up", "gauge", "1 while the VPN connection has a CHILD SA up.");
      for (const auto& c : applied_->ipsec.connections) {
        auto it = vpn_up_.find(c.name);
        w.sample(it != vpn_up_.end() && it->second ? 1 : 0, {{"connection", c.name}});
      }
    }
  }
  w.family("bulwark_syslog_messages_total", "counter", "Messages for the remote syslog servers, sent or dropped.");
  w.sample(remote_syslog_.sent(), {{"result", "sent"}});
  w.sample(remote_syslog_.dropped(), {{"result", "dropped"}});
  const auto leases = dhcp_.leases();
  if (!leases.empty()) {
    w.family("bulwark_dhcp_lease_seconds", "gauge", "The lease time of the interface's DHCP lease.");
    for (const auto& l : leases) w.sample(l.lease_seconds, {{"interface", l.interface}, {"address", l.address.str()}});
  }
  return (dataplane ? reply->payload : std::string()) + w.text();
}

void ControlDaemon::announce(const std::string& line, int priority) {
  log_line(line, priority);
  std::lock_guard<std::mutex> lock(log_mutex_);  // one line at a time on stdout as well
  fmt::print("{}\n", line);
  std::fflush(stdout);
}

Message ControlDaemon::users(const std::string& request_text) {
  std::vector<std::string> f = config::split_fields(request_text, 2);
  if (f[0] == "list") return {MessageType::kApplied, sessions_.list(f[1] == "json")};
  if (f[0] == "logout") {
    size_t ended = sessions_.logout(f[1], "bulwark users logout");
    if (ended == 0) return {MessageType::kError, fmt::format("no logged-in user or address '{}'\n", f[1])};
    return {MessageType::kApplied, fmt::format("logged out {} session{}\n", ended, ended == 1 ? "" : "s")};
  }
  if (f[0] == "portal") return {MessageType::kApplied, portal_.status(f[1] == "json")};
  if (f[0] == "syslog") return {MessageType::kApplied, remote_syslog_.status(f[1] == "json")};
  if (f[0] == "dhcp") return {MessageType::kApplied, dhcp_.status(f[1] == "json")};
  return {MessageType::kError, "expected list, logout NAME|ADDRESS, portal, syslog or dhcp\n"};
}

int ControlDaemon::run() {
  // Wait for the dataplane, then continue its generation numbering.
  std::string error;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options_.connect_timeout_seconds);
  while (true) {
    auto reply = request(options_.dataplane_socket, {MessageType::kGetStatus, {}}, error);
    if (reply) break;
    if (std::chrono::steady_clock::now() > deadline || !running_) {
      fmt::print(stderr, "bulwark-control: {}\n", error);
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  generation_ = dataplane_generation(options_.dataplane_socket, error);

  Message first = reload();
  fmt::print("{}", first.payload);
  std::fflush(stdout);
  if (first.type != MessageType::kApplied && generation_ == 0) return 1;

  config::ControlServer server;
  if (!server.listen(options_.control_socket, error)) {
    fmt::print(stderr, "bulwark-control: {}\n", error);
    return 1;
  }
  // SIGHUP sets reload_requested_; the socket thread answers `bulwark reload`.
  std::thread socket_thread([&] {
    server.serve([this](const Message& m) -> Message {
      switch (m.type) {
        case MessageType::kReload: return reload();
        case MessageType::kRecord: return record(m.payload);
        case MessageType::kSwitch: return switch_(m.payload);
        case MessageType::kCifs: return cifs_.request(m.payload);
        case MessageType::kVpnState: return vpn_state(m.payload);
        case MessageType::kUsers: return users(m.payload);
        default: return {MessageType::kError, "bulwark-control answers reload, record, switch, cifs and users requests"};
      }
    }, running_);
  });
  openlog("bulwark", LOG_PID, LOG_DAEMON);
  for (unsigned tick = 0; running_; ++tick) {
    forward_log();
    expire_records();
    if (tick % 10 == 0) {
      resync_dataplane();
      resync_vpn_switches();
      sessions_.tick();
    }
    cifs_.tick();
    if (iked_.poll()) iked_exited();
    if (dhcp_.poll()) {  // a lease came, changed or ended: the box's addresses follow
      Message result = reload();
      if (result.type == MessageType::kApplied) {
        fmt::print("{}", result.payload);
        std::fflush(stdout);
      } else {
        announce("dhcp: the configuration with the new lease was refused:\n" + result.payload, LOG_ERR);
      }
    }
    if (reload_requested_.exchange(false)) {
      Message result = reload();
      fmt::print("{}", result.payload);
      std::fflush(stdout);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  socket_thread.join();
  portal_.stop();
  metrics_.stop();
  iked_.stop();
  dhcp_.stop();  // releases the leases
  return 0;
}

}  // namespace bulwark::control
