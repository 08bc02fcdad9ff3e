#include "dataplane/counters_json.h"

#include <fmt/format.h>

#include "config/json.h"

namespace bulwark::dataplane {

using config::json_string;

std::string counters_json_members(const CounterSnapshot& c) {
  std::string out = fmt::format(
      "\"received\": {}, \"forwarded\": {}, \"generated\": {}, \"punted\": {}, \"consumed\": {}, "
      "\"dropped\": {{",
      c.received, c.forwarded, c.generated, c.punted, c.consumed);
  bool first = true;
  for (size_t i = 0; i < kDropReasonCount; ++i) {
    if (c.dropped[i] == 0) continue;
    out += fmt::format("{}{}: {}", first ? "" : ", ",
                       json_string(drop_reason_name(static_cast<DropReason>(i))), c.dropped[i]);
    first = false;
  }
  out += "}, \"events\": {";
  for (size_t i = 0; i < kEventCount; ++i) {
    out += fmt::format("{}{}: {}", i ? ", " : "", json_string(event_name(static_cast<Event>(i))),
                       c.events[i]);
  }
  out += "}, \"stages\": {";
  for (size_t i = 0; i < kStageCount; ++i) {
    out += fmt::format("{}{}: {}", i ? ", " : "", json_string(stage_name(static_cast<Stage>(i))),
                       c.stages[i]);
  }
  return out + "}";
}

std::string counters_text(const CounterSnapshot& c) {
  std::string out = fmt::format(
      "received {}  forwarded {}  generated {}  punted {}  consumed {}  dropped {}\n", c.received,
      c.forwarded, c.generated, c.punted, c.consumed, c.dropped_total());
  for (size_t i = 0; i < kDropReasonCount; ++i) {
    if (c.dropped[i] == 0) continue;
    auto reason = static_cast<DropReason>(i);
    out += fmt::format("  dropped {:<22} {:>10}  {}\n", drop_reason_name(reason), c.dropped[i],
                       kDropReasons[i].text);
  }
  for (size_t i = 0; i < kEventCount; ++i) {
    if (c.events[i] == 0) continue;
    out += fmt::format("  {:<30} {:>10}\n", event_name(static_cast<Event>(i)), c.events[i]);
  }
  return out;
}

std::string replay_json(const ReplayResult& r) {
  std::string out = fmt::format("{{\"in\": {}, \"out\": {}, {}, \"log_lines\": {}, \"connections\": {}, \"captures\": {{",
                                r.in, r.out, counters_json_members(r.counters), r.log_lines, r.connections);
  for (size_t i = 0; i < r.written.size(); ++i) {
    out += fmt::format("{}{}: {}", i ? ", " : "", json_string(r.written[i].first), r.written[i].second);
  }
  return out + "}}";
}

std::string replay_text(const ReplayResult& r) {
  std::string out = fmt::format("replayed {} frames, wrote {} frames\n", r.in, r.out);
  out += counters_text(r.counters);
  out += fmt::format("connections tracked at the end: {}\nfirewall log lines: {}\n", r.connections, r.log_lines);
  out += "output captures:\n";
  for (const auto& [path, frames] : r.written) out += fmt::format("  {:>8} frames  {}\n", frames, path);
  return out;
}

}  // namespace bulwark::dataplane
