// Filename patterns with the manual's semantics (16.7 and 16.14): first match decides, no match
// means not checked, `**` spans any directory depth including none, one `*` per name, and no
// regard to case.
#include <catch2/catch.hpp>

#include "control/cifs/patterns.h"

using bulwark::config::FilenamePattern;
using bulwark::control::cifs::FilenamePatterns;

namespace {

FilenamePattern include(const char* p) {
  FilenamePattern f;
  f.pattern = p;
  f.include = true;
  return f;
}

FilenamePattern exclude(const char* p) {
  FilenamePattern f;
  f.pattern = p;
  f.include = false;
  return f;
}

}  // namespace

TEST_CASE("figure 16-7: page file excluded, executables and .com files included", "[cifs][patterns]") {
  FilenamePatterns set({exclude("pagefile.sys\\**\\*"), exclude("**\\pagefile.sys"), include("**\\*.exe"),
                        include("**\\*.com")});
  CHECK(set.includes_file("setup.exe"));             // `**` matches the top level too
  CHECK(set.includes_file("Tools/edit.exe"));
  CHECK(set.includes_file("a/b/c/d/run.com"));
  CHECK_FALSE(set.includes_file("pagefile.sys"));
  CHECK_FALSE(set.includes_file("sub/pagefile.sys"));
  CHECK_FALSE(set.includes_file("pagefile.sys/inside.exe"));  // below a pagefile.sys entry
  CHECK_FALSE(set.includes_file("readme.txt"));      // no pattern matches: not checked
  CHECK_FALSE(set.includes_file("tools/editexe"));
}

TEST_CASE("figure 16-15: excluded directories come before the first include", "[cifs][patterns]") {
  FilenamePatterns set({exclude("pagefile.sys\\**\\*"), exclude("pagefile.sys"), exclude("windows nt\\**\\*"),
                        exclude("common files\\**\\*"), include("**\\*.exe"), include("**\\*.com")});
  CHECK_FALSE(set.includes_file("Windows NT/Zubehör/paint.exe"));
  CHECK_FALSE(set.includes_file("Common Files/x.exe"));
  CHECK(set.includes_file("Programs/Common Files/x.exe"));  // only at the top: no `**` before it
  CHECK(set.excludes_directory("Windows NT"));
  CHECK(set.excludes_directory("Common Files"));
  CHECK(set.excludes_directory("COMMON FILES/deeper"));
  CHECK_FALSE(set.excludes_directory("Programs"));
  CHECK_FALSE(set.excludes_directory("Programs/Common Files"));
}

TEST_CASE("the first matching pattern decides", "[cifs][patterns]") {
  FilenamePatterns exclude_first({exclude("**\\skip*.exe"), include("**\\*.exe")});
  CHECK_FALSE(exclude_first.includes_file("tools/skipme.exe"));
  CHECK(exclude_first.includes_file("tools/keep.exe"));
  FilenamePatterns include_first({include("**\\*.exe"), exclude("**\\skip*.exe")});
  CHECK(include_first.includes_file("tools/skipme.exe"));
}

TEST_CASE("a `*` stands for any characters within one name", "[cifs][patterns]") {
  FilenamePatterns set({include("win*\\*.exe"), include("Name\\**\\*.exe")});
  CHECK(set.includes_file("windows/notepad.exe"));
  CHECK(set.includes_file("Win/a.exe"));
  CHECK_FALSE(set.includes_file("windows/system32/notepad.exe"));  // one name, not a path
  CHECK_FALSE(set.includes_file("xwin/a.exe"));
  CHECK(set.includes_file("Name/a.exe"));              // "Name***.exe": the directory and below
  CHECK(set.includes_file("name/sub/deeper/a.exe"));
  CHECK_FALSE(set.includes_file("Names/a.exe"));
  CHECK(set.includes_file("win/.exe"));                // `*` may be empty
}

TEST_CASE("names compare without regard to case, also beyond ASCII", "[cifs][patterns]") {
  FilenamePatterns set({exclude("ÄRGER\\**\\*"), include("**\\*.EXE")});
  CHECK(set.includes_file("Tools/Edit.exe"));
  CHECK_FALSE(set.includes_file("ärger/x.exe"));
  CHECK(set.excludes_directory("Ärger"));
}

TEST_CASE("directories are pruned only when nothing below them can be included", "[cifs][patterns]") {
  FilenamePatterns set({exclude("logs\\*.exe"), include("logs\\keep\\*.exe"), include("bin\\*.exe")});
  CHECK_FALSE(set.excludes_directory("logs"));        // logs/keep/ may hold included files
  CHECK(set.excludes_directory("logs/other"));
  CHECK_FALSE(set.excludes_directory("bin"));
  CHECK(set.excludes_directory("bin/sub"));           // bin\*.exe reaches one level only
  CHECK(set.excludes_directory("elsewhere"));
  FilenamePatterns none({});
  CHECK(none.excludes_directory("anything"));
  CHECK_FALSE(none.includes_file("a.exe"));
}
