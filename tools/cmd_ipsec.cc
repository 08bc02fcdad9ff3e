// `bulwark sa` and `bulwark vpn`: IPsec at runtime, answered by bulwark-iked. Keys are never
// shown: each appears as the first bytes of its SHA-256, enough to compare two peers.
#include <iostream>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "config/control_protocol.h"
#include "control/dataplane_client.h"
#include "tools/commands.h"
#include "tools/options.h"

namespace bulwark::tools {

namespace {

int print_reply(const std::optional<config::Message>& reply, const std::string& error, const char* command) {
  if (!reply) {
    fmt::print(stderr, "bulwark {}: {}\n", command, error);
    return 1;
  }
  std::string text = reply->payload;
  if (!text.empty() && text.back() != '\n') text += '\n';
  (reply->type == config::MessageType::kApplied ? std::cout : std::cerr) << text;
  return reply->type == config::MessageType::kApplied ? 0 : 1;
}

}  // namespace

int run_vpn(const std::vector<std::string>& args) {
  namespace po = boost::program_options;
  po::options_description options(
      "usage: bulwark vpn list|status [NAME] [--json]\n"
      "       bulwark vpn up|down NAME\n\n"
      "The VPN connections: waiting (for the peer), pending (trying to reach it) or established,\n"
      "with their SAs, and for a failure what is wrong and what to check (manual chapter 15).\n"
      "up establishes every tunnel of a connection and waits for the result; down terminates it.\n\n"
      "options");
  options.add_options()("help,h", "show this help")(
      "socket", po::value<std::string>()->default_value("/run/bulwark/iked/iked.sock"), "bulwark-iked socket")(
      "json", "print JSON")("words", po::value<std::vector<std::string>>(), "VERB and NAME");
  po::positional_options_description positional;
  positional.add("words", -1);
  po::variables_map vm;
  if (int rc = parse_command_line(args, options, positional, vm, "vpn"); rc >= 0) return rc;
  std::vector<std::string> words;
  if (vm.count("words")) words = vm["words"].as<std::vector<std::string>>();
  if (words.empty() || words.size() > 2 || ((words[0] == "up" || words[0] == "down") && words.size() != 2)) {
    std::cerr << options << "\n";
    return 2;
  }
  std::string payload = words[0] + "\t" + (words.size() == 2 ? words[1] : "") + "\t" + (vm.count("json") ? "json" : "text");
  std::string error;
  auto reply = control::request(vm["socket"].as<std::string>(), {config::MessageType::kVpn, payload}, error);
  return print_reply(reply, error, "vpn");
}

int run_sa(const std::vector<std::string>& args) {
  namespace po = boost::program_options;
  po::options_description options(
      "usage: bulwark sa [--json] [--socket PATH]\n\n"
      "Lists the IPsec SAs (SPI, direction, end points, UDP encapsulation, algorithms, key\n"
      "fingerprints, selectors, and what each has counted: bytes, packets, replayed, failed\n"
      "authentication, malformed) and the policies the dataplane holds, as bulwark-iked handed\n"
      "them over; --socket /run/bulwark/iked/iked.sock asks bulwark-iked itself.\n\noptions");
  options.add_options()("help,h", "show this help")(
      "socket", po::value<std::string>()->default_value("/run/bulwark/dataplane.sock"),
      "the dataplane's (or bulwark-iked's) socket")("json", "print JSON");
  po::positional_options_description positional;
  po::variables_map vm;
  if (int rc = parse_command_line(args, options, positional, vm, "sa"); rc >= 0) return rc;
  std::string error;
  auto reply = control::request(vm["socket"].as<std::string>(),
                                {config::MessageType::kSa, vm.count("json") ? "json" : "text"}, error);
  return print_reply(reply, error, "sa");
}

}  // namespace bulwark::tools
