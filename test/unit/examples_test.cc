// Every shipped example validates; truncated or garbled YAML yields errors, never a crash.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <random>

#include "config_test_util.h"

using namespace bulwark;
using test::all_messages;

namespace {

std::vector<std::string> example_files() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(BULWARK_SOURCE_DIR "/docs/examples")) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("every example of docs/examples validates without errors or warnings", "[examples]") {
  auto files = example_files();
  CHECK(files.size() >= 28);  // 10.7 (TCP encapsulation) waits for its implementation
  for (const auto& file : files) {
    config::Diagnostics read;
    auto result = config::load(config::read_sources({file}, read));
    INFO(file << "\n" << all_messages(result));
    CHECK(read.all().empty());
    CHECK(result.tables);
    CHECK(result.diagnostics.all().empty());
  }
}

TEST_CASE("every example opens with a comment naming its scenario", "[examples]") {
  for (const auto& file : example_files()) {
    config::Diagnostics read;
    auto sources = config::read_sources({file}, read);
    REQUIRE(sources.size() == 1);
    INFO(file);
    CHECK(sources[0].text.rfind("# Scenario: ", 0) == 0);
  }
}

TEST_CASE("truncated and garbled examples give errors, never a crash", "[examples][robustness]") {
  std::mt19937 random(20261127);  // fixed seed: the same cases every run
  size_t with_errors = 0, cases = 0;
  for (const auto& file : example_files()) {
    config::Diagnostics read;
    auto sources = config::read_sources({file}, read);
    REQUIRE(sources.size() == 1);
    const std::string text = sources[0].text;
    for (int i = 0; i < 40; ++i) {
      std::string broken = text.substr(0, std::uniform_int_distribution<size_t>(0, text.size())(random));
      if (i % 2 == 1 && !broken.empty()) {
        // Garble a few bytes as well: YAML indicators, tabs, control bytes and high bytes.
        const char garbage[] = {':', '-', '[', '{', '"', '\'', '\t', '\0', '\xff', '%', '&', '*', '|'};
        for (int g = 0; g < 3; ++g) {
          size_t at = std::uniform_int_distribution<size_t>(0, broken.size() - 1)(random);
          broken[at] = garbage[std::uniform_int_distribution<size_t>(0, sizeof garbage - 1)(random)];
        }
      }
      auto result = config::load({config::Source{"broken.yaml", broken}});
      ++cases;
      if (result.diagnostics.has_errors()) {
        ++with_errors;
        CHECK_FALSE(result.tables);
        for (const auto& d : result.diagnostics.all()) {
          CHECK(d.origin.file == "broken.yaml");
          CHECK(d.origin.line >= 1);
          CHECK(!d.message.empty());
        }
      } else {
        CHECK(result.tables);  // a truncation at a line end can leave a valid configuration
      }
    }
  }
  // Almost every cut lands inside a required section or value.
  CHECK(with_errors * 2 > cases);
}

TEST_CASE("hostile documents: deep nesting, binary garbage, huge scalars", "[robustness]") {
  std::mt19937 random(7);
  std::string garbage_bytes(65536, '\0');
  for (auto& c : garbage_bytes) c = static_cast<char>(random());
  const std::string garbage = garbage_bytes;
  const std::string deep_open = "version: 1\ninterfaces: " + std::string(100000, '[');
  const std::string deep_closed = deep_open + std::string(100000, ']');
  const std::string huge = "version: 1\ninterfaces:\n  - name: " + std::string(1 << 20, 'x') + "\n";
  const std::string huge_key = "version: 1\n" + std::string(1 << 20, 'k') + ": 1\n";
  for (const std::string* text : {&garbage, &deep_open, &deep_closed, &huge, &huge_key}) {
    auto result = config::load({config::Source{"hostile.yaml", *text}});
    CHECK(result.diagnostics.has_errors());
    CHECK_FALSE(result.tables);
    for (const auto& d : result.diagnostics.all()) {
      for (unsigned char c : d.str()) CHECK((c >= 0x20 || c == '\t'));
      CHECK(d.str().size() < 4096);
    }
  }
}
