#include "control/exception_path.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "config/control_protocol.h"

namespace bulwark::control {
namespace {

// Runs `ip ARGS…` without a shell, its output discarded; true on exit status 0.
bool ip(const std::vector<std::string>& args, std::string& error) {
  std::vector<std::string> argv_storage{"ip"};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    ::execvp("ip", argv.data());
    ::_exit(127);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    error = fmt::format("'ip {}' failed", fmt::join(args, " "));
    return false;
  }
  return true;
}

// The output of `ip ARGS…`, or nullopt when it failed.
std::optional<std::string> ip_output(const std::vector<std::string>& args) {
  std::vector<std::string> argv_storage{"ip"};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return std::nullopt;
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    ::execvp("ip", argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  ::close(out[0]);
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return text;
}

// Removes the IPv4 addresses of `dev` that the configuration no longer gives it (a removed
// address, the previous DHCP lease).
bool remove_stale_addresses(const std::string& ns, const std::string& dev, const std::vector<std::string>& wanted,
                            std::string& error) {
  auto listing = ip_output({"-n", ns, "-4", "-o", "addr", "show", "dev", dev});
  if (!listing) return true;  // no such device yet: nothing stale
  size_t at = 0;
  while ((at = listing->find(" inet ", at)) != std::string::npos) {
    at += 6;
    const std::string address = listing->substr(at, listing->find(' ', at) - at);
    if (std::find(wanted.begin(), wanted.end(), address) == wanted.end() &&
        !ip({"-n", ns, "addr", "del", address, "dev", dev}, error)) {
      return false;
    }
  }
  return true;
}

bool exists(const std::vector<std::string>& args) {
  std::string ignored;
  return ip(args, ignored);
}

// Routes of their own for the box's tunnels, marked with this protocol number so that a new
// configuration replaces them all.
constexpr const char* kTunnelRouteProtocol = "250";
constexpr const char* kStaticRouteProtocol = "251";  // the configuration's own routes

// The box's own services reach the remote network of a tunnel (ping, syslog, SNMP to a remote
// site): a route from the box's address inside the tunnel's local network, so that the
// dataplane's policy protects the packets, via the next hop towards the peer (the kernel needs a
// neighbour to hand the frame to; the dataplane encrypts it before it leaves). Tunnels whose
// local network holds no address of the box, tunnels with NAT, and peers not given as an address
// (%any, host names) get no such route.

// The box's (untagged) address inside `network`, if it has one.
std::optional<config::Ipv4Address> own_address_in(const config::Tables& tables, const config::Ipv4Prefix& network) {
  for (const auto& i : tables.interfaces) {
    for (const auto& a : i.addresses) {
      if (!a.vlan && network.contains(a.prefix.address)) return a.prefix.address;
    }
  }
  return std::nullopt;
}

// The route of the configuration that carries traffic to `peer` (longest prefix), if any.
const config::RouteEntry* route_to(const config::Tables& tables, config::Ipv4Address peer) {
  const config::RouteEntry* best = nullptr;
  for (const auto& r : tables.routes) {
    if (r.network.contains(peer) && (!best || r.network.length > best->network.length)) best = &r;
  }
  return best;
}

bool route_tunnels(const config::Tables& tables, std::string& error) {
  const std::string& ns = tables.dataplane.exception_namespace;
  if (!ip({"-n", ns, "route", "flush", "proto", kTunnelRouteProtocol}, error)) return false;
  for (const auto& c : tables.ipsec.connections) {
    auto peer = config::Ipv4Address::parse(c.remote_gateway);
    const config::RouteEntry* r = peer ? route_to(tables, *peer) : nullptr;
    if (!r) continue;
    std::string dev = config::exception_tap_name(tables.interfaces[r->interface].name);
    if (r->vlan) dev = fmt::format("{}.{}", dev.substr(0, 10), r->vlan);
    const config::Ipv4Address via = r->kind == config::RouteKind::kConnected ? *peer : r->gateway;
    for (const auto& t : c.tunnels) {
      if (t.transport || t.remote_nat || t.local_nat != config::LocalNat::Mode::kNone) continue;
      auto src = own_address_in(tables, t.local);
      if (src && !ip({"-n", ns, "route", "replace", t.remote.str(), "via", via.str(), "dev", dev, "src", src->str(),
                      "proto", kTunnelRouteProtocol},
                     error)) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

bool configure_exception_path(const config::Tables& tables, std::string& error) {
  const std::string& ns = tables.dataplane.exception_namespace;
  if (!exists({"netns", "exec", ns, "true"}) && !ip({"netns", "add", ns}, error)) return false;
  for (const auto& i : tables.interfaces) {
    std::string tap = config::exception_tap_name(i.name);
    // Created by the dataplane in our namespace; moved once.
    if (exists({"link", "show", "dev", tap}) && !ip({"link", "set", "dev", tap, "netns", ns}, error)) {
      return false;
    }
    if (!exists({"-n", ns, "link", "show", "dev", tap})) {
      error = fmt::format("the exception-path interface {} does not exist; is bulwark-dataplane "
                          "running with its exception path?", tap);
      return false;
    }
    if (i.mac && !ip({"-n", ns, "link", "set", "dev", tap, "address", i.mac->str()}, error)) return false;
    if (!ip({"-n", ns, "link", "set", "dev", tap, "mtu", fmt::format("{}", i.mtu), "up"}, error)) return false;
    std::map<std::string, std::vector<std::string>> wanted{{tap, {}}};  // device → its addresses
    for (const auto& a : i.addresses) {
      std::string dev = tap;
      if (a.vlan) {
        dev = fmt::format("{}.{}", tap.substr(0, 10), a.vlan);
        if (!exists({"-n", ns, "link", "show", "dev", dev}) &&
            !ip({"-n", ns, "link", "add", "link", tap, "name", dev, "type", "vlan", "id",
                 fmt::format("{}", a.vlan)}, error)) {
          return false;
        }
        if (!ip({"-n", ns, "link", "set", "dev", dev, "up"}, error)) return false;
      }
      if (!ip({"-n", ns, "addr", "replace", a.prefix.str(), "dev", dev}, error)) return false;
      wanted[dev].push_back(a.prefix.str());
    }
    for (const auto& [dev, addresses] : wanted) {
      if (!remove_stale_addresses(ns, dev, addresses, error)) return false;
    }
  }
  // The additional and default routes, marked so that those no longer configured (a route
  // removed, a DHCP lease's router that changed or went) can be told apart and removed. Only
  // those: a flush would make IKE in this namespace see every route go and come back.
  std::vector<std::string> routed;
  for (const auto& r : tables.routes) {
    if (r.kind == config::RouteKind::kConnected) continue;
    std::string dev = config::exception_tap_name(tables.interfaces[r.interface].name);
    if (r.vlan) dev = fmt::format("{}.{}", dev.substr(0, 10), r.vlan);
    std::string dst = r.kind == config::RouteKind::kDefault ? "default" : r.network.str();
    if (!ip({"-n", ns, "route", "replace", dst, "via", r.gateway.str(), "dev", dev, "proto", kStaticRouteProtocol},
            error)) {
      return false;
    }
    // As `ip route show` prints it: a host route without its /32.
    routed.push_back(r.kind != config::RouteKind::kDefault && r.network.length == 32 ? r.network.address.str() : dst);
  }
  if (auto listing = ip_output({"-n", ns, "-4", "route", "show", "proto", kStaticRouteProtocol})) {
    size_t start = 0;
    while (start < listing->size()) {
      size_t end = listing->find('\n', start);
      if (end == std::string::npos) end = listing->size();
      const std::string line = listing->substr(start, end - start);
      start = end + 1;
      const std::string dst = line.substr(0, line.find(' '));
      if (dst.empty() || std::find(routed.begin(), routed.end(), dst) != routed.end()) continue;
      if (!ip({"-n", ns, "route", "del", dst, "proto", kStaticRouteProtocol}, error)) return false;
    }
  }
  return route_tunnels(tables, error);
}

}  // namespace bulwark::control
