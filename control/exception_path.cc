#include "control/exception_path.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

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

bool exists(const std::vector<std::string>& args) {
  std::string ignored;
  return ip(args, ignored);
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
    }
  }
  for (const auto& r : tables.routes) {
    if (r.kind == config::RouteKind::kConnected) continue;
    std::string dev = config::exception_tap_name(tables.interfaces[r.interface].name);
    if (r.vlan) dev = fmt::format("{}.{}", dev.substr(0, 10), r.vlan);
    std::string dst = r.kind == config::RouteKind::kDefault ? "default" : r.network.str();
    if (!ip({"-n", ns, "route", "replace", dst, "via", r.gateway.str(), "dev", dev}, error)) return false;
  }
  return true;
}

}  // namespace bulwark::control
