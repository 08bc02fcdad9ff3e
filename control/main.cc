// bulwark-control: the control-plane daemon (see control_daemon.h).
#include <csignal>
#include <iostream>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "control/control_daemon.h"
#include "control/iked_supervisor.h"

namespace {

bulwark::control::ControlDaemon* g_daemon = nullptr;

void on_signal(int signal) {
  if (!g_daemon) return;
  if (signal == SIGHUP) {
    g_daemon->request_reload();
  } else {
    g_daemon->stop();
  }
}

}  // namespace

int main(int argc, char** argv) {
  namespace po = boost::program_options;
  po::options_description options(
      "usage: bulwark-control [OPTIONS] [CONFIG…]\n\n"
      "Compiles the configuration and pushes it to bulwark-dataplane; SIGHUP or `bulwark reload`\n"
      "re-reads it. A configuration with errors is reported and not applied: the dataplane keeps\n"
      "its running generation. Without CONFIG the built-in default is used.\n\noptions");
  options.add_options()
      ("help,h", "show this help")
      ("dataplane-socket", po::value<std::string>()->default_value("/run/bulwark/dataplane.sock"),
       "the dataplane's control socket")
      ("socket", po::value<std::string>()->default_value("/run/bulwark/control.sock"),
       "this daemon's socket (bulwark reload)")
      ("no-exception-path", "do not configure the exception-path tap interfaces")
      ("wait", po::value<int>()->default_value(30), "seconds to wait for the dataplane")
      ("iked", po::value<std::string>(), "bulwark-iked to run while VPN connections are configured "
       "(default: the one installed next to bulwark-control)")
      ("no-iked", "do not run bulwark-iked")
      ("iked-run-dir", po::value<std::string>()->default_value("/run/bulwark/iked"), "bulwark-iked's run directory")
      ("dhcp-run-dir", po::value<std::string>()->default_value("/run/bulwark/dhcp"),
       "the DHCP clients' event script and leases file")
      ("state-dir", po::value<std::string>()->default_value("/var/lib/bulwark"),
       "where integrity databases and reports are kept (cifs/NAME/)")
      ("config", po::value<std::vector<std::string>>()->composing(), "configuration file");
  po::positional_options_description positional;
  positional.add("config", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    fmt::print(stderr, "bulwark-control: {}\n\n", e.what());
    std::cerr << options << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << options << "\n";
    return 0;
  }
  bulwark::control::ControlOptions opts;
  if (vm.count("config")) opts.config_files = vm["config"].as<std::vector<std::string>>();
  opts.dataplane_socket = vm["dataplane-socket"].as<std::string>();
  opts.control_socket = vm["socket"].as<std::string>();
  opts.exception_path = !vm.count("no-exception-path");
  opts.connect_timeout_seconds = vm["wait"].as<int>();
  opts.state_dir = vm["state-dir"].as<std::string>();
  if (!vm.count("no-iked")) opts.iked = vm.count("iked") ? vm["iked"].as<std::string>() : bulwark::control::find_iked();
  opts.iked_run_dir = vm["iked-run-dir"].as<std::string>();
  opts.dhcp_run_dir = vm["dhcp-run-dir"].as<std::string>();
  bulwark::control::ControlDaemon daemon(opts);
  g_daemon = &daemon;
  std::signal(SIGHUP, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  return daemon.run();
}
