// Human-readable rendering of a compiled table set (`bulwark check --dump`). Secrets appear as
// their references only.
#pragma once

#include <string>

#include "config/tables.h"

namespace bulwark::config {

std::string dump_tables(const Tables& tables);

}  // namespace bulwark::config
