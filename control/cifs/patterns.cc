#include "control/cifs/patterns.h"

#include <locale.h>
#include <wctype.h>

#include <set>

namespace bulwark::control::cifs {
namespace {

const std::u32string kAnyDirectories = U"**";

std::vector<std::string_view> split(std::string_view path, std::string_view separators) {
  std::vector<std::string_view> names;
  size_t start = 0;
  while (true) {
    size_t end = path.find_first_of(separators, start);
    if (end == std::string_view::npos) {
      names.push_back(path.substr(start));
      return names;
    }
    names.push_back(path.substr(start, end - start));
    start = end + 1;
  }
}

locale_t utf8_locale() {
  static locale_t locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  return locale;
}

// One name against one pattern name holding at most one '*'.
bool name_matches(const std::u32string& pattern, const std::u32string& name) {
  size_t star = pattern.find(U'*');
  if (star == std::u32string::npos) return pattern == name;
  size_t suffix = pattern.size() - star - 1;
  if (name.size() < star + suffix) return false;
  return name.compare(0, star, pattern, 0, star) == 0 &&
         name.compare(name.size() - suffix, suffix, pattern, star + 1, suffix) == 0;
}

// The set of pattern positions reachable after matching `names` (an NFA over the pattern:
// position i means names[0..] consumed pattern[0..i)); `**` may consume none or many names.
std::set<size_t> advance(const std::vector<std::u32string>& pattern,
                         const std::vector<std::u32string>& names) {
  auto close = [&](std::set<size_t>& states) {
    for (size_t i = 0; i < pattern.size(); ++i) {
      if (states.count(i) && pattern[i] == kAnyDirectories) states.insert(i + 1);
    }
  };
  std::set<size_t> states{0};
  close(states);
  for (const auto& name : names) {
    std::set<size_t> next;
    for (size_t i : states) {
      if (i >= pattern.size()) continue;
      if (pattern[i] == kAnyDirectories) {
        next.insert(i);
      } else if (name_matches(pattern[i], name)) {
        next.insert(i + 1);
      }
    }
    close(next);
    states = std::move(next);
    if (states.empty()) break;
  }
  return states;
}

std::vector<std::u32string> folded_names(std::string_view path) {
  std::vector<std::u32string> names;
  if (path.empty()) return names;
  for (auto name : split(path, "/")) names.push_back(fold_case(name));
  return names;
}

}  // namespace

std::u32string fold_case(std::string_view utf8) {
  std::u32string out;
  out.reserve(utf8.size());
  for (size_t i = 0; i < utf8.size();) {
    auto byte = static_cast<unsigned char>(utf8[i]);
    char32_t cp = byte;
    size_t length = 1;
    if (byte >= 0xC0 && byte < 0xE0) cp = byte & 0x1F, length = 2;
    else if (byte >= 0xE0 && byte < 0xF0) cp = byte & 0x0F, length = 3;
    else if (byte >= 0xF0 && byte < 0xF8) cp = byte & 0x07, length = 4;
    bool valid = byte < 0x80 || (length > 1 && i + length <= utf8.size());
    for (size_t k = 1; valid && k < length; ++k) {
      auto next = static_cast<unsigned char>(utf8[i + k]);
      if ((next & 0xC0) != 0x80) valid = false;
      cp = (cp << 6) | (next & 0x3F);
    }
    if (!valid) {
      out.push_back(0xDC00 + byte);  // a lone byte, kept distinct from any character
      ++i;
      continue;
    }
    out.push_back(static_cast<char32_t>(towlower_l(static_cast<wint_t>(cp), utf8_locale())));
    i += length;
  }
  return out;
}

FilenamePatterns::FilenamePatterns(const std::vector<config::FilenamePattern>& patterns) {
  for (const auto& p : patterns) {
    Compiled c;
    c.include = p.include;
    for (auto name : split(p.pattern, "/\\")) c.names.push_back(fold_case(name));
    patterns_.push_back(std::move(c));
  }
}

bool FilenamePatterns::includes_file(std::string_view path) const {
  auto names = folded_names(path);
  for (const auto& p : patterns_) {
    if (advance(p.names, names).count(p.names.size())) return p.include;
  }
  return false;
}

bool FilenamePatterns::excludes_directory(std::string_view path) const {
  auto names = folded_names(path);
  for (const auto& p : patterns_) {
    bool may_match_below = false;
    bool matches_all_below = false;
    for (size_t i : advance(p.names, names)) {
      if (i >= p.names.size()) continue;  // the pattern ended at this directory: a file pattern
      may_match_below = true;
      // Everything below: only `**` left before a final bare `*`.
      bool all = p.names.back() == U"*";
      for (size_t k = i; all && k + 1 < p.names.size(); ++k) all = p.names[k] == kAnyDirectories;
      matches_all_below |= all;
    }
    if (matches_all_below) return !p.include;
    if (may_match_below && p.include) return false;
  }
  return true;
}

}  // namespace bulwark::control::cifs
