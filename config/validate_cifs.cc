// Semantic checks of CIFS integrity monitoring (manual chapter 16), including the filename
// pattern rules of 16.7: `**` is a whole name, and each name holds at most one `*`.
#include <algorithm>

#include <fmt/format.h>

#include "config/validate_context.h"

namespace bulwark::config {
namespace {

// Returns the problem with `pattern`, or an empty string.
std::string pattern_problem(const std::string& pattern) {
  if (pattern.empty()) return "the pattern is empty";
  std::vector<std::string> names;
  std::string current;
  for (char ch : pattern) {
    if (ch == '/' || ch == '\\') {
      names.push_back(current);
      current.clear();
    } else {
      current += ch;
    }
  }
  names.push_back(current);
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    if (name.empty()) return "the pattern has an empty directory name (two separators in a row)";
    size_t stars = std::count(name.begin(), name.end(), '*');
    if (name.find("**") != std::string::npos && name != "**") {
      return fmt::format("'**' cannot be combined with other characters ('{}')", name);
    }
    if (name != "**" && stars > 1) {
      return fmt::format("only one '*' is allowed per directory or file name ('{}')", name);
    }
    if (name == "**" && i + 1 == names.size()) {
      return "'**' stands for directories; the pattern must end with a file name";
    }
  }
  return {};
}

}  // namespace

void validate_cifs(ValidationContext& ctx) {
  const CifsSection& cifs = ctx.model.cifs;
  const Model& m = ctx.model;
  if (!cifs.integrity_certificate.empty()) {
    ctx.machine_certificates.check(cifs.integrity_certificate, cifs.at("integrity_certificate"),
                                   ctx.diag);
  } else if (!cifs.checks.empty()) {
    ctx.diag.error(cifs.origin, "integrity databases are signed: integrity_certificate is required",
                   "name a machine certificate from ipsec.certificates.machine");
  }
  if (cifs.send != CifsSection::Send::kNever) {
    if (cifs.notify_email.empty()) {
      ctx.diag.error(cifs.at("notification"), "e-mail notification needs an email address",
                     "e.g. email: it@example.com, or send: never");
    }
    if (!m.system.smtp) {
      ctx.diag.error(cifs.at("notification"), "e-mail notification needs system.smtp",
                     "configure the mail server under system: smtp: {server, from}");
    }
  }
  for (const auto& set : cifs.pattern_sets) {
    for (const auto& p : set.patterns) {
      if (auto problem = pattern_problem(p.pattern); !problem.empty()) {
        ctx.diag.error(p.at("pattern"), problem,
                       "e.g. '**\\*.exe' (any directory), 'Windows\\*.dll', 'Programs\\**\\*.com'");
      }
    }
  }
  NameTable checks{"check sequence"};
  for (const auto& c : cifs.checks) {
    checks.add(c.name, c.at("name"), ctx.diag);
    ctx.shares.check(c.share, c.at("share"), ctx.diag);
    ctx.shares.check(c.checksum_share, c.at("checksum_share"), ctx.diag);
    ctx.pattern_sets.check(c.patterns, c.at("patterns"), ctx.diag);
  }
  for (const auto& s : cifs.shares) {
    if (s.share.find_first_of("/\\") != std::string::npos) {
      ctx.diag.error(s.at("share"), fmt::format("'{}' is not a share name", s.share),
                     "give the name the server exports, without slashes, e.g. Programs");
    }
  }
}

}  // namespace bulwark::config
