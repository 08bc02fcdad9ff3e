// `bulwark replay`: run the real dataplane pipeline over capture files (see dataplane/replay.h).
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "config/config.h"
#include "dataplane/eal.h"
#include "dataplane/replay.h"
#include "tools/commands.h"
#include "tools/options.h"
#include "dataplane/counters_json.h"

namespace bulwark::tools {
namespace {

namespace po = boost::program_options;

}  // namespace

int run_replay(const std::vector<std::string>& args) {
  po::options_description options(
      "usage: bulwark replay [--config CFG…] --in IFNAME=FILE.pcap… --out-dir DIR [--ipsec FILE] [--json]\n\n"
      "Runs the dataplane pipeline over captures: one input capture per interface, one output\n"
      "capture per interface (DIR/IFNAME.pcap: every frame the box sends there) and one for its\n"
      "exception path (DIR/IFNAME.punt.pcap: traffic to the box itself). The frames' own\n"
      "timestamps are the clock, so the same inputs always give the same outputs. Without\n"
      "--config the built-in default configuration (interfaces internal and external) is used.\n"
      "--ipsec installs SAs and policies with known keys, in the records bulwark-iked sends\n"
      "the dataplane (docs/esp.md), to replay captures of VPN traffic.\n\n"
      "options");
  options.add_options()
      ("help,h", "show this help")
      ("config,c", po::value<std::vector<std::string>>()->composing(), "configuration file (repeatable)")
      ("in,i", po::value<std::vector<std::string>>()->composing(), "IFNAME=FILE.pcap (repeatable)")
      ("out-dir,o", po::value<std::string>(), "directory for the output captures (created)")
      ("ipsec", po::value<std::string>(), "file of IPsec SA and policy records")
      ("json", "print the counters as one JSON object");
  po::variables_map vm;
  if (int rc = parse_command_line(args, options, {}, vm, "replay"); rc >= 0) return rc;
  if (!vm.count("out-dir") || !vm.count("in")) {
    fmt::print(stderr, "bulwark replay: --in and --out-dir are required\n\n");
    std::cerr << options << "\n";
    return 2;
  }

  std::vector<dataplane::ReplayInput> inputs;
  for (const auto& spec : vm["in"].as<std::vector<std::string>>()) {
    size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
      fmt::print(stderr, "bulwark replay: --in {}: expected IFNAME=FILE.pcap\n", spec);
      return 2;
    }
    inputs.push_back({spec.substr(0, eq), std::filesystem::absolute(spec.substr(eq + 1)).string()});
  }
  std::string out_dir = std::filesystem::absolute(vm["out-dir"].as<std::string>()).string();
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) {
    fmt::print(stderr, "bulwark replay: cannot create {}: {}\n", out_dir, ec.message());
    return 1;
  }

  config::LoadResult loaded = config::load_files(
      vm.count("config") ? vm["config"].as<std::vector<std::string>>() : std::vector<std::string>{});
  for (const auto& d : loaded.diagnostics.all()) std::cerr << d.str() << "\n";
  if (!loaded.tables) return 1;

  std::string error;
  config::IpsecState ipsec;
  if (vm.count("ipsec") && !config::read_ipsec_records(vm["ipsec"].as<std::string>(), ipsec, error)) {
    fmt::print(stderr, "bulwark replay: --ipsec {}\n", error);
    return 1;
  }
  if (!dataplane::init_eal({"--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--no-telemetry",
                            "-l", "0", "--log-level=error",
                            fmt::format("--file-prefix=bw-replay-{}", getpid())},
                           error)) {
    fmt::print(stderr, "bulwark replay: {}\n", error);
    return 1;
  }
  auto result = dataplane::replay(*loaded.tables, inputs, out_dir, ipsec, error);
  dataplane::cleanup_eal();
  if (!result) {
    fmt::print(stderr, "bulwark replay: {}\n", error);
    return 1;
  }
  if (vm.count("json")) {
    std::cout << dataplane::replay_json(*result) << "\n";
  } else {
    std::cout << dataplane::replay_text(*result);
  }
  return 0;
}

}  // namespace bulwark::tools
