#include "tools/options.h"

#include <iostream>

#include <fmt/format.h>

namespace bulwark::tools {

namespace po = boost::program_options;

int parse_command_line(const std::vector<std::string>& args, const po::options_description& options,
                       const po::positional_options_description& positional, po::variables_map& vm,
                       const std::string& command) {
  try {
    po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    fmt::print(stderr, "bulwark {}: {}\n\n", command, e.what());
    std::cerr << options << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << options << "\n";
    return 0;
  }
  return -1;
}

}  // namespace bulwark::tools
