// Helpers for configuration tests: load YAML text and look for a diagnostic at a position.
#pragma once

#include <string>

#include "config/config.h"

namespace bulwark::test {

// Loads `yaml` as the single file "t.yaml".
config::LoadResult load_text(const std::string& yaml);

// A two-interface configuration (internal 192.168.1.1/24, external 10.1.0.1/16, default
// gateway 10.1.0.254) followed by `extra` top-level YAML.
std::string base_config(const std::string& extra = "");

// Every diagnostic, one per line, for failure messages.
std::string all_messages(const config::LoadResult& r);

// True when there is a diagnostic of `severity` whose message contains `text` and, when `line`
// is not 0, that sits at line:column.
bool has_diagnostic(const config::LoadResult& r, config::Severity severity, const std::string& text,
                    int line = 0, int column = 0, const std::string& path = "");

}  // namespace bulwark::test
