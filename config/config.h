// The configuration pipeline: parse → validate → compile, all-or-nothing.
//
// `load` is the one entry point tools and the control plane use: it reads YAML sources, reports
// every problem it finds (parse errors, unknown keys, bad values, broken references, semantic
// mistakes) into a Diagnostics list, and returns compiled tables only when there is no error.
// Warnings (lint) never block a configuration.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/dhcp_lease.h"
#include "config/diagnostics.h"
#include "config/model.h"
#include "config/tables.h"

namespace bulwark::config {

// One YAML document and the name to use for it in messages (usually its path).
struct Source {
  std::string name;
  std::string text;
};

// Reads files from disk; a file that cannot be read becomes an error, not an exception.
std::vector<Source> read_sources(const std::vector<std::string>& paths, Diagnostics& diagnostics);

// The factory configuration of a new box (config/default.yaml, built into the binary).
Source default_source();

Model parse(const std::vector<Source>& sources, Diagnostics& diagnostics);
void validate(const Model& model, Diagnostics& diagnostics);
Tables compile(const Model& model, uint64_t generation);

struct LoadResult {
  Diagnostics diagnostics;
  std::optional<Tables> tables;  // set only when there was no error
};

// `leases`: the DHCP leases of `dhcp` interfaces (config/dhcp_lease.h), none by default.
LoadResult load(const std::vector<Source>& sources, uint64_t generation = 1,
                const std::vector<DhcpLease>& leases = {});

// Reads `paths` (the factory configuration when empty) and loads them; a file that cannot be
// read is reported like any other error.
LoadResult load_files(const std::vector<std::string>& paths, uint64_t generation = 1,
                      const std::vector<DhcpLease>& leases = {});

}  // namespace bulwark::config
