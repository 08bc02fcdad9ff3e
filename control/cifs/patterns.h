// Filename patterns of CIFS integrity monitoring, with the manual's semantics (16.7, 16.14).
//
// A pattern is a path of names separated by `\` (or `/`). `**` as a whole name matches any number
// of directories, none included, so `**\*.exe` finds executables at the share's top level and
// below; every other name may hold one `*` standing for any characters. Names compare without
// regard to case, as Windows does. The patterns are tried in order and the first one that matches
// a file decides whether it is checked; a file that no pattern matches is not checked.
//
// Directories are pruned: `excludes_directory` is true when no file below a directory can be
// included, so an excluded directory (e.g. `windows nt\**\*` listed before `**\*.exe`) is never
// opened, which is how the manual works around directories the box may not read.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"

namespace bulwark::control::cifs {

class FilenamePatterns {
 public:
  explicit FilenamePatterns(const std::vector<config::FilenamePattern>& patterns);

  // `path` is relative to the share's root, names separated by '/'.
  bool includes_file(std::string_view path) const;
  bool excludes_directory(std::string_view path) const;

 private:
  struct Compiled {
    std::vector<std::u32string> names;  // case-folded; "**" kept as is
    bool include = true;
  };
  std::vector<Compiled> patterns_;
};

// Case-folded UTF-8 name (invalid bytes are kept as code points of their own).
std::u32string fold_case(std::string_view utf8);

}  // namespace bulwark::control::cifs
