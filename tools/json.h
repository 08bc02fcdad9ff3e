// Minimal JSON text helpers for the CLI's --json output: string escaping and a key/value writer.
#pragma once

#include <string>
#include <string_view>

namespace bulwark::tools {

// `text` as a JSON string literal, quotes included.
std::string json_string(std::string_view text);

}  // namespace bulwark::tools
