// bulwark-dataplane: the DPDK poll-mode process (see daemon.h and docs/dataplane.md).
#include <csignal>
#include <iostream>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "dataplane/daemon.h"

namespace {

bulwark::dataplane::Daemon* g_daemon = nullptr;

void on_signal(int) {
  if (g_daemon) g_daemon->stop();
}

}  // namespace

int main(int argc, char** argv) {
  namespace po = boost::program_options;
  po::options_description options(
      "usage: bulwark-dataplane [OPTIONS]\n\n"
      "The Bulwark dataplane. Starts its DPDK ports and workers when bulwark-control sends the\n"
      "first compiled configuration over the control socket, then applies every new one as a\n"
      "generation. Keeps forwarding when the control plane restarts.\n\noptions");
  options.add_options()
      ("help,h", "show this help")
      ("socket", po::value<std::string>()->default_value("/run/bulwark/dataplane.sock"), "control socket path")
      ("eal", po::value<std::vector<std::string>>()->composing(), "extra EAL argument (repeatable)")
      ("no-exception-path", "do not create tap interfaces for traffic to the box itself");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, options), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    fmt::print(stderr, "bulwark-dataplane: {}\n\n", e.what());
    std::cerr << options << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << options << "\n";
    return 0;
  }
  bulwark::dataplane::DaemonOptions daemon_options;
  daemon_options.socket_path = vm["socket"].as<std::string>();
  if (vm.count("eal")) daemon_options.extra_eal_args = vm["eal"].as<std::vector<std::string>>();
  daemon_options.exception_path = !vm.count("no-exception-path");
  bulwark::dataplane::Daemon daemon(daemon_options);
  g_daemon = &daemon;
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  return daemon.run();
}
