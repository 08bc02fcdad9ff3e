// When a check sequence runs next: daily or weekly at a local time of day, every N seconds, or
// only by hand (manual 16.8, "Time schedule").
#pragma once

#include <ctime>
#include <optional>

#include "config/model.h"

namespace bulwark::control::cifs {

// The first time strictly after `after` at which the schedule fires; nullopt for manual.
// Interval schedules count from `after` (the end of the previous run, or the daemon's start).
std::optional<std::time_t> next_run(const config::Schedule& schedule, std::time_t after);

}  // namespace bulwark::control::cifs
