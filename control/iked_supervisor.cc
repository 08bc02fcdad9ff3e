#include "control/iked_supervisor.h"

#include <signal.h>

#include <filesystem>

namespace bulwark::control {

std::string find_iked() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  for (auto candidate : {self.parent_path() / "bulwark-iked", self.parent_path() / "ike" / "bulwark-iked"}) {
    if (std::filesystem::exists(candidate, ec)) return candidate.string();
  }
  return {};
}

void IkedSupervisor::configure(bool wanted, const std::string& network_namespace) {
  if (!wanted || options_.program.empty()) {
    child_.stop();
    return;
  }
  std::vector<std::string> args{options_.program, "--run-dir", options_.run_dir};
  for (const auto& [flag, value] : {std::pair<const char*, const std::string&>{"--dataplane-socket", options_.dataplane_socket},
                                    {"--control-socket", options_.control_socket},
                                    {"--dhcp-leases", options_.dhcp_leases}}) {
    if (value.empty()) continue;
    args.push_back(flag);
    args.push_back(value);
  }
  args.insert(args.end(), options_.config_files.begin(), options_.config_files.end());
  if (!child_.run(std::move(args), network_namespace)) child_.signal(SIGHUP);  // the same child: re-read
}

}  // namespace bulwark::control
