// `bulwark` — the operator's command-line tool. Dispatches to one sub-command per file.
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tools/commands.h"

namespace {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>&);
};

const Command kCommands[] = {
    {"check", "validate configuration files and show the compiled tables", bulwark::tools::run_check},
    {"replay", "run the dataplane pipeline over capture files", bulwark::tools::run_replay},
    {"bench", "measure the pipeline on captures replayed from memory", bulwark::tools::run_bench},
    {"status", "show the running dataplane's counters", bulwark::tools::run_status},
    {"arp", "show the dataplane's neighbour table", bulwark::tools::run_arp},
    {"reload", "make bulwark-control re-read and apply the configuration", bulwark::tools::run_reload},
    {"stop", "stop bulwark-dataplane cleanly", bulwark::tools::run_stop},
    {"conntrack", "list or flush tracked connections", bulwark::tools::run_conntrack},
    {"nat", "show NAT mappings and active translations", bulwark::tools::run_nat},
    {"record", "show or switch firewall rule records", bulwark::tools::run_record},
    {"switch", "flip a named switch", bulwark::tools::run_switch},
    {"cifs", "integrity monitoring of Windows shares", bulwark::tools::run_cifs},
    {"sa", "show the IPsec SAs and policies of bulwark-iked", bulwark::tools::run_sa},
    {"vpn", "list VPN connections, their state and problems; bring them up or down", bulwark::tools::run_vpn},
    {"users", "list or log out the user firewall's logged-in users", bulwark::tools::run_users},
};

void usage(std::FILE* out) {
  fmt::print(out, "usage: bulwark COMMAND [OPTIONS]\n\ncommands:\n");
  for (const auto& c : kCommands) fmt::print(out, "  {:<10} {}\n", c.name, c.summary);
  fmt::print(out, "\n'bulwark COMMAND --help' describes a command.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    usage(stdout);
    return 0;
  }
  for (const auto& c : kCommands) {
    if (name == c.name) return c.run(std::vector<std::string>(argv + 2, argv + argc));
  }
  fmt::print(stderr, "bulwark: unknown command '{}'\n\n", name);
  usage(stderr);
  return 2;
}
