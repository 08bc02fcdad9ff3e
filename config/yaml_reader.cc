#include "config/yaml_reader.h"

#include <algorithm>

#include <fmt/format.h>

namespace bulwark::config {
namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      size_t cost = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                            std::tolower(static_cast<unsigned char>(b[j - 1]))
                        ? 0
                        : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

Origin Reader::origin(const YAML::Node& node, const std::string& path) const {
  Origin o{file_, 1, 1, path};
  if (node.IsDefined()) {
    const YAML::Mark mark = node.Mark();
    if (!mark.is_null()) {
      o.line = mark.line + 1;
      o.column = mark.column + 1;
    }
  }
  return o;
}

void Reader::error(const YAML::Node& node, const std::string& path, std::string message,
                   std::string hint) {
  diag_.error(origin(node, path), std::move(message), std::move(hint));
}

std::string join_path(const std::string& parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return fmt::format("{}.{}", parent, key);
}

std::string index_path(const std::string& parent, size_t index) {
  return fmt::format("{}[{}]", parent, index);
}

std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& candidate : candidates) {
    size_t d = edit_distance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

MapReader::MapReader(Reader& reader, const YAML::Node& node, std::string path, Located& target)
    : reader_(reader), path_(std::move(path)), target_(target), node_(node) {
  target_.origin = reader_.origin(node, path_);
  if (!node.IsMap()) {
    reader_.error(node, path_, "expected a mapping of keys to values",
                  "write 'key: value' pairs, indented under the parent key");
    return;
  }
  ok_ = true;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) {
      reader_.error(it->first, path_, "keys must be plain words");
      continue;
    }
    std::string key = it->first.Scalar();
    if (key.size() > 64) {
      reader_.error(it->first, path_, fmt::format("a key of {} characters is not a known key", key.size()),
                    "keys are short words such as 'interfaces'");
      continue;
    }
    bool duplicate = std::any_of(entries_.begin(), entries_.end(),
                                 [&](const Entry& e) { return e.key == key; });
    if (duplicate) {
      reader_.error(it->first, join_path(path_, key), fmt::format("duplicate key '{}'", key),
                    "each key may appear once in a mapping; merge the two entries");
      continue;
    }
    entries_.push_back({key, it->first, it->second, false});
  }
}

std::optional<YAML::Node> MapReader::take(std::string_view key) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.emplace_back(key);
  for (auto& entry : entries_) {
    if (entry.key == key) {
      entry.used = true;
      target_.keys[entry.key] = reader_.origin(entry.value, join_path(path_, key));
      return entry.value;
    }
  }
  return std::nullopt;
}

bool MapReader::present(std::string_view key) const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [&](const Entry& e) { return e.key == key; });
}

void MapReader::missing(std::string_view key, std::string_view hint) {
  reader_.error(node_, path_, fmt::format("missing required key '{}'", key), std::string(hint));
}

void MapReader::finish() {
  for (const auto& entry : entries_) {
    if (entry.used) continue;
    std::string hint;
    if (auto near = closest_match(entry.key, known_)) {
      hint = fmt::format("did you mean '{}'?", *near);
    } else {
      std::vector<std::string> sorted = known_;
      std::sort(sorted.begin(), sorted.end());
      hint = fmt::format("known keys here: {}", fmt::join(sorted, ", "));
    }
    reader_.error(entry.key_node, join_path(path_, entry.key),
                  fmt::format("unknown key '{}'", entry.key), hint);
  }
}

}  // namespace bulwark::config
