// `bulwark conntrack`, `bulwark record` and `bulwark switch`: the packet filter at runtime.
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

int exchange(const std::string& socket, const Message& m, MessageType expected) {
  std::string error;
  auto reply = control::request(socket, m, error);
  if (!reply) {
    fmt::print(stderr, "bulwark: {}\n", error);
    return 1;
  }
  std::string text = reply->payload;
  if (!text.empty() && text.back() != '\n') text += '\n';
  if (reply->type != expected) {
    std::cerr << text;
    return 1;
  }
  std::cout << text;
  return 0;
}

std::optional<std::string> protocol_number(const std::string& p) {
  if (p.empty()) return std::string{};
  if (p == "tcp") return std::string("6");
  if (p == "udp") return std::string("17");
  if (p == "icmp") return std::string("1");
  if (!p.empty() && std::all_of(p.begin(), p.end(), ::isdigit) && std::stoul(p) < 256) return p;
  return std::nullopt;
}

}  // namespace

int run_conntrack(const std::vector<std::string>& args) {
  po::options_description options(
      "usage: bulwark conntrack [flush] [--address A] [--protocol P] [--port N] [--json] [--socket PATH]\n\n"
      "Lists the tracked connections with state, age, timeout and counters, or removes them\n"
      "(flush). Filters: an address or port on either side, a protocol (tcp, udp, icmp or a\n"
      "number).\n\noptions");
  options.add_options()("help,h", "show this help")(
      "socket", po::value<std::string>()->default_value("/run/bulwark/dataplane.sock"), "dataplane socket")(
      "address", po::value<std::string>()->default_value(""), "source or destination address")(
      "protocol", po::value<std::string>()->default_value(""), "tcp, udp, icmp or a number")(
      "port", po::value<std::string>()->default_value(""), "source or destination port")(
      "json", "print JSON")("action", po::value<std::string>()->default_value("list"), "list or flush");
  po::positional_options_description positional;
  positional.add("action", 1);
  po::variables_map vm;
  if (int rc = parse_command_line(args, options, positional, vm, "conntrack"); rc >= 0) return rc;
  std::string action = vm["action"].as<std::string>();
  auto protocol = protocol_number(vm["protocol"].as<std::string>());
  if (!protocol || (action != "list" && action != "flush")) {
    fmt::print(stderr, "bulwark conntrack: {}\n", protocol ? "expected list or flush" : "unknown protocol");
    return 2;
  }
  std::string filter = fmt::format("{}\t{}\t{}\t{}", vm.count("json") ? "json" : "text", *protocol,
                                   vm["address"].as<std::string>(), vm["port"].as<std::string>());
  std::string socket = vm["socket"].as<std::string>();
  if (action == "flush") return exchange(socket, {MessageType::kFlush, filter}, MessageType::kApplied);
  return exchange(socket, {MessageType::kConntrack, filter}, MessageType::kConnections);
}

namespace {

int switch_like(const std::vector<std::string>& args, const char* usage, MessageType type, bool name_optional) {
  po::options_description options(usage);
  options.add_options()("help,h", "show this help")(
      "socket", po::value<std::string>()->default_value("/run/bulwark/control.sock"), "bulwark-control socket")(
      "words", po::value<std::vector<std::string>>(), "NAME and on|off|status");
  po::positional_options_description positional;
  positional.add("words", -1);
  po::variables_map vm;
  if (int rc = parse_command_line(args, options, positional, vm, type == MessageType::kRecord ? "record" : "switch");
      rc >= 0) {
    return rc;
  }
  std::vector<std::string> words;
  if (vm.count("words")) words = vm["words"].as<std::vector<std::string>>();
  if ((words.empty() && !name_optional) || words.size() > 2) {
    std::cerr << options << "\n";
    return 2;
  }
  std::string name = words.empty() ? "" : words[0];
  std::string verb = words.size() == 2 ? words[1] : "status";
  return exchange(vm["socket"].as<std::string>(), {type, name + "\t" + verb}, MessageType::kApplied);
}

}  // namespace

int run_record(const std::vector<std::string>& args) {
  return switch_like(args,
                     "usage: bulwark record [NAME [on|off|status]] [--socket PATH]\n\n"
                     "Shows or switches firewall rule records. Switching is an atomic generation "
                     "change; a record\nswitched on starts its deactivation timeout. Without NAME: "
                     "the state of every record.\n\noptions",
                     MessageType::kRecord, true);
}

int run_switch(const std::vector<std::string>& args) {
  return switch_like(args,
                     "usage: bulwark switch NAME [on|off|status] [--socket PATH]\n\n"
                     "Flips a named switch (the manual's service inputs); the rule records it controls "
                     "follow it.\n\noptions",
                     MessageType::kSwitch, false);
}

}  // namespace bulwark::tools
