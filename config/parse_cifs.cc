// Parser for `cifs`: shares, filename pattern sets and check sequences.
#include <fmt/format.h>

#include "config/parse_sections.h"
#include "config/yaml_values.h"

namespace bulwark::config {
namespace {

std::optional<CifsShare> parse_share(Reader& r, const YAML::Node& n, const std::string& path) {
  CifsShare s;
  MapReader m(r, n, path, s);
  bool ok = m.required("name", s.name, as_name);
  ok &= m.required("server", s.server, as_string, "the server's address or host name");
  ok &= m.required("share", s.share, as_string, "the Windows share name, e.g. Programs");
  uint32_t port = s.port;
  m.optional("port", port, Integer{1, 65535});
  s.port = static_cast<uint16_t>(port);
  m.optional("username", s.username, as_string);
  SecretRef password;
  if (m.optional("password", password, as_secret)) s.password = password;
  m.optional("domain", s.domain, as_string);
  m.finish();
  if (!ok) return std::nullopt;
  return s;
}

std::optional<FilenamePattern> parse_pattern(Reader& r, const YAML::Node& n,
                                             const std::string& path) {
  FilenamePattern p;
  MapReader m(r, n, path, p);
  bool ok = m.required("pattern", p.pattern, as_string, "e.g. '**\\*.exe'");
  ok &= m.required("include", p.include, as_bool, "true to check matching files, false to skip them");
  m.finish();
  if (!ok) return std::nullopt;
  return p;
}

std::optional<PatternSet> parse_pattern_set(Reader& r, const YAML::Node& n,
                                            const std::string& path) {
  PatternSet set;
  MapReader m(r, n, path, set);
  bool ok = m.required("name", set.name, as_name);
  m.non_empty_list("patterns", set.patterns, parse_pattern,
                   "an ordered list of {pattern, include}; without patterns no file is checked");
  m.finish();
  if (!ok) return std::nullopt;
  return set;
}

std::optional<std::pair<uint8_t, uint8_t>> parse_clock(Reader& r, const YAML::Node& n,
                                                       const std::string& path) {
  auto text = as_string(r, n, path);
  if (!text) return std::nullopt;
  unsigned hour = 0, minute = 0;
  char extra = 0;
  if (std::sscanf(text->c_str(), "%2u:%2u%c", &hour, &minute, &extra) != 2 || hour > 23 ||
      minute > 59 || text->size() != 5) {
    r.error(n, path, fmt::format("'{}' is not a time of day", *text), "write HH:MM, e.g. '04:17'");
    return std::nullopt;
  }
  return std::pair{static_cast<uint8_t>(hour), static_cast<uint8_t>(minute)};
}

void parse_schedule(Reader& r, const YAML::Node& n, const std::string& path, Schedule& s) {
  if (n.IsScalar()) {
    s.origin = r.origin(n, path);
    if (n.Scalar() != "manual") {
      r.error(n, path, fmt::format("'{}' is not a schedule", n.Scalar()),
              "write manual, {daily: 'HH:MM'}, {weekly: {day: monday, at: 'HH:MM'}} or {every: 30m}");
    }
    return;
  }
  MapReader m(r, n, path, s);
  std::pair<uint8_t, uint8_t> clock;
  int kinds = 0;
  if (m.optional("daily", clock, parse_clock)) {
    s.kind = Schedule::Kind::kDaily;
    std::tie(s.hour, s.minute) = clock;
    ++kinds;
  }
  if (auto weekly = m.take("weekly")) {
    Located section;
    std::string weekly_path = join_path(path, "weekly");
    MapReader w(r, *weekly, weekly_path, section);
    w.required("day", s.weekday,
               OneOf<uint8_t>{{"monday", 0}, {"tuesday", 1}, {"wednesday", 2}, {"thursday", 3},
                              {"friday", 4}, {"saturday", 5}, {"sunday", 6}});
    if (w.required("at", clock, parse_clock)) std::tie(s.hour, s.minute) = clock;
    w.finish();
    s.kind = Schedule::Kind::kWeekly;
    ++kinds;
  }
  if (m.optional("every", s.interval, as_duration)) {
    s.kind = Schedule::Kind::kInterval;
    ++kinds;
    if (s.interval < 60) {
      r.diagnostics().error(s.at("every"), "checks can run at most once a minute",
                            "give an interval of 1m or more");
    }
  }
  m.finish();
  if (m.ok() && kinds != 1) {
    r.error(n, path, "a schedule is exactly one of daily, weekly and every",
            "e.g. {daily: '04:17'}");
  }
}

std::optional<CheckSequence> parse_check(Reader& r, const YAML::Node& n, const std::string& path) {
  CheckSequence c;
  MapReader m(r, n, path, c);
  bool ok = m.required("name", c.name, as_name);
  ok &= m.required("share", c.share, as_name, "the name of the share to check");
  ok &= m.required("checksum_share", c.checksum_share, as_name,
                   "the share where the integrity database and reports are stored");
  ok &= m.required("patterns", c.patterns, as_name, "the name of a pattern set");
  if (auto schedule = m.take("schedule")) parse_schedule(r, *schedule, join_path(path, "schedule"), c.schedule);
  m.optional("enabled", c.enabled, as_bool);
  m.finish();
  if (!ok) return std::nullopt;
  return c;
}

}  // namespace

void parse_cifs(Reader& r, const YAML::Node& n, CifsSection& out) {
  MapReader m(r, n, "cifs", out);
  m.optional("integrity_certificate", out.integrity_certificate, as_name);
  if (auto notification = m.take("notification")) {
    Located section;
    MapReader nm(r, *notification, "cifs.notification", section);
    nm.optional("email", out.notify_email, as_string);
    nm.optional("subject_prefix", out.subject_prefix, as_text);
    out.send = CifsSection::Send::kDeviations;
    nm.optional("send", out.send,
                OneOf<CifsSection::Send>{{"always", CifsSection::Send::kAlways},
                                         {"deviations", CifsSection::Send::kDeviations},
                                         {"never", CifsSection::Send::kNever}});
    nm.finish();
    out.keys["notification"] = section.origin;
  }
  m.list("shares", out.shares, parse_share);
  m.list("pattern_sets", out.pattern_sets, parse_pattern_set);
  m.list("checks", out.checks, parse_check);
  m.finish();
}

}  // namespace bulwark::config
