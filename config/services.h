// Well-known service names usable wherever a port is expected (`to_port: https`).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace bulwark::config {

std::optional<uint16_t> service_port(std::string_view name);
// The service name of a port, for dumps and hints ("80" -> "http").
std::optional<std::string_view> service_name(uint16_t port);
const std::vector<std::pair<std::string_view, uint16_t>>& all_services();

}  // namespace bulwark::config
