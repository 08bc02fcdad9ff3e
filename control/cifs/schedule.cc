#include "control/cifs/schedule.h"

namespace bulwark::control::cifs {

std::optional<std::time_t> next_run(const config::Schedule& s, std::time_t after) {
  using Kind = config::Schedule::Kind;
  if (s.kind == Kind::kManual) return std::nullopt;
  if (s.kind == Kind::kInterval) return after + static_cast<std::time_t>(s.interval);
  std::tm day{};
  localtime_r(&after, &day);
  // Walk forward day by day (at most 8) to the first matching day whose hh:mm lies ahead;
  // mktime normalises the date and applies the day's own daylight-saving offset.
  for (int offset = 0; offset <= 8; ++offset) {
    std::tm candidate = day;
    candidate.tm_mday += offset;
    candidate.tm_hour = s.hour;
    candidate.tm_min = s.minute;
    candidate.tm_sec = 0;
    candidate.tm_isdst = -1;
    std::time_t when = std::mktime(&candidate);
    if (when <= after) continue;
    int monday_based = (candidate.tm_wday + 6) % 7;
    if (s.kind == Kind::kWeekly && monday_based != s.weekday) continue;
    return when;
  }
  return std::nullopt;
}

}  // namespace bulwark::control::cifs
