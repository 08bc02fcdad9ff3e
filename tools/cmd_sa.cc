// `bulwark sa`: the IPsec SAs and policies that bulwark-iked's backend holds. Keys are never
// shown: each appears as the first bytes of its SHA-256, enough to compare two peers.
#include <iostream>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "config/control_protocol.h"
#include "control/dataplane_client.h"
#include "tools/commands.h"
#include "tools/options.h"

namespace bulwark::tools {

int run_sa(const std::vector<std::string>& args) {
  namespace po = boost::program_options;
  po::options_description options(
      "usage: bulwark sa [--json] [--socket PATH]\n\n"
      "Lists the IPsec SAs (SPI, direction, end points, UDP encapsulation, algorithms, key\n"
      "fingerprints, selectors, lifetimes) and the policies of bulwark-iked.\n\noptions");
  options.add_options()("help,h", "show this help")(
      "socket", po::value<std::string>()->default_value("/run/bulwark/iked/iked.sock"), "bulwark-iked socket")(
      "json", "print JSON");
  po::positional_options_description positional;
  po::variables_map vm;
  if (int rc = parse_command_line(args, options, positional, vm, "sa"); rc >= 0) return rc;
  std::string error;
  auto reply = control::request(vm["socket"].as<std::string>(),
                                {config::MessageType::kSa, vm.count("json") ? "json" : "text"}, error);
  if (!reply) {
    fmt::print(stderr, "bulwark sa: {}\n", error);
    return 1;
  }
  std::string text = reply->payload;
  if (!text.empty() && text.back() != '\n') text += '\n';
  (reply->type == config::MessageType::kApplied ? std::cout : std::cerr) << text;
  return reply->type == config::MessageType::kApplied ? 0 : 1;
}

}  // namespace bulwark::tools
