// `bulwark users`: the user firewall's logged-in users (manual figure 9-2), kept by bulwark-control.
#include <iostream>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "config/control_protocol.h"
#include "control/dataplane_client.h"
#include "tools/commands.h"
#include "tools/options.h"

namespace bulwark::tools {

namespace po = boost::program_options;
using config::MessageType;

int run_users(const std::vector<std::string>& args) {
  po::options_description options(
      "usage: bulwark users [list] [--json] [--socket PATH]\n"
      "       bulwark users logout NAME|ADDRESS [--socket PATH]\n\n"
      "Lists the users logged in to the user firewall — name, the address their templates apply to,\n"
      "expiry (UTC), authentication method, open connections and template — or logs out every\n"
      "session of a user name or of a source address (their connections are aborted).\n\noptions");
  options.add_options()("help,h", "show this help")(
      "socket", po::value<std::string>()->default_value("/run/bulwark/control.sock"), "bulwark-control socket")(
      "json", "print JSON")("action", po::value<std::string>()->default_value("list"), "list or logout")(
      "who", po::value<std::string>()->default_value(""), "user name or address to log out");
  po::positional_options_description positional;
  positional.add("action", 1).add("who", 1);
  po::variables_map vm;
  if (int rc = parse_command_line(args, options, positional, vm, "users"); rc >= 0) return rc;
  const std::string action = vm["action"].as<std::string>();
  const std::string who = vm["who"].as<std::string>();
  std::string request;
  if (action == "list" && who.empty()) {
    request = std::string("list\t") + (vm.count("json") ? "json" : "text");
  } else if (action == "logout" && !who.empty()) {
    request = "logout\t" + who;
  } else {
    fmt::print(stderr, "bulwark users: expected 'list' or 'logout NAME|ADDRESS'\n");
    return 2;
  }
  std::string error;
  auto reply = control::request(vm["socket"].as<std::string>(), {MessageType::kUsers, request}, error);
  if (!reply) {
    fmt::print(stderr, "bulwark: {}\n", error);
    return 1;
  }
  std::string text = reply->payload;
  if (!text.empty() && text.back() != '\n') text += '\n';
  if (reply->type != MessageType::kApplied) {
    std::cerr << text;
    return 1;
  }
  std::cout << text;
  return 0;
}

}  // namespace bulwark::tools
