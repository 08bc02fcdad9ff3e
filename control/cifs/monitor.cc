#include "control/cifs/monitor.h"

#include <syslog.h>

#include <chrono>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "config/json.h"
#include "config/secrets.h"
#include "control/cifs/schedule.h"
#include "control/cifs/smtp.h"

namespace bulwark::control::cifs {
namespace {

using config::Message;
using config::MessageType;

std::string clock_text(std::time_t t) {
  if (t == 0) return "never";
  char text[64];
  std::strftime(text, sizeof text, "%a %d %b %Y %H:%M:%S", std::localtime(&t));
  return text;
}

std::string schedule_text(const config::Schedule& s) {
  static const char* days[] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
  switch (s.kind) {
    case config::Schedule::Kind::kDaily: return fmt::format("every day at {:02}:{:02}", s.hour, s.minute);
    case config::Schedule::Kind::kWeekly:
      return fmt::format("every {} at {:02}:{:02}", days[s.weekday % 7], s.hour, s.minute);
    case config::Schedule::Kind::kInterval: return fmt::format("every {} s", s.interval);
    default: return "manual";
  }
}

std::optional<ShareAccess> share_access(const config::CifsShareEntry& s, std::string& error) {
  ShareAccess a{s.server, s.port, s.share, s.username, {}, s.domain};
  if (s.password) {
    auto password = config::read_secret(*s.password, error);
    if (!password) {
      error = fmt::format("share {}: {}", s.name, error);
      return std::nullopt;
    }
    a.password = *password;
  }
  return a;
}

// The last result of a check sequence survives restarts of bulwark-control in
// STATE/cifs/NAME/last-result: one "key value" per line (the message last, it may hold spaces).
const char* kLastResult = "last-result";

void save_last(const std::string& dir, Operation op, const Outcome& o, std::time_t start, double seconds) {
  std::string path = dir + "/" + kLastResult;
  std::FILE* f = std::fopen((path + ".new").c_str(), "w");
  if (!f) return;
  fmt::print(f, "operation {}\nresult {}\nok {}\nalarm {}\nfiles {}\ndifferences {}\nerrors {}\nstart {}\nseconds {}\n"
                "report {}\nmessage {}\n",
             static_cast<int>(op), o.result, o.ok, o.alarm, o.files, o.differences, o.errors, start, seconds,
             o.report_text, o.message);
  bool ok = std::fclose(f) == 0;
  if (ok) std::rename((path + ".new").c_str(), path.c_str());
}

// Fills `op`, `o`, `start` and `seconds` from the saved file; false when there is none.
bool load_last(const std::string& dir, Operation& op, Outcome& o, std::time_t& start, double& seconds) {
  std::FILE* f = std::fopen((dir + "/" + kLastResult).c_str(), "r");
  if (!f) return false;
  char line[4096];
  int fields = 0;
  while (std::fgets(line, sizeof line, f)) {
    std::string text(line);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    size_t space = text.find(' ');
    std::string key = text.substr(0, space), value = space == std::string::npos ? "" : text.substr(space + 1);
    try {
      if (key == "operation") op = static_cast<Operation>(std::stoi(value));
      else if (key == "result") o.result = value;
      else if (key == "ok") o.ok = value == "true";
      else if (key == "alarm") o.alarm = value == "true";
      else if (key == "files") o.files = std::stoull(value);
      else if (key == "differences") o.differences = std::stoull(value);
      else if (key == "errors") o.errors = std::stoull(value);
      else if (key == "start") start = static_cast<std::time_t>(std::stoll(value));
      else if (key == "seconds") seconds = std::stod(value);
      else if (key == "report") o.report_text = value;
      else if (key == "message") o.message = value;
      else continue;
      ++fields;
    } catch (const std::exception&) {
      break;  // a damaged file: what was read so far, or nothing
    }
  }
  std::fclose(f);
  return fields == 11 && static_cast<int>(op) >= 0 && op <= Operation::kErase;
}

}  // namespace

CifsMonitor::~CifsMonitor() {
  std::vector<Runtime*> all;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [name, r] : jobs_) {
      r->cancel = true;
      all.push_back(r.get());
    }
  }
  for (Runtime* r : all) {
    if (r->worker.joinable()) r->worker.join();
  }
}

void CifsMonitor::apply(const config::Tables& tables) {
  std::vector<std::unique_ptr<Runtime>> removed;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    tables_ = tables;
    std::time_t now = std::time(nullptr);
    std::map<std::string, std::unique_ptr<Runtime>> jobs;
    for (const auto& entry : tables.cifs.jobs) {
      auto it = jobs_.find(entry.name);
      std::unique_ptr<Runtime> r;
      if (it != jobs_.end()) {
        r = std::move(it->second);
        jobs_.erase(it);
      } else {
        r = std::make_unique<Runtime>();
        LastRun last;
        if (load_last(state_dir_ + "/cifs/" + entry.name, last.operation, last.outcome, last.start, last.seconds)) {
          r->last = last;
        }
      }
      bool schedule_changed = !r->next_run || r->entry.schedule.kind != entry.schedule.kind ||
                              r->entry.schedule.hour != entry.schedule.hour ||
                              r->entry.schedule.minute != entry.schedule.minute ||
                              r->entry.schedule.weekday != entry.schedule.weekday ||
                              r->entry.schedule.interval != entry.schedule.interval;
      r->entry = entry;
      if (schedule_changed) r->next_run = next_run(entry.schedule, now);
      jobs[entry.name] = std::move(r);
    }
    for (auto& [name, r] : jobs_) {
      r->cancel = true;
      removed.push_back(std::move(r));
    }
    jobs_ = std::move(jobs);
  }
  for (auto& r : removed) {
    if (r->worker.joinable()) r->worker.join();
  }
}

void CifsMonitor::tick() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::time_t now = std::time(nullptr);
  for (auto& [name, r] : jobs_) {
    if (!r->running && r->worker.joinable()) r->worker.join();
    if (!r->entry.enabled || !r->next_run || *r->next_run > now || r->running) continue;
    r->next_run = next_run(r->entry.schedule, now);
    std::string error = start(*r, Operation::kCheck, true);
    if (!error.empty()) {
      log(LOG_ERR, fmt::format("cifs {}: scheduled check not started: {}", name, error));
    }
  }
}

std::string CifsMonitor::start(Runtime& r, Operation op, bool scheduled) {
  if (r.running) return fmt::format("{} is busy with {}; cancel it first", r.entry.name, operation_name(r.operation));
  if (r.worker.joinable()) r.worker.join();
  const config::Tables& t = *tables_;
  std::string error;
  Job job;
  job.name = r.entry.name;
  auto checked = share_access(t.cifs.shares.at(r.entry.share), error);
  auto checksum = checked ? share_access(t.cifs.shares.at(r.entry.checksum_share), error) : std::nullopt;
  if (!checksum) return error;
  job.checked = *checked;
  job.checksum = *checksum;
  job.pattern_set = r.entry.pattern_set;
  job.patterns = r.entry.patterns;
  job.local_dir = state_dir_ + "/cifs/" + r.entry.name;
  if (t.cifs.integrity_certificate >= t.ipsec.machine_certificates.size()) return "no integrity certificate configured";
  const auto& cert = t.ipsec.machine_certificates[t.cifs.integrity_certificate];
  std::string password;
  if (cert.password) {
    auto secret = config::read_secret(*cert.password, error);
    if (!secret) return fmt::format("integrity certificate {}: {}", cert.name, error);
    password = *secret;
  }
  auto key = IntegrityKey::from_pkcs12(cert.path, password, error);
  if (!key) return fmt::format("integrity certificate {}: {}", cert.name, error);

  r.running = true;
  r.cancel = false;
  r.operation = op;
  r.scheduled = scheduled;
  r.current_start = std::time(nullptr);
  r.progress.files = 0;
  r.progress.total = 0;
  r.progress.bytes = 0;
  if (op == Operation::kCheck && r.last && r.last->outcome.ok) r.progress.total = r.last->outcome.files;
  r.worker = std::thread([this, &r, op, scheduled, job = std::move(job), key = std::move(*key)]() mutable {
    std::time_t start = std::time(nullptr);
    auto begin = std::chrono::steady_clock::now();
    RunContext ctx{job, key, r.cancel, r.progress};
    Outcome outcome = run_operation(op, ctx);
    if (scheduled && op == Operation::kCheck && outcome.no_database && !r.cancel) {
      op = Operation::kInitialise;  // first scheduled run: build the reference (manual table 16-1)
      outcome = run_operation(op, ctx);
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    finished(r, op, outcome, start, seconds);
  });
  return {};
}

void CifsMonitor::finished(Runtime& r, Operation op, const Outcome& outcome, std::time_t start, double seconds) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    r.last = LastRun{op, outcome, start, seconds};
    save_last(state_dir_ + "/cifs/" + r.entry.name, op, outcome, start, seconds);
    if (outcome.checked_share_error >= 0) {
      ++r.attempts;
      r.share_state = outcome.checked_share_error == 0
                          ? "mounted and usable"
                          : fmt::format("cannot be opened: {}", std::strerror(outcome.checked_share_error));
    }
    if (r.entry.schedule.kind == config::Schedule::Kind::kInterval) {
      r.next_run = next_run(r.entry.schedule, std::time(nullptr));
    }
  }
  notify(r, op, outcome);
  r.running = false;
}

void CifsMonitor::log(int priority, const std::string& line) const {
  if (log_) {
    log_(priority, line);
    return;
  }
  syslog(priority, "%s", line.c_str());
  fmt::print("{}\n", line);
  std::fflush(stdout);
}

void CifsMonitor::notify(const Runtime& r, Operation op, const Outcome& outcome) {
  std::string line = fmt::format("cifs {} {}: {}: {}", r.entry.name, operation_name(op), outcome.result, outcome.message);
  log(outcome.alarm ? LOG_ALERT : outcome.ok ? LOG_INFO : LOG_WARNING, line);

  std::optional<config::SmtpServer> smtp;
  std::string to, prefix, hostname;
  bool send = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const config::Tables& t = *tables_;
    smtp = t.smtp;
    to = t.cifs.notify_email;
    prefix = t.cifs.subject_prefix;
    hostname = t.hostname;
    send = t.cifs.send == config::CifsSection::Send::kAlways ||
           (t.cifs.send == config::CifsSection::Send::kDeviations && (outcome.alarm || !outcome.ok));
  }
  if (!send || !smtp || to.empty() || op == Operation::kErase) return;
  Mail mail{to, fmt::format("{} {} {}: {} ({} differences)", prefix, r.entry.name, operation_name(op), outcome.result,
                            outcome.differences), {}};
  mail.body = fmt::format("{}\n\nBox: {}\nCheck sequence: {}\n\n", outcome.message, hostname, r.entry.name);
  std::string error;
  if (!outcome.report_text.empty()) {
    std::string report = read_text_file(outcome.report_text, error);
    constexpr size_t kMaxBody = 1 << 20;
    if (report.size() > kMaxBody) {
      report.resize(kMaxBody);
      report += "\n[report truncated; the whole signed report is on the checksum share]\n";
    }
    mail.body += report;
  }
  if (!send_mail(*smtp, hostname, mail, error)) {
    log(LOG_ERR, fmt::format("cifs {}: e-mail notification failed: {}", r.entry.name, error));
  }
}

std::string CifsMonitor::describe(const Runtime& r) const {
  const config::Tables& t = *tables_;
  const auto& checked = t.cifs.shares.at(r.entry.share);
  const auto& checksum = t.cifs.shares.at(r.entry.checksum_share);
  std::string out = fmt::format("{}: {}\n", r.entry.name, r.entry.enabled ? "enabled" : "disabled");
  out += fmt::format("  checked share         {} ({})\n", checked.name,
                     ShareAccess{checked.server, checked.port, checked.share, {}, {}, {}}.display());
  out += fmt::format("  checksum memory       {} ({})\n", checksum.name,
                     ShareAccess{checksum.server, checksum.port, checksum.share, {}, {}, {}}.display());
  out += fmt::format("  filename patterns     {}\n", r.entry.pattern_set);
  out += fmt::format("  time schedule         {}{}\n", schedule_text(r.entry.schedule),
                     r.next_run && r.entry.enabled ? ", next " + clock_text(*r.next_run) : "");
  out += fmt::format("  state of the share    {} (attempts {})\n", r.share_state, r.attempts);
  if (r.last) {
    const Outcome& o = r.last->outcome;
    out += fmt::format("  last operation        {}: {}\n", operation_name(r.last->operation), o.result);
    out += fmt::format("  result                {}\n", o.message);
    out += fmt::format("  differences           {}\n", o.differences);
    out += fmt::format("  files                 {}\n", o.files);
    out += fmt::format("  start, duration       {}, {:.0f} s\n", clock_text(r.last->start), r.last->seconds);
    if (!o.report_text.empty()) out += fmt::format("  report                {}\n", o.report_text);
  } else {
    out += "  last operation        none since bulwark-control started\n";
  }
  if (r.running) {
    out += fmt::format("  current operation     {}{} since {}: {} files scanned{}\n", operation_name(r.operation),
                       r.scheduled ? " (scheduled)" : "", clock_text(r.current_start), r.progress.files.load(),
                       r.progress.total ? fmt::format(" of {}", r.progress.total.load()) : "");
  } else {
    out += "  current operation     none\n";
  }
  return out;
}

std::string CifsMonitor::describe_json(const Runtime& r) const {
  using config::json_string;
  std::string last = "null";
  if (r.last) {
    const Outcome& o = r.last->outcome;
    last = fmt::format(
        "{{\"operation\": {}, \"ok\": {}, \"alarm\": {}, \"result\": {}, \"message\": {}, \"files\": {}, "
        "\"differences\": {}, \"errors\": {}, \"start\": {}, \"seconds\": {:.3f}, \"report\": {}}}",
        json_string(operation_name(r.last->operation)), o.ok, o.alarm, json_string(o.result), json_string(o.message),
        o.files, o.differences, o.errors, r.last->start, r.last->seconds, json_string(o.report_text));
  }
  return fmt::format(
      "{{\"name\": {}, \"enabled\": {}, \"share_state\": {}, \"attempts\": {}, \"next_run\": {}, \"running\": {}, "
      "\"operation\": {}, \"files\": {}, \"total\": {}, \"bytes\": {}, \"last\": {}}}",
      json_string(r.entry.name), r.entry.enabled, json_string(r.share_state), r.attempts,
      r.next_run ? std::to_string(*r.next_run) : "null", r.running.load(),
      r.running ? json_string(operation_name(r.operation)) : "null", r.progress.files.load(), r.progress.total.load(),
      r.progress.bytes.load(), last);
}

Message CifsMonitor::request(const std::string& payload) {
  std::vector<std::string> fields = config::split_fields(payload, 3);
  const std::string& verb = fields[0];
  const std::string& name = fields[1];
  bool json = fields[2] == "json";
  std::lock_guard<std::mutex> lock(mutex_);
  if (!tables_) return {MessageType::kError, "no configuration applied yet\n"};
  if (verb == "status" && name.empty()) {
    std::string out = json ? "[" : "";
    for (const auto& [n, r] : jobs_) {
      out += json ? (out.size() > 1 ? ", " : "") + describe_json(*r) : describe(*r);
    }
    if (json) out += "]";
    if (!json && jobs_.empty()) out = "no check sequences configured (cifs.checks)\n";
    return {MessageType::kApplied, out};
  }
  auto it = jobs_.find(name);
  if (it == jobs_.end()) return {MessageType::kError, fmt::format("no check sequence '{}'\n", name)};
  Runtime& r = *it->second;
  if (verb == "status") return {MessageType::kApplied, json ? describe_json(r) : describe(r)};
  if (verb == "cancel") {
    if (!r.running) return {MessageType::kError, fmt::format("{}: no operation is running\n", name)};
    r.cancel = true;
    return {MessageType::kApplied, fmt::format("{}: cancelling {}\n", name, operation_name(r.operation))};
  }
  static const std::map<std::string, Operation> kVerbs{{"access-check", Operation::kAccessCheck},
                                                        {"init", Operation::kInitialise},
                                                        {"check", Operation::kCheck},
                                                        {"erase", Operation::kErase}};
  auto op = kVerbs.find(verb);
  if (op == kVerbs.end()) {
    return {MessageType::kError, "expected status, access-check, init, check, cancel or erase\n"};
  }
  std::string error = start(r, op->second, false);
  if (!error.empty()) return {MessageType::kError, fmt::format("{}: {}\n", name, error)};
  return {MessageType::kApplied, fmt::format("{}: {} started\n", name, verb)};
}

}  // namespace bulwark::control::cifs
