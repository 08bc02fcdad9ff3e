#include "dataplane/eal.h"

#include <rte_eal.h>
#include <rte_errno.h>

#include <fmt/format.h>

namespace bulwark::dataplane {

bool init_eal(const std::vector<std::string>& args, std::string& error) {
  std::vector<std::string> storage;
  storage.push_back("bulwark");
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (rte_eal_init(static_cast<int>(storage.size()), argv.data()) < 0) {
    error = fmt::format("DPDK EAL initialisation failed: {} (arguments: {})", rte_strerror(rte_errno),
                        fmt::join(args, " "));
    return false;
  }
  return true;
}

void cleanup_eal() { rte_eal_cleanup(); }

}  // namespace bulwark::dataplane
