// What one operation on a check sequence needs: the job as configured, the two shares with their
// passwords read, the integrity key, where files live, and the live progress and cancel flag.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "config/tables.h"
#include "control/cifs/scanner.h"
#include "control/cifs/signature.h"
#include "control/cifs/smb_share.h"

namespace bulwark::control::cifs {

// File names, the same in the local cache directory and in the check's directory on the
// checksum share (named after the check sequence).
inline constexpr const char* kDatabaseFile = "integrity.db";
inline constexpr const char* kReportText = "integrity-check-log.txt";
inline constexpr const char* kReportJson = "integrity-check-log.json";

struct Job {
  std::string name;
  ShareAccess checked;
  ShareAccess checksum;
  std::string pattern_set;
  std::vector<config::FilenamePattern> patterns;
  std::string local_dir;  // <state dir>/cifs/<name>
};

enum class Operation { kAccessCheck, kInitialise, kCheck, kErase };
const char* operation_name(Operation op);  // access-check, init, check, erase

struct Outcome {
  bool ok = false;
  std::string result;   // ACCESS_CHECK_OK, INTEGRITY_CHECK_FAILED, … (see report.h)
  std::string message;  // one sentence for status and mail, with what to do
  uint64_t files = 0;
  uint64_t differences = 0;
  uint64_t errors = 0;
  bool alarm = false;   // a deviation or a database that cannot be trusted
  bool no_database = false;  // check asked for, but no database exists anywhere (nothing tampered)
  int checked_share_error = -1;  // errno opening the checked share; -1 when not opened
  std::string report_text;   // local paths of the signed report, when one was written
};

struct RunContext {
  const Job& job;
  const IntegrityKey& key;
  const std::atomic<bool>& cancel;
  ScanProgress& progress;
};

Outcome run_operation(Operation op, RunContext& ctx);

}  // namespace bulwark::control::cifs
