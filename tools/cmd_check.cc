// `bulwark check [CONFIG…]`: validate configuration files, print every error and warning, and
// optionally the compiled tables. Exit status: 0 valid (warnings allowed), 1 errors, 2 usage.
#include <iostream>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "config/config.h"
#include "config/dump.h"
#include "tools/commands.h"
#include "tools/options.h"
#include "config/json.h"

namespace bulwark::tools {
namespace {

using config::json_string;

namespace po = boost::program_options;
using config::Diagnostic;
using config::Severity;
using config::Tables;

size_t rule_count(const Tables& t) {
  size_t n = t.firewall.incoming.rules.size() + t.firewall.outgoing.rules.size() +
             t.firewall.dmz.rules.size();
  for (const auto& r : t.firewall.records) n += r.rules.rules.size();
  return n;
}

std::string summary(const Tables& t) {
  return fmt::format(
      "generation {}: {} interfaces, {} routes, {} proxy-ARP ranges, {} firewall rules, {} rule "
      "records, {} NAT entries, {} VPN connections, {} CIFS checks",
      t.generation, t.interfaces.size(), t.routes.size(), t.proxy_arp.size(), rule_count(t),
      t.firewall.records.size(),
      t.nat.one_to_one.size() + t.nat.masquerade.size() + t.nat.port_forwarding.size(),
      t.ipsec.connections.size(), t.cifs.jobs.size());
}

std::string diagnostic_json(const Diagnostic& d) {
  return fmt::format(
      "{{\"severity\": {}, \"file\": {}, \"line\": {}, \"column\": {}, \"path\": {}, "
      "\"message\": {}, \"hint\": {}}}",
      json_string(d.severity == Severity::kError ? "error" : "warning"), json_string(d.origin.file),
      d.origin.line, d.origin.column, json_string(d.origin.path), json_string(d.message),
      json_string(d.hint));
}

void print_json(const std::vector<std::string>& files, const config::LoadResult& result) {
  std::string out = "{\n  \"valid\": ";
  out += result.tables ? "true" : "false";
  out += ",\n  \"files\": [";
  for (size_t i = 0; i < files.size(); ++i) out += (i ? ", " : "") + json_string(files[i]);
  out += fmt::format("],\n  \"errors\": {},\n  \"warnings\": {},\n  \"diagnostics\": [",
                     result.diagnostics.error_count(), result.diagnostics.warning_count());
  const auto& all = result.diagnostics.all();
  for (size_t i = 0; i < all.size(); ++i) out += (i ? ",\n    " : "\n    ") + diagnostic_json(all[i]);
  out += all.empty() ? "]" : "\n  ]";
  if (result.tables) {
    const Tables& t = *result.tables;
    out += fmt::format(
        ",\n  \"tables\": {{\"generation\": {}, \"interfaces\": {}, \"routes\": {}, \"proxy_arp\": {}, "
        "\"rules\": {}, \"rule_records\": {}, \"one_to_one_nat\": {}, \"masquerade\": {}, "
        "\"port_forwarding\": {}, \"vpn_connections\": {}, \"cifs_checks\": {}}}",
        t.generation, t.interfaces.size(), t.routes.size(), t.proxy_arp.size(), rule_count(t),
        t.firewall.records.size(), t.nat.one_to_one.size(), t.nat.masquerade.size(),
        t.nat.port_forwarding.size(), t.ipsec.connections.size(), t.cifs.jobs.size());
  }
  out += "\n}\n";
  std::cout << out;
}

}  // namespace

int run_check(const std::vector<std::string>& args) {
  po::options_description options(
      "usage: bulwark check [OPTIONS] [CONFIG…]\n\n"
      "Validates Bulwark configuration files (several files are merged section by section) and\n"
      "reports every error and warning as file:line:col. Without CONFIG it checks the built-in\n"
      "factory configuration. Exit status: 0 valid, 1 errors found, 2 usage error.\n\noptions");
  options.add_options()
      ("help,h", "show this help")
      ("json", "print one JSON object: validity, diagnostics and table sizes")
      ("dump", "print the compiled tables (secrets appear as references only)")
      ("config", po::value<std::vector<std::string>>()->composing(), "configuration file");
  po::positional_options_description positional;
  positional.add("config", -1);

  po::variables_map vm;
  if (int rc = parse_command_line(args, options, positional, vm, "check"); rc >= 0) return rc;

  std::vector<std::string> files;
  if (vm.count("config")) files = vm["config"].as<std::vector<std::string>>();

  config::LoadResult result = config::load_files(files);
  if (files.empty()) files.push_back(config::default_source().name);

  if (vm.count("json")) {
    print_json(files, result);
  } else {
    for (const auto& d : result.diagnostics.all()) std::cerr << d.str() << "\n";
    if (result.tables) {
      if (vm.count("dump")) std::cout << config::dump_tables(*result.tables);
      fmt::print("{}: valid, {}{}\n", fmt::join(files, ", "), summary(*result.tables),
                 result.diagnostics.warning_count()
                     ? fmt::format(" ({} warning{})", result.diagnostics.warning_count(),
                                   result.diagnostics.warning_count() == 1 ? "" : "s")
                     : "");
    } else {
      size_t errors = result.diagnostics.error_count();
      size_t warnings = result.diagnostics.warning_count();
      fmt::print(stderr, "{}: {} error{}, {} warning{}\n", fmt::join(files, ", "), errors,
                 errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
    }
  }
  return result.tables ? 0 : 1;
}

}  // namespace bulwark::tools
