// Shared by the connection-table tests: readable names for states and verdicts in Catch's
// failure messages, and short names for the two directions.
#pragma once

#include <catch2/catch.hpp>
#include <string>

#include "conntrack/conntrack.h"

namespace Catch {
template <>
struct StringMaker<bulwark::conntrack::State> {
  static std::string convert(bulwark::conntrack::State s) {
    return bulwark::conntrack::state_name(s);
  }
};
template <>
struct StringMaker<bulwark::conntrack::Verdict> {
  static std::string convert(bulwark::conntrack::Verdict v) {
    using bulwark::conntrack::Verdict;
    return v == Verdict::kAccept    ? "kAccept"
           : v == Verdict::kInvalid ? "kInvalid"
                                    : "kNewConnection";
  }
};
}  // namespace Catch

namespace bulwark::conntrack::test {
constexpr Direction kOrig = Direction::kOriginal;
constexpr Direction kReply = Direction::kReply;
}  // namespace bulwark::conntrack::test
