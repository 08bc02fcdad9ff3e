// `bulwark status`, `bulwark arp` and `bulwark reload`: talk to the running daemons.
#include <iostream>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "config/control_protocol.h"
#include "control/dataplane_client.h"
#include "tools/commands.h"
#include "tools/options.h"

namespace bulwark::tools {
namespace {

namespace po = boost::program_options;
using config::Message;
using config::MessageType;

// Parses the common options; returns -1 to continue, or an exit status.
int parse(const std::vector<std::string>& args, const std::string& usage, const std::string& socket_default,
          po::variables_map& vm, bool with_json) {
  po::options_description options(usage + "\n\noptions");
  options.add_options()("help,h", "show this help")(
      "socket", po::value<std::string>()->default_value(socket_default), "daemon socket");
  if (with_json) options.add_options()("json", "print JSON");
  if (usage.rfind("usage: bulwark status", 0) == 0) {
    options.add_options()("rules", "per-rule hit counters")(
        "control-socket", po::value<std::string>()->default_value("/run/bulwark/control.sock"),
        "bulwark-control socket, for the HTTPS service and the user firewall");
  }
  std::string command = usage.substr(std::string("usage: bulwark ").size());
  return parse_command_line(args, options, {}, vm, command.substr(0, command.find(' ')));
}

int ask(const std::string& socket, MessageType type, MessageType expected, std::string& payload,
        const std::string& request_payload = {}) {
  std::string error;
  auto reply = control::request(socket, {type, request_payload}, error);
  if (!reply) {
    fmt::print(stderr, "bulwark: {}\n", error);
    return 1;
  }
  payload = reply->payload;
  if (reply->type != expected) {
    fmt::print(stderr, "{}", payload.empty() || payload.back() == '\n' ? payload : payload + "\n");
    return 1;
  }
  return 0;
}

}  // namespace

int run_status(const std::vector<std::string>& args) {
  po::variables_map vm;
  if (int rc = parse(args,
                     "usage: bulwark status [--rules] [--json] [--socket PATH]\n\n"
                     "Shows the running dataplane's generation, per-port counters, the outcome of "
                     "every received\nframe with a named reason for each drop, and per-stage counts.",
                     "/run/bulwark/dataplane.sock", vm, true);
      rc >= 0) {
    return rc;
  }
  std::string payload;
  std::string what = vm.count("rules") ? (vm.count("json") ? "rules-json" : "rules")
                                      : (vm.count("json") ? "json" : "text");
  if (int rc = ask(vm["socket"].as<std::string>(), MessageType::kGetStatus, MessageType::kStatus, payload, what)) {
    return rc;
  }
  // The HTTPS service (certificate fingerprint) and the logged-in users, from bulwark-control
  // when it runs; the dataplane's counters stand alone otherwise.
  // And remote syslog's counters, and the DHCP leases.
  std::string portal, syslog, dhcp;
  if (!vm.count("rules")) {
    auto ask_control = [&](const char* what) {
      std::string error;
      auto reply = control::request(vm["control-socket"].as<std::string>(),
                                    {MessageType::kUsers, std::string(what) + (vm.count("json") ? "\tjson" : "\ttext")},
                                    error);
      std::string answer = reply && reply->type == MessageType::kApplied ? reply->payload : std::string();
      while (vm.count("json") && !answer.empty() && answer.back() == '\n') answer.pop_back();
      return answer;
    };
    portal = ask_control("portal");
    syslog = ask_control("syslog");
    dhcp = ask_control("dhcp");
  }
  if (vm.count("json")) {
    size_t end = payload.rfind('}');
    if (end != std::string::npos) {
      std::string more;
      if (!portal.empty()) more += ", \"https\": " + portal;
      if (!syslog.empty()) more += ", \"syslog\": " + syslog;
      if (!dhcp.empty() && dhcp != "{}") more += ", \"dhcp\": " + dhcp;
      payload.insert(end, more);
    }
    std::cout << payload << "\n";
  } else {
    std::cout << payload << portal << syslog << dhcp;
  }
  return 0;
}

int run_arp(const std::vector<std::string>& args) {
  po::variables_map vm;
  if (int rc = parse(args, "usage: bulwark arp [--json] [--socket PATH]\n\nLists the dataplane's neighbour (ARP) table.",
                     "/run/bulwark/dataplane.sock", vm, true);
      rc >= 0) {
    return rc;
  }
  std::string payload;
  if (int rc = ask(vm["socket"].as<std::string>(), MessageType::kGetNeighbours, MessageType::kNeighbours,
                   payload, vm.count("json") ? "json" : "text")) {
    return rc;
  }
  std::cout << payload << (vm.count("json") ? "\n" : "");
  return 0;
}

int run_reload(const std::vector<std::string>& args) {
  po::variables_map vm;
  if (int rc = parse(args,
                     "usage: bulwark reload [--socket PATH]\n\n"
                     "Asks bulwark-control to re-read the configuration and push it to the "
                     "dataplane. Prints every\nerror and warning; on errors the running generation "
                     "stays and the exit status is 1.",
                     "/run/bulwark/control.sock", vm, false);
      rc >= 0) {
    return rc;
  }
  std::string payload;
  int rc = ask(vm["socket"].as<std::string>(), MessageType::kReload, MessageType::kApplied, payload);
  if (rc == 0) std::cout << payload;
  return rc;
}

int run_nat(const std::vector<std::string>& args) {
  po::variables_map vm;
  if (int rc = parse(args,
                     "usage: bulwark nat [--json] [--socket PATH]\n\n"
                     "Shows the configured NAT mappings (1:1, masquerading, port forwarding) and the "
                     "active\ntranslations: each translated connection with its translated tuple.",
                     "/run/bulwark/dataplane.sock", vm, true);
      rc >= 0) {
    return rc;
  }
  std::string payload;
  if (int rc = ask(vm["socket"].as<std::string>(), MessageType::kGetNat, MessageType::kNat, payload,
                   vm.count("json") ? "json" : "text")) {
    return rc;
  }
  std::cout << payload << (vm.count("json") ? "\n" : "");
  return 0;
}

int run_stop(const std::vector<std::string>& args) {
  po::variables_map vm;
  if (int rc = parse(args,
                     "usage: bulwark stop [--socket PATH]\n\n"
                     "Asks bulwark-dataplane to stop its workers, close its ports and exit.",
                     "/run/bulwark/dataplane.sock", vm, false);
      rc >= 0) {
    return rc;
  }
  std::string payload;
  return ask(vm["socket"].as<std::string>(), MessageType::kShutdown, MessageType::kApplied, payload);
}

}  // namespace bulwark::tools
