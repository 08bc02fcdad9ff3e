// CIFS integrity monitoring inside bulwark-control: the check sequences of the configuration,
// their schedules, one worker thread per running operation, state for `bulwark cifs status`,
// and notifications (syslog always; e-mail on every run or on deviations, as configured).
//
// Theory of operation: `apply` takes each new configuration (running operations go on; those of
// removed sequences are cancelled); `tick`, called by the daemon's loop, starts what the
// schedules say is due and reaps finished workers; `request` answers the CLI. An operation works
// on copies (the job with its passwords, the integrity key) so that a reload never changes what
// a running scan uses. A scheduled run checks; when no database exists anywhere yet it builds one
// instead (manual table 16-1), but a database that exists and does not verify is never rebuilt
// by a schedule — that is an alarm for a person. The last result of each sequence is saved in
// its state directory and shown again after a restart.
#pragma once

#include <functional>

#include <atomic>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "config/control_protocol.h"
#include "config/tables.h"
#include "control/cifs/job.h"

namespace bulwark::control::cifs {

class CifsMonitor {
 public:
  // `log` gets every message (a syslog priority and the line), from any thread; by default they
  // go to syslog and stdout.
  using Log = std::function<void(int priority, const std::string& line)>;
  explicit CifsMonitor(std::string state_dir, Log log = {}) : state_dir_(std::move(state_dir)), log_(std::move(log)) {}
  ~CifsMonitor();

  void apply(const config::Tables& tables);
  void tick();
  // "VERB\tNAME\tFORMAT": VERB status, access-check, init, check, cancel or erase; FORMAT text or
  // json (status only); empty NAME with status: every sequence.
  config::Message request(const std::string& payload);

 private:
  struct LastRun {
    Operation operation = Operation::kCheck;
    Outcome outcome;
    std::time_t start = 0;
    double seconds = 0;
  };
  struct Runtime {
    config::CifsJobEntry entry;
    std::thread worker;
    std::atomic<bool> running{false};
    std::atomic<bool> cancel{false};
    Operation operation = Operation::kCheck;
    bool scheduled = false;
    std::time_t current_start = 0;
    ScanProgress progress;
    std::optional<LastRun> last;
    std::string share_state = "not opened yet";
    uint64_t attempts = 0;
    std::optional<std::time_t> next_run;
  };

  std::string state_dir_;
  Log log_;
  void log(int priority, const std::string& line) const;
  std::mutex mutex_;
  std::optional<config::Tables> tables_;
  std::map<std::string, std::unique_ptr<Runtime>> jobs_;

  // Starts `op` for `r`; the error text when it cannot start.
  std::string start(Runtime& r, Operation op, bool scheduled);
  void finished(Runtime& r, Operation op, const Outcome& outcome, std::time_t start, double seconds);
  void notify(const Runtime& r, Operation op, const Outcome& outcome);
  std::string describe(const Runtime& r) const;
  std::string describe_json(const Runtime& r) const;
};

}  // namespace bulwark::control::cifs
