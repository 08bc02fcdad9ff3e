// The host side of the exception path: the dataplane creates one tap interface per configured
// interface ("bw-NAME", same MAC); the control plane moves them into the exception namespace and
// gives them the interface's addresses and the default route, so that services there (SSH, the
// web portal, later IKE) answer as the box. See docs/exception-path.md.
#pragma once

#include <string>

#include "config/tables.h"

namespace bulwark::control {

// Idempotent. Returns false with `error` when an `ip` command fails.
bool configure_exception_path(const config::Tables& tables, std::string& error);

}  // namespace bulwark::control
