// Secrets (passwords, pre-shared keys) are configured only by reference — `{file: PATH}` or
// `{env: NAME}` — and read when needed, so they never appear in a configuration dump or a log.
#pragma once

#include <optional>
#include <string>

#include "config/model.h"

namespace bulwark::config {

// The secret's value (a file's trailing newline removed), or nullopt with an `error` that names
// the reference, never the value.
std::optional<std::string> read_secret(const SecretRef& ref, std::string& error);

}  // namespace bulwark::config
