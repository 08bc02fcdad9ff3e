// The `bulwark` command-line tool: one function per sub-command, each taking the arguments after
// the sub-command's name and returning the process exit code.
#pragma once

#include <string>
#include <vector>

namespace bulwark::tools {

int run_check(const std::vector<std::string>& args);
int run_replay(const std::vector<std::string>& args);
int run_bench(const std::vector<std::string>& args);
int run_status(const std::vector<std::string>& args);
int run_arp(const std::vector<std::string>& args);
int run_reload(const std::vector<std::string>& args);
int run_stop(const std::vector<std::string>& args);
int run_nat(const std::vector<std::string>& args);
int run_conntrack(const std::vector<std::string>& args);
int run_record(const std::vector<std::string>& args);
int run_switch(const std::vector<std::string>& args);
int run_cifs(const std::vector<std::string>& args);
int run_sa(const std::vector<std::string>& args);
int run_vpn(const std::vector<std::string>& args);
int run_users(const std::vector<std::string>& args);

}  // namespace bulwark::tools
