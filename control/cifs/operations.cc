// The four operations of manual table 16-1 on one check sequence: access check, (re)build the
// integrity database, integrity check, erase.
//
// Trust: the reference is the database on the checksum share, signed with the integrity key, and
// the copy the box keeps locally. A check uses it only when its signature verifies; a copy on the
// share that is missing, altered, or different from the box's own copy raises an alarm and is
// never rebuilt silently (an intruder who can write the share must not be able to reset the
// baseline). With a valid local copy the check still runs, so the share is still examined.
#include <sys/stat.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>

#include <fmt/format.h>

#include "control/cifs/job.h"
#include "control/cifs/report.h"

namespace bulwark::control::cifs {
namespace {

namespace fs = std::filesystem;

std::string local(const Job& job, const std::string& file) { return job.local_dir + "/" + file; }
std::string remote(const Job& job, const std::string& file) { return job.name + "/" + file; }

std::string iso_now() {
  std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return text;
}

// Uploads FILE and FILE.sig into the check's directory on the checksum share; 0 or errno.
int store_signed(SmbShare& share, const Job& job, const std::string& local_file, const std::string& name) {
  if (int error = share.make_directory(job.name)) return error;
  // The signature goes last: a reader who sees the new signature sees the new file.
  if (int error = share.upload(local_file, remote(job, name))) return error;
  return share.upload(local_file + ".sig", remote(job, name + ".sig"));
}

class OperationRun {
 public:
  OperationRun(Operation op, RunContext& ctx) : op_(op), ctx_(ctx), job_(ctx.job) {}

  Outcome run() {
    std::error_code ec;
    fs::create_directories(job_.local_dir, ec);
    if (ec) return fail(fmt::format("cannot create {}: {}", job_.local_dir, ec.message()));
    if (op_ == Operation::kErase) return erase();
    report_ = std::make_unique<Report>(local(job_, std::string(kReportText) + ".new"),
                                       local(job_, std::string(kReportJson) + ".new"));
    std::string error;
    if (!report_->begin(subject(), job_.name, job_.checked.display(), error)) return fail(error);
    switch (op_) {
      case Operation::kAccessCheck: access_check(); break;
      case Operation::kInitialise: initialise(); break;
      default: check(); break;
    }
    if (ctx_.cancel) {
      outcome_ = Outcome{};
      outcome_.result = "CANCELLED";
      outcome_.message = "the operation was cancelled; nothing was changed";
    }
    publish_report();
    return outcome_;
  }

 private:
  Operation op_;
  RunContext& ctx_;
  const Job& job_;
  std::unique_ptr<Report> report_;
  Outcome outcome_;
  std::vector<std::string> unreadable_dirs_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();

  const char* subject() const {
    return op_ == Operation::kAccessCheck ? "check-access" : op_ == Operation::kInitialise ? "init" : "check";
  }

  Outcome fail(std::string message) {
    Outcome o;
    o.result = "FAILED";
    o.message = std::move(message);
    o.errors = 1;
    return o;
  }

  void traversal_error(const TraversalError& e) {
    ++outcome_.errors;
    if (e.type == 'd') unreadable_dirs_.push_back(e.path == "." ? "" : e.path);
    report_->traversal_error(e);
  }

  bool below_unreadable(const std::string& path) const {
    for (const auto& dir : unreadable_dirs_) {
      if (dir.empty() || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/')) {
        return true;
      }
    }
    return false;
  }

  // The checked share, opened; on failure the report says why.
  std::unique_ptr<SmbShare> open_checked() {
    auto share = std::make_unique<SmbShare>(job_.checked);
    outcome_.checked_share_error = share->probe();
    if (int error = outcome_.checked_share_error) {
      traversal_error({".", error, "opendir", 'd'});
      outcome_.message = fmt::format("cannot open {}: {} — check the server, the share name and the credentials",
                                     job_.checked.display(), std::strerror(error));
      return nullptr;
    }
    return share;
  }

  void access_check() {
    auto share = open_checked();
    if (share) {
      FilenamePatterns patterns(job_.patterns);
      Scanner scanner(*share, patterns, Scanner::Mode::kOpen, ctx_.cancel, ctx_.progress);
      scanner.run({[&](const FileRecord&) { ++outcome_.files; },
                   [&](const TraversalError& e) { traversal_error(e); }});
    }
    // The checksum share must be writable: the database and the reports go there.
    SmbShare checksum(job_.checksum);
    std::string probe = local(job_, "access-probe");
    { std::FILE* f = std::fopen(probe.c_str(), "wb"); if (f) std::fclose(f); }
    int error = checksum.make_directory(job_.name);
    if (!error) error = checksum.upload(probe, remote(job_, ".bulwark-access-probe"));
    if (!error) error = checksum.remove(remote(job_, ".bulwark-access-probe"));
    std::remove(probe.c_str());
    if (error) {
      ++outcome_.errors;
      report_->traversal_error({job_.checksum.display() + "/" + job_.name, error, "write", 'd'});
    }
    outcome_.ok = outcome_.errors == 0;
    outcome_.result = outcome_.ok ? "ACCESS_CHECK_OK" : "ACCESS_CHECK_FAILED";
    if (outcome_.message.empty()) {
      outcome_.message = outcome_.ok
          ? fmt::format("all {} files in the share can be accessed; the checksum share is writable", outcome_.files)
          : fmt::format("{} files or directories cannot be accessed (see the report); grant read access or "
                        "exclude them with patterns placed before the first include pattern", outcome_.errors);
    }
  }

  void initialise() {
    auto share = open_checked();
    std::string db_new = local(job_, std::string(kDatabaseFile) + ".new");
    std::string error;
    if (share) {
      DatabaseHeader header{job_.name, job_.checked.display(), job_.pattern_set, {}, kHashAlgorithm, iso_now(),
                            "bulwark " BULWARK_VERSION};
      for (const auto& p : job_.patterns) header.patterns.emplace_back(p.include, p.pattern);
      DatabaseWriter writer;
      if (!writer.open(db_new, header, error)) {
        outcome_.message = error;
        ++outcome_.errors;
      } else {
        FilenamePatterns patterns(job_.patterns);
        Scanner scanner(*share, patterns, Scanner::Mode::kHash, ctx_.cancel, ctx_.progress);
        scanner.run({[&](const FileRecord& f) { writer.add(f); },
                     [&](const TraversalError& e) { traversal_error(e); }});
        outcome_.files = writer.count();
        if (!writer.finish(error)) {
          outcome_.message = error;
          ++outcome_.errors;
        }
      }
    }
    if (ctx_.cancel) {
      std::remove(db_new.c_str());
      return;
    }
    if (outcome_.errors == 0 && !sign_file(db_new, ctx_.key, error)) {
      outcome_.message = "cannot sign the integrity database: " + error;
      ++outcome_.errors;
    }
    if (outcome_.errors == 0) {
      SmbShare checksum(job_.checksum);
      if (int e = store_signed(checksum, job_, db_new, kDatabaseFile)) {
        outcome_.message = fmt::format("cannot store the integrity database on {}: {}", job_.checksum.display(),
                                       std::strerror(e));
        report_->traversal_error({job_.checksum.display() + "/" + job_.name, e, "write", 'd'});
        ++outcome_.errors;
      }
    }
    if (outcome_.errors == 0) {
      fs::rename(db_new + ".sig", local(job_, std::string(kDatabaseFile) + ".sig"));
      fs::rename(db_new, local(job_, kDatabaseFile));
      outcome_.ok = true;
      outcome_.result = "DATABASE_BUILT";
      outcome_.message = fmt::format("the integrity database was built: {} files", outcome_.files);
      return;
    }
    std::remove(db_new.c_str());
    std::remove((db_new + ".sig").c_str());
    outcome_.result = "DATABASE_BUILD_FAILED";
    if (outcome_.message.empty()) {
      outcome_.message = "the directory tree could not be traversed completely (see the report); the previous "
                         "database, if any, is kept";
    }
  }

  // Verifies a database and its signature; empty string when valid, else why not.
  std::string verify(const std::string& path) {
    std::string error;
    if (!fs::exists(path)) return "missing";
    std::string signature = read_text_file(path + ".sig", error);
    if (!error.empty()) return "its signature file is missing";
    if (!verify_file(path, signature, ctx_.key, error)) return error;
    return {};
  }

  // For two databases whose signatures both verify: the same signature means the same contents
  // (anything else would be a SHA-256 collision), and comparing it keeps memory bounded.
  static bool same_signature(const std::string& a, const std::string& b) {
    std::string ea, eb;
    return read_text_file(a + ".sig", ea) == read_text_file(b + ".sig", eb) && ea.empty() && eb.empty();
  }

  void alarm_database(const std::string& reason) {
    report_->database_invalid(reason);
    ++outcome_.differences;
    outcome_.alarm = true;
    if (outcome_.message.empty()) outcome_.message = reason;
  }

  // Chooses the reference database; empty when none can be trusted.
  std::string reference() {
    std::string cached = local(job_, kDatabaseFile);
    std::string fetched = local(job_, "share-copy.db");
    SmbShare checksum(job_.checksum);
    int error = checksum.download(remote(job_, kDatabaseFile), fetched);
    if (!error) error = checksum.download(remote(job_, std::string(kDatabaseFile) + ".sig"), fetched + ".sig");
    std::string cached_problem = verify(cached);
    bool cached_exists = cached_problem != "missing";
    std::string share_problem = error == ENOENT ? "missing" : error ? std::strerror(error) : verify(fetched);
    std::string where = job_.checksum.display() + "/" + job_.name;
    if (error && error != ENOENT) {
      report_->traversal_error({where + "/" + kDatabaseFile, error, "read", 'f'});
      ++outcome_.errors;
      outcome_.message = fmt::format("cannot read the integrity database on {}: {}", where, std::strerror(error));
    }
    if (share_problem == "missing" && !cached_exists) {
      outcome_.no_database = true;
      outcome_.message = "there is no integrity database yet: build it first (bulwark cifs init)";
      return {};
    }
    if (!cached_problem.empty() && cached_exists) {
      alarm_database(fmt::format("the box's copy of the integrity database is not valid: {}", cached_problem));
    }
    if (share_problem.empty()) {
      if (cached_problem.empty() && !same_signature(cached, fetched)) {
        alarm_database(fmt::format("the integrity database on {} differs from the box's copy, although both are "
                                   "signed: an older database was put back? The box's copy is used", where));
        return cached;
      }
      if (!cached_problem.empty()) {
        if (cached_exists) return {};  // the box's copy was tampered with: trust neither
        fs::copy_file(fetched, cached, fs::copy_options::overwrite_existing);
        fs::copy_file(fetched + ".sig", cached + ".sig", fs::copy_options::overwrite_existing);
      }
      return cached;
    }
    if (share_problem == "missing") {
      alarm_database(fmt::format("the integrity database is missing on {}", where));
    } else if (!error) {
      alarm_database(fmt::format("the integrity database on {} does not verify: {}", where, share_problem));
    }
    return cached_problem.empty() ? cached : std::string{};
  }

  void check() {
    std::string reference_path = reference();
    if (reference_path.empty()) {
      if (!outcome_.no_database && outcome_.message.empty()) {
        outcome_.message = "no trustworthy integrity database";
      }
      if (!outcome_.no_database) outcome_.alarm = true;
      outcome_.result = "INTEGRITY_CHECK_FAILED";
      if (outcome_.alarm) {
        outcome_.message += "; nothing was rebuilt: find out who changed it, then build a new one (bulwark cifs init)";
      }
      return;
    }
    DatabaseReader reader;
    std::string error;
    if (!reader.open(reference_path, error)) {
      alarm_database(error);
      outcome_.result = "INTEGRITY_CHECK_FAILED";
      return;
    }
    std::vector<std::pair<bool, std::string>> configured;
    for (const auto& p : job_.patterns) configured.emplace_back(p.include, p.pattern);
    if (configured != reader.header().patterns) {
      report_->database_invalid("the filename patterns changed since the database was built: rebuild it");
      ++outcome_.differences;
    }
    ctx_.progress.total = 0;
    auto share = open_checked();
    if (share) compare(*share, reader);
    outcome_.alarm |= outcome_.differences > 0 || outcome_.errors > 0;
    outcome_.ok = outcome_.differences == 0 && outcome_.errors == 0;
    outcome_.result = outcome_.ok ? "INTEGRITY_CHECK_OK" : "INTEGRITY_CHECK_FAILED";
    if (outcome_.message.empty()) {
      outcome_.message = outcome_.ok ? fmt::format("no differences in {} files", outcome_.files)
                                     : fmt::format("{} differences, {} errors (see the report)",
                                                   outcome_.differences, outcome_.errors);
    }
  }

  // Merge of the walk (in canonical order) with the database (in the same order).
  void compare(SmbShare& share, DatabaseReader& reader) {
    FileRecord stored;
    bool have = reader.next(stored);
    auto drain_before = [&](const std::string* path) {
      while (have && (!path || path_before(stored.path, *path))) {
        if (below_unreadable(stored.path)) {
          report_->unreadable(stored);
        } else {
          report_->removed(stored);
        }
        ++outcome_.differences;
        have = reader.next(stored);
      }
    };
    FilenamePatterns patterns(job_.patterns);
    Scanner scanner(share, patterns, Scanner::Mode::kHash, ctx_.cancel, ctx_.progress);
    scanner.run({[&](const FileRecord& now) {
                   ++outcome_.files;
                   drain_before(&now.path);
                   if (have && stored.path == now.path) {
                     if (stored.hash != now.hash || stored.size != now.size) {
                       report_->changed(stored, now);
                       ++outcome_.differences;
                     }
                     have = reader.next(stored);
                   } else {
                     report_->added(now);
                     ++outcome_.differences;
                   }
                 },
                 [&](const TraversalError& e) { traversal_error(e); }});
    if (ctx_.cancel) return;
    drain_before(nullptr);
    if (!reader.error().empty()) alarm_database(reader.error());
  }

  Outcome erase() {
    std::error_code ec;
    for (const char* file : {kDatabaseFile, kReportText, kReportJson}) {
      for (std::string suffix : {"", ".sig"}) fs::remove(local(job_, file + suffix), ec);
    }
    SmbShare checksum(job_.checksum);
    int error = 0;
    for (const char* file : {kDatabaseFile, kReportText, kReportJson}) {
      for (std::string suffix : {"", ".sig"}) {
        if (int e = checksum.remove(remote(job_, file + suffix))) error = e;
      }
    }
    Outcome o;
    o.ok = error == 0;
    o.result = o.ok ? "ERASED" : "ERASE_FAILED";
    o.message = o.ok ? "the integrity database and the reports were erased; the next scheduled run builds a new one"
                     : fmt::format("erased on the box, but not on {}: {}", job_.checksum.display(), std::strerror(error));
    o.errors = o.ok ? 0 : 1;
    return o;
  }

  // Signs the report, installs it locally and copies it to the checksum share.
  void publish_report() {
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::string error;
    if (!report_->finish(outcome_.result, outcome_.files, outcome_.differences, outcome_.errors, seconds, error)) {
      outcome_.message += "; " + error;
      return;
    }
    SmbShare checksum(job_.checksum);
    for (auto [temp, name] : {std::pair{report_->text_path(), kReportText}, std::pair{report_->json_path(), kReportJson}}) {
      std::string installed = local(job_, name);
      if (!sign_file(temp, ctx_.key, error)) {
        outcome_.message += "; the report could not be signed: " + error;
        return;
      }
      fs::rename(temp + ".sig", installed + ".sig");
      fs::rename(temp, installed);
      if (int e = store_signed(checksum, job_, installed, name)) {
        outcome_.message += fmt::format("; the report could not be stored on {}: {}", job_.checksum.display(),
                                        std::strerror(e));
        ++outcome_.errors;
        outcome_.ok = false;
        return;
      }
    }
    outcome_.report_text = local(job_, kReportText);
  }
};

}  // namespace

const char* operation_name(Operation op) {
  switch (op) {
    case Operation::kAccessCheck: return "access-check";
    case Operation::kInitialise: return "init";
    case Operation::kCheck: return "check";
    case Operation::kErase: return "erase";
  }
  return "?";
}

Outcome run_operation(Operation op, RunContext& ctx) { return OperationRun(op, ctx).run(); }

}  // namespace bulwark::control::cifs
