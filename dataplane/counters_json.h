// Rendering dataplane counters for people (text) and tools (JSON); used by the status reply of
// the control socket and by bulwark replay.
#pragma once

#include <string>

#include "dataplane/counters.h"
#include "dataplane/replay.h"

namespace bulwark::dataplane {

// The outcome counters as JSON members: "forwarded", …, "dropped": {reason: n}, "events": {…}.
std::string counters_json_members(const CounterSnapshot& c);
std::string counters_text(const CounterSnapshot& c);

std::string replay_json(const ReplayResult& r);
std::string replay_text(const ReplayResult& r);

}  // namespace bulwark::dataplane
