#include "tools/counters_json.h"

#include <fmt/format.h>

#include "tools/json.h"

namespace bulwark::tools {

using dataplane::CounterSnapshot;
using dataplane::DropReason;
using dataplane::Event;
using dataplane::Stage;

std::string counters_json_members(const CounterSnapshot& c) {
  std::string out = fmt::format(
      "\"received\": {}, \"forwarded\": {}, \"generated\": {}, \"punted\": {}, \"consumed\": {}, "
      "\"dropped\": {{",
      c.received, c.forwarded, c.generated, c.punted, c.consumed);
  bool first = true;
  for (size_t i = 0; i < dataplane::kDropReasonCount; ++i) {
    if (c.dropped[i] == 0) continue;
    out += fmt::format("{}{}: {}", first ? "" : ", ",
                       json_string(dataplane::drop_reason_name(static_cast<DropReason>(i))), c.dropped[i]);
    first = false;
  }
  out += "}, \"events\": {";
  for (size_t i = 0; i < dataplane::kEventCount; ++i) {
    out += fmt::format("{}{}: {}", i ? ", " : "", json_string(dataplane::event_name(static_cast<Event>(i))),
                       c.events[i]);
  }
  out += "}, \"stages\": {";
  for (size_t i = 0; i < dataplane::kStageCount; ++i) {
    out += fmt::format("{}{}: {}", i ? ", " : "", json_string(dataplane::stage_name(static_cast<Stage>(i))),
                       c.stages[i]);
  }
  return out + "}";
}

std::string counters_text(const CounterSnapshot& c) {
  std::string out = fmt::format(
      "received {}  forwarded {}  generated {}  punted {}  consumed {}  dropped {}\n", c.received,
      c.forwarded, c.generated, c.punted, c.consumed, c.dropped_total());
  for (size_t i = 0; i < dataplane::kDropReasonCount; ++i) {
    if (c.dropped[i] == 0) continue;
    auto reason = static_cast<DropReason>(i);
    out += fmt::format("  dropped {:<22} {:>10}  {}\n", dataplane::drop_reason_name(reason), c.dropped[i],
                       dataplane::kDropReasons[i].text);
  }
  for (size_t i = 0; i < dataplane::kEventCount; ++i) {
    if (c.events[i] == 0) continue;
    out += fmt::format("  {:<30} {:>10}\n", dataplane::event_name(static_cast<Event>(i)), c.events[i]);
  }
  return out;
}

std::string replay_json(const dataplane::ReplayResult& r) {
  std::string out = fmt::format("{{\"in\": {}, \"out\": {}, {}, \"captures\": {{", r.in, r.out,
                                counters_json_members(r.counters));
  for (size_t i = 0; i < r.written.size(); ++i) {
    out += fmt::format("{}{}: {}", i ? ", " : "", json_string(r.written[i].first), r.written[i].second);
  }
  return out + "}}";
}

std::string replay_text(const dataplane::ReplayResult& r) {
  std::string out = fmt::format("replayed {} frames, wrote {} frames\n", r.in, r.out);
  out += counters_text(r.counters);
  out += "output captures:\n";
  for (const auto& [path, frames] : r.written) out += fmt::format("  {:>8} frames  {}\n", frames, path);
  return out;
}

}  // namespace bulwark::tools
