// JSON text helpers for machine-readable output (CLI --json, status replies): string escaping.
#pragma once

#include <string>
#include <string_view>

namespace bulwark::config {

// `text` as a JSON string literal, quotes included.
std::string json_string(std::string_view text);

}  // namespace bulwark::config
