// `bulwark replay`: run the real dataplane pipeline over capture files (see dataplane/replay.h).
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include <boost/program_options.hpp>
#include <yaml-cpp/yaml.h>
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

// A --users file: a YAML (or JSON) list of grants, each
//   {session: 7, source: 192.168.1.10, login_role: internal, template: "Access Web-Server (HTTP)"}
// as bulwark-control would send them for logged-in users (config/user_grants.h).
bool read_users(const std::string& path, config::UserGrants& out, std::string& error) {
  YAML::Node doc;
  try {
    doc = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    error = fmt::format("{}: {}", path, e.what());
    return false;
  }
  if (!doc.IsSequence()) {
    error = fmt::format("{}: expected a list of {{session, source, login_role, template}}", path);
    return false;
  }
  for (size_t i = 0; i < doc.size(); ++i) {
    const YAML::Node& n = doc[i];
    auto where = [&](const char* what) { return fmt::format("{}: grant {}: {}", path, i + 1, what); };
    try {
      if (!n.IsMap() || !n["session"] || !n["source"] || !n["login_role"] || !n["template"]) {
        error = where("needs session, source, login_role and template");
        return false;
      }
      config::UserGrant g;
      g.session = n["session"].as<uint32_t>();
      auto source = config::Ipv4Address::parse(n["source"].as<std::string>());
      const std::string role = n["login_role"].as<std::string>();
      g.template_name = n["template"].as<std::string>();
      if (g.session == 0) {
        error = where("session must not be 0");
        return false;
      }
      if (!source) {
        error = where("source is not an IPv4 address");
        return false;
      }
      g.source = *source;
      if (role == "internal") {
        g.login_role = config::Role::kInternal;
      } else if (role == "external") {
        g.login_role = config::Role::kExternal;
      } else if (role == "dmz") {
        g.login_role = config::Role::kDmz;
      } else {
        error = where("login_role must be internal, external or dmz");
        return false;
      }
      out.grants.push_back(std::move(g));
    } catch (const YAML::Exception& e) {
      error = where(e.what());
      return false;
    }
  }
  return true;
}

// FILE or FILE@SECONDS (the replay clock: seconds since the epoch, as the capture's timestamps).
bool parse_users_spec(const std::string& spec, uint64_t serial, dataplane::ReplayUsers& out, std::string& error) {
  std::string path = spec;
  if (size_t at = spec.rfind('@'); at != std::string::npos) {
    path = spec.substr(0, at);
    try {
      size_t used = 0;
      double seconds = std::stod(spec.substr(at + 1), &used);
      if (used != spec.size() - at - 1 || seconds < 0) throw std::invalid_argument("");
      out.at_us = static_cast<uint64_t>(seconds * 1e6 + 0.5);
    } catch (const std::exception&) {
      error = fmt::format("--users {}: expected FILE or FILE@SECONDS", spec);
      return false;
    }
  }
  out.grants.serial = serial;
  return read_users(path, out.grants, error);
}

}  // namespace

int run_replay(const std::vector<std::string>& args) {
  po::options_description options(
      "usage: bulwark replay [--config CFG…] --in IFNAME=FILE.pcap… --out-dir DIR [--ipsec FILE] [--users FILE[@SECONDS]…] [--json]\n\n"
      "Runs the dataplane pipeline over captures: one input capture per interface, one output\n"
      "capture per interface (DIR/IFNAME.pcap: every frame the box sends there) and one for its\n"
      "exception path (DIR/IFNAME.punt.pcap: traffic to the box itself). The frames' own\n"
      "timestamps are the clock, so the same inputs always give the same outputs. Without\n"
      "--config the built-in default configuration (interfaces internal and external) is used.\n"
      "--ipsec installs SAs and policies with known keys, in the records bulwark-iked sends\n"
      "the dataplane (docs/esp.md), to replay captures of VPN traffic.\n"
      "--users FILE[@SECONDS] logs user-firewall users in: FILE is a YAML or JSON list of\n"
      "{session, source, login_role, template}, the whole grant set, applied before the first\n"
      "frame or, with @SECONDS, from that replay time on (capture timestamps, seconds since the\n"
      "epoch); repeat it to change the set during the replay (a session left out has ended).\n\n"
      "options");
  options.add_options()
      ("help,h", "show this help")
      ("config,c", po::value<std::vector<std::string>>()->composing(), "configuration file (repeatable)")
      ("in,i", po::value<std::vector<std::string>>()->composing(), "IFNAME=FILE.pcap (repeatable)")
      ("out-dir,o", po::value<std::string>(), "directory for the output captures (created)")
      ("ipsec", po::value<std::string>(), "file of IPsec SA and policy records")
      ("users", po::value<std::vector<std::string>>()->composing(), "user-firewall grants: FILE or FILE@SECONDS (repeatable)")
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
  std::vector<dataplane::ReplayUsers> users;
  if (vm.count("users")) {
    for (const auto& spec : vm["users"].as<std::vector<std::string>>()) {
      dataplane::ReplayUsers u;
      if (!parse_users_spec(spec, users.size() + 1, u, error)) {
        fmt::print(stderr, "bulwark replay: --users {}\n", error);
        return 1;
      }
      users.push_back(std::move(u));
    }
  }
  if (!dataplane::init_eal({"--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--no-telemetry",
                            "-l", "0", "--log-level=error",
                            fmt::format("--file-prefix=bw-replay-{}", getpid())},
                           error)) {
    fmt::print(stderr, "bulwark replay: {}\n", error);
    return 1;
  }
  auto result = dataplane::replay(*loaded.tables, inputs, out_dir, ipsec, users, error);
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
