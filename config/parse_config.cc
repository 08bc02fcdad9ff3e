// Top level of the parser: YAML syntax, the list of sections, and merging several files.
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "config/config.h"
#include "config/dhcp_lease.h"
#include "config/parse_sections.h"
#include "config/yaml_values.h"

namespace bulwark::config {
namespace {

// yaml-cpp quotes offending input in its messages; keep them printable.
std::string printable(const std::string& text) {
  std::string out;
  for (unsigned char c : text) out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  return out;
}

// Parses one file's root mapping into `model`; `seen` tracks sections across files.
void parse_root(Reader& r, const YAML::Node& root, Model& model,
                std::map<std::string, Origin>& seen) {
  Located root_location;
  MapReader m(r, root, "", root_location);
  if (!m.ok()) return;

  // A section may be given in one file only; the second occurrence is an error.
  auto section = [&](const char* key) -> std::optional<YAML::Node> {
    auto node = m.take(key);
    if (!node) return std::nullopt;
    Origin origin = root_location.at(key);
    auto [it, inserted] = seen.emplace(key, origin);
    if (!inserted) {
      r.diagnostics().error(origin, fmt::format("section '{}' is already given", key),
                            fmt::format("first given at {}; keep each section in one file",
                                        it->second.position()));
      return std::nullopt;
    }
    return node;
  };

  uint32_t version = 0;
  if (!m.required("version", version, Integer{1, 1},
                  "start every configuration file with 'version: 1'")) {
    // Reported; keep reading so that the rest of the file is checked too.
  }
  if (auto n = section("system")) parse_system(r, *n, model.system);
  if (auto n = section("dataplane")) parse_dataplane(r, *n, model.dataplane);
  if (auto n = section("interfaces")) model.interfaces_complete = parse_interfaces(r, *n, model.interfaces);
  if (auto n = section("default_gateway")) {
    model.default_gateway_origin = root_location.at("default_gateway");
    model.default_gateway = as_address(r, *n, "default_gateway");
  }
  if (auto n = section("switches")) parse_switches(r, *n, model.switches);
  if (auto n = section("nat")) parse_nat(r, *n, model.nat);
  if (auto n = section("firewall")) {
    parse_firewall(r, *n, model.firewall);
  }
  if (auto n = section("user_firewall")) parse_user_firewall(r, *n, model.user_firewall);
  if (auto n = section("management")) parse_management(r, *n, model.management);
  if (auto n = section("ipsec")) parse_ipsec(r, *n, model.ipsec);
  if (auto n = section("cifs")) parse_cifs(r, *n, model.cifs);
  m.finish();
}

}  // namespace

std::vector<Source> read_sources(const std::vector<std::string>& paths, Diagnostics& diagnostics) {
  std::vector<Source> sources;
  for (const auto& path : paths) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      diagnostics.error(Origin{path, 1, 1, ""}, "cannot open the file",
                        "check the path and that you may read it");
      continue;
    }
    std::ostringstream text;
    text << in.rdbuf();
    sources.push_back({path, text.str()});
  }
  return sources;
}

Model parse(const std::vector<Source>& sources, Diagnostics& diagnostics) {
  Model model;
  // Sections absent from every file keep their built-in defaults; the packet filter's
  // defaults depend on the list (incoming drop, outgoing accept, DMZ drop).
  model.firewall.incoming.policy = DefaultPolicy::kDrop;
  model.firewall.outgoing.policy = DefaultPolicy::kAccept;
  model.firewall.dmz.policy = DefaultPolicy::kDrop;

  std::map<std::string, Origin> seen;
  bool unreadable = false;  // a file that could not be parsed at all hides its sections
  for (const auto& source : sources) {
    model.files.push_back(source.name);
    Reader reader(diagnostics, source.name);
    YAML::Node root;
    try {
      root = YAML::Load(source.text);
    } catch (const YAML::Exception& e) {
      Origin origin{source.name, e.mark.is_null() ? 1 : e.mark.line + 1,
                    e.mark.is_null() ? 1 : e.mark.column + 1, ""};
      diagnostics.error(origin, fmt::format("YAML syntax error: {}", printable(e.msg)),
                        "check indentation, quotes and that values starting with % or * are quoted");
      unreadable = true;
      continue;
    }
    if (!root.IsDefined() || root.IsNull()) {
      diagnostics.error(Origin{source.name, 1, 1, ""}, "the file is empty",
                        "a configuration starts with 'version: 1'");
      unreadable = true;
      continue;
    }
    try {
      parse_root(reader, root, model, seen);
    } catch (const YAML::Exception& e) {
      // yaml-cpp raises on some malformed documents only when nodes are visited.
      Origin origin{source.name, e.mark.is_null() ? 1 : e.mark.line + 1,
                    e.mark.is_null() ? 1 : e.mark.column + 1, ""};
      diagnostics.error(origin, fmt::format("YAML error: {}", printable(e.msg)));
    }
  }
  if (!sources.empty() && !unreadable && seen.find("interfaces") == seen.end()) {
    diagnostics.error(Origin{sources.front().name, 1, 1, ""}, "missing required section 'interfaces'",
                      "declare at least an internal and an external interface");
  }
  return model;
}

LoadResult load(const std::vector<Source>& sources, uint64_t generation, const std::vector<DhcpLease>& leases) {
  LoadResult result;
  Model model = parse(sources, result.diagnostics);
  apply_leases(model, leases);
  // Validation runs after parse errors too, so that one run reports every problem.
  validate(model, result.diagnostics);
  result.diagnostics.sort();
  if (!result.diagnostics.has_errors()) result.tables = compile(model, generation);
  return result;
}

LoadResult load_files(const std::vector<std::string>& paths, uint64_t generation,
                      const std::vector<DhcpLease>& leases) {
  if (paths.empty()) return load({default_source()}, generation, leases);
  LoadResult result;
  std::vector<Source> sources = read_sources(paths, result.diagnostics);
  if (result.diagnostics.has_errors()) return result;
  return load(sources, generation, leases);
}

}  // namespace bulwark::config
