// A client of the dataplane's control socket: connect, send one request, read its reply.
#pragma once

#include <optional>
#include <string>

#include "config/control_protocol.h"

namespace bulwark::control {

// One request/reply exchange on a fresh connection to `socket_path`.
std::optional<config::Message> request(const std::string& socket_path, const config::Message& m,
                                       std::string& error);

}  // namespace bulwark::control
