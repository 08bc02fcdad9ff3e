// Rendering dataplane counters for people (text) and tools (JSON).
#pragma once

#include <string>

#include "dataplane/counters.h"
#include "dataplane/replay.h"

namespace bulwark::tools {

// The outcome counters as JSON members: "forwarded", …, "dropped": {reason: n}, "events": {…}.
std::string counters_json_members(const dataplane::CounterSnapshot& c);
std::string counters_text(const dataplane::CounterSnapshot& c);

std::string replay_json(const dataplane::ReplayResult& r);
std::string replay_text(const dataplane::ReplayResult& r);

}  // namespace bulwark::tools
