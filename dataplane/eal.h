// EAL start-up. DPDK keeps global state, so a process initialises it once.
#pragma once

#include <string>
#include <vector>

namespace bulwark::dataplane {

// `args` are EAL arguments without the program name. Returns false with `error` on failure.
bool init_eal(const std::vector<std::string>& args, std::string& error);
void cleanup_eal();

}  // namespace bulwark::dataplane
