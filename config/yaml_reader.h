// Reading YAML mappings into model objects while keeping every position.
//
// A MapReader wraps one YAML mapping. Each `optional`/`required` call names a key the mapping may
// hold and converts its value with a converter; `finish` then reports every key nobody asked for
// as unknown, with the closest known key as a "did you mean" hint. Converters have the shape
//   std::optional<T> convert(Reader&, const YAML::Node&, const std::string& path)
// report their own errors, and return nullopt on failure; parsing always continues, so that a
// file yields all of its errors at once.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "config/diagnostics.h"
#include "config/model.h"

namespace bulwark::config {

// The file being read and where its diagnostics go.
class Reader {
 public:
  Reader(Diagnostics& diagnostics, std::string file) : diag_(diagnostics), file_(std::move(file)) {}

  Origin origin(const YAML::Node& node, const std::string& path) const;
  void error(const YAML::Node& node, const std::string& path, std::string message,
             std::string hint = {});
  Diagnostics& diagnostics() { return diag_; }
  const std::string& file() const { return file_; }

 private:
  Diagnostics& diag_;
  std::string file_;
};

// "a.b" + "c" -> "a.b.c"; "" + "c" -> "c".
std::string join_path(const std::string& parent, std::string_view key);
// "a.rules" + 3 -> "a.rules[3]" (1-based, as the manual numbers its table rows).
std::string index_path(const std::string& parent, size_t index);

// The known word closest to `word`, if it is close enough to be a likely typo.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

class MapReader {
 public:
  // Reports an error when `node` is not a mapping; then every lookup finds nothing.
  MapReader(Reader& reader, const YAML::Node& node, std::string path, Located& target);

  bool ok() const { return ok_; }
  const std::string& path() const { return path_; }
  Reader& reader() { return reader_; }

  // Registers `key` as known and returns its value node when present.
  std::optional<YAML::Node> take(std::string_view key);

  template <class T, class Convert>
  bool optional(std::string_view key, T& out, Convert&& convert) {
    auto node = take(key);
    if (!node) return false;
    auto value = convert(reader_, *node, join_path(path_, key));
    if (!value) return false;
    out = std::move(*value);
    return true;
  }

  template <class T, class Convert>
  bool required(std::string_view key, T& out, Convert&& convert, std::string_view hint = {}) {
    if (ok_ && !present(key)) {
      missing(key, hint);
      take(key);
      return false;
    }
    return optional(key, out, std::forward<Convert>(convert));
  }

  // A sequence under `key`: each element converted by `element(reader, node, path)`.
  template <class T, class Element>
  void list(std::string_view key, std::vector<T>& out, Element&& element) {
    auto node = take(key);
    if (!node) return;
    read_sequence(*node, join_path(path_, key), out, element);
  }

  template <class T, class Element>
  void read_sequence(const YAML::Node& node, const std::string& path, std::vector<T>& out,
                     Element&& element) {
    if (node.IsNull()) return;
    if (!node.IsSequence()) {
      reader_.error(node, path, "expected a list", "write one entry per line, each starting with '- '");
      return;
    }
    for (size_t i = 0; i < node.size(); ++i) {
      auto value = element(reader_, node[i], index_path(path, i + 1));
      if (value) out.push_back(std::move(*value));
    }
  }

  // Like `list`, but the key is required and its list must have at least one entry.
  template <class T, class Element>
  void non_empty_list(std::string_view key, std::vector<T>& out, Element&& element,
                      std::string_view what) {
    if (ok_ && !present(key)) {
      missing(key, what);
      take(key);
      return;
    }
    auto node = take(key);
    if (!node) return;
    if (node->IsNull() || (node->IsSequence() && node->size() == 0)) {
      reader_.error(*node, join_path(path_, key), fmt::format("'{}' needs at least one entry", key),
                    std::string(what));
      return;
    }
    read_sequence(*node, join_path(path_, key), out, element);
  }

  bool present(std::string_view key) const;
  void missing(std::string_view key, std::string_view hint);

  // Reports keys that no `take` asked for.
  void finish();

 private:
  struct Entry {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
    bool used = false;
  };

  Reader& reader_;
  std::string path_;
  Located& target_;
  bool ok_ = false;
  YAML::Node node_;
  std::vector<Entry> entries_;
  std::vector<std::string> known_;
};

}  // namespace bulwark::config
