// Command-line parsing shared by the `bulwark` sub-commands: one place for --help and for usage
// errors (exit status 2).
#pragma once

#include <string>
#include <vector>

#include <boost/program_options.hpp>

namespace bulwark::tools {

// Parses `args` into `vm`. Returns -1 to carry on, 0 after printing --help, 2 after a usage
// error (printed with the options).
int parse_command_line(const std::vector<std::string>& args,
                       const boost::program_options::options_description& options,
                       const boost::program_options::positional_options_description& positional,
                       boost::program_options::variables_map& vm, const std::string& command);

}  // namespace bulwark::tools
