#include "control/dhcp/dhcp_client.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "config/control_protocol.h"
#include "config/json.h"

namespace bulwark::control {
namespace {

constexpr const char* kEventMarker = "bulwark-dhcp";

// The event script udhcpc runs: it reports and changes nothing (the header explains why).
constexpr const char* kScript =
    "#!/bin/sh\n"
    "# Written by bulwark-control; udhcpc runs it at every DHCP event. It only reports the event\n"
    "# on udhcpc's output, which bulwark-control reads; bulwark-control configures the box.\n"
    "printf 'bulwark-dhcp\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n' \"$1\" \"$ip\" \"$subnet\" \"$router\" \"$lease\" "
    "\"$serverid\" \"$dns\"\n";

std::vector<config::Ipv4Address> addresses(const std::string& list) {
  std::vector<config::Ipv4Address> out;
  for (const auto& word : config::split_text(list, ' ')) {
    if (auto a = config::Ipv4Address::parse(word)) out.push_back(*a);
  }
  return out;
}

// udhcpc's own program: the udhcpc applet's link, or BusyBox itself.
std::vector<std::string> udhcpc_command() {
  std::error_code ec;
  for (const char* path : {"/sbin/udhcpc", "/usr/sbin/udhcpc", "/bin/udhcpc", "/usr/bin/udhcpc"}) {
    if (std::filesystem::exists(path, ec)) return {path};
  }
  for (const char* path : {"/bin/busybox", "/usr/bin/busybox"}) {
    if (std::filesystem::exists(path, ec)) return {path, "udhcpc"};
  }
  return {};
}

// A host address a DHCP server may hand out: not 0/8, loopback, multicast or broadcast.
bool usable_host(config::Ipv4Address a) {
  const uint32_t first = a.value >> 24;
  return first != 0 && first != 127 && first < 224;
}

}  // namespace

std::optional<DhcpEvent> parse_dhcp_event(const std::string& interface, const std::string& line,
                                          std::string& problem) {
  std::vector<std::string> f = config::split_text(line, '\t');
  if (f.size() != 8 || f[0] != kEventMarker) return std::nullopt;
  DhcpEvent e;
  e.event = f[1];
  if (e.event != "bound" && e.event != "renew") return e;
  auto ip = config::Ipv4Address::parse(f[2]);
  auto mask = config::Ipv4Address::parse(f[3]);
  if (!ip || !usable_host(*ip)) {
    problem = fmt::format("the server offered '{}', which is no host address", f[2]);
    return e;
  }
  uint8_t length = mask ? static_cast<uint8_t>(__builtin_popcount(mask->value)) : 0;
  if (!mask || config::Ipv4Prefix::mask_of(length) != mask->value || length < 8) {
    problem = fmt::format("the server gave the subnet mask '{}', which is not one of /8 to /32", f[3]);
    return e;
  }
  config::DhcpLease lease;
  lease.interface = interface;
  lease.address = {*ip, length};
  auto routers = addresses(f[4]);
  // The first router on the leased network (RFC 2132 3.5: in order of preference).
  for (const auto& r : routers) {
    if (lease.address.contains(r) && r != *ip && !(lease.address.length < 31 && r == lease.address.last())) {
      lease.router = r;
      break;
    }
  }
  if (!routers.empty() && !lease.router) {
    problem = fmt::format("the router {} is not on the leased network {}: no default route", f[4],
                          lease.address.canonical().str());
  }
  try {
    lease.lease_seconds = f[5].empty() ? 0 : static_cast<uint32_t>(std::stoul(f[5]));
  } catch (const std::exception&) {
    lease.lease_seconds = 0;
  }
  if (auto server = config::Ipv4Address::parse(f[6])) lease.server = *server;
  lease.dns = addresses(f[7]);
  e.lease = lease;
  return e;
}

DhcpClients::DhcpClients(std::string run_dir, std::function<void(const std::string&)> log)
    : run_dir_(std::move(run_dir)), log_(std::move(log)) {}

bool DhcpClients::write_script(std::string& error) const {
  std::error_code ec;
  std::filesystem::create_directories(run_dir_, ec);
  chmod(run_dir_.c_str(), 0755);
  const std::string path = run_dir_ + "/udhcpc-event";
  std::ofstream(path, std::ios::trunc) << kScript;
  if (chmod(path.c_str(), 0755) != 0) {
    error = fmt::format("cannot write the DHCP event script {}", path);
    return false;
  }
  return true;
}

void DhcpClients::configure(const config::Tables& t, const std::string& network_namespace) {
  std::lock_guard<std::mutex> lock(mutex_);
  bool any = false;
  for (const auto& i : t.interfaces) any |= i.dhcp;
  std::vector<std::string> program = any ? udhcpc_command() : std::vector<std::string>{};
  std::string error;
  if (any && program.empty()) log_("dhcp: udhcpc (Debian package udhcpc or busybox) is not installed: no DHCP client");
  if (any && !program.empty() && !write_script(error)) {
    log_("dhcp: " + error);
    program.clear();
  }
  std::vector<std::string> wanted;
  for (const auto& i : t.interfaces) {
    if (!i.dhcp || program.empty()) continue;
    wanted.push_back(i.name);
    Client& c = clients_[i.name];
    if (!c.child) {
      const std::string name = i.name;
      c.child = std::make_unique<SupervisedChild>(fmt::format("udhcpc on {}", name),
                                                  [this, name](const std::string& line) { on_line(name, line); });
    }
    std::vector<std::string> argv = program;
    // Foreground, our script, release on exit; three discovers 3 s apart, then 10 s of rest.
    for (const char* a : {"-f", "-R", "-t", "3", "-T", "3", "-A", "10", "-i"}) argv.push_back(a);
    argv.push_back(config::exception_tap_name(i.name));
    argv.push_back("-s");
    argv.push_back(run_dir_ + "/udhcpc-event");
    if (!t.hostname.empty()) {
      argv.push_back("-x");
      argv.push_back("hostname:" + t.hostname);  // option 12, so the ISP's server can name the box
    }
    argv.push_back("-V");
    argv.push_back("bulwark");
    c.child->run(argv, network_namespace);
  }
  // Clients of interfaces that no longer use DHCP: stopped (releasing their lease).
  for (auto it = clients_.begin(); it != clients_.end();) {
    if (std::find(wanted.begin(), wanted.end(), it->first) != wanted.end()) {
      ++it;
      continue;
    }
    it->second.child->stop();
    if (it->second.lease) changed_ = true;
    it = clients_.erase(it);
  }
  if (changed_) save();  // the configuration being applied no longer uses that lease
  changed_ = false;
}

void DhcpClients::on_line(const std::string& interface, const std::string& line) {
  std::string problem;
  auto event = parse_dhcp_event(interface, line, problem);
  if (!event) {
    log_(fmt::format("dhcp: {}: {}", interface, line));  // udhcpc's own messages
    return;
  }
  if (!problem.empty()) log_(fmt::format("dhcp: {}: warning: {}", interface, problem));
  auto found = clients_.find(interface);
  if (found == clients_.end()) return;
  Client& c = found->second;
  if (event->lease) {
    const bool same = c.lease && c.lease->address == event->lease->address && c.lease->router == event->lease->router;
    if (!same) {
      log_(fmt::format("dhcp: {}: lease {}{}", interface, event->lease->describe(),
                       c.lease ? fmt::format(" (was {})", c.lease->address.str()) : ""));
      changed_ = true;
    }
    c.lease = event->lease;
    c.since = std::chrono::system_clock::now();
    c.state = "bound";
    return;
  }
  if (event->event == "deconfig" || event->event == "nak" || event->event == "leasefail") {
    if (c.lease) {
      log_(fmt::format("dhcp: {}: lease of {} ended ({})", interface, c.lease->address.str(), event->event));
      c.lease.reset();
      changed_ = true;
    } else if (event->event == "leasefail") {
      log_(fmt::format("dhcp: {}: no DHCP server answered; trying again", interface));
    }
    c.state = event->event == "leasefail" ? "no server answered" : "requesting";
  }
}

void DhcpClients::save() {
  std::vector<config::DhcpLease> all;
  for (const auto& [name, c] : clients_) {
    if (c.lease) all.push_back(*c.lease);
  }
  std::string error;
  std::error_code ec;
  std::filesystem::create_directories(run_dir_, ec);
  if (!config::write_leases_file(leases_file(), all, error)) log_("dhcp: " + error);
}

bool DhcpClients::poll() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [name, c] : clients_) c.child->poll();
  if (!changed_) return false;
  save();
  changed_ = false;
  return true;
}

std::vector<config::DhcpLease> DhcpClients::leases() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<config::DhcpLease> out;
  for (const auto& [name, c] : clients_) {
    if (c.lease) out.push_back(*c.lease);
  }
  return out;
}

std::string DhcpClients::status(bool json) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  for (const auto& [name, c] : clients_) {
    const long age = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - c.since).count();
    if (json) {
      out += out.empty() ? "" : ", ";
      out += fmt::format("{}: {{\"state\": {}", config::json_string(name), config::json_string(c.state));
      if (c.lease) {
        std::string dns;
        for (const auto& d : c.lease->dns) dns += (dns.empty() ? "" : ", ") + config::json_string(d.str());
        out += fmt::format(", \"address\": \"{}\", \"router\": {}, \"server\": \"{}\", \"lease_seconds\": {}, "
                           "\"renewed_seconds_ago\": {}, \"dns\": [{}]",
                           c.lease->address.str(), c.lease->router ? config::json_string(c.lease->router->str()) : "null",
                           c.lease->server.str(), c.lease->lease_seconds, age, dns);
      }
      out += "}";
    } else if (c.lease) {
      out += fmt::format("dhcp {}: {}, renewed {} s ago\n", name, c.lease->describe(), age);
    } else {
      out += fmt::format("dhcp {}: no lease ({})\n", name, c.state);
    }
  }
  return json ? "{" + out + "}" : out;
}

void DhcpClients::stop() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [name, c] : clients_) c.child->stop();
}

}  // namespace bulwark::control
