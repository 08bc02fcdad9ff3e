// Converters from YAML scalars to typed values, in the shape MapReader expects. Each reports a
// precise error (what was expected, an example) and returns nullopt on bad input.
#pragma once

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/model.h"
#include "config/yaml_reader.h"

namespace bulwark::config {

std::optional<std::string> as_text(Reader& r, const YAML::Node& n, const std::string& path);
// Non-empty text.
std::optional<std::string> as_string(Reader& r, const YAML::Node& n, const std::string& path);
// An object name: 1-64 letters, digits, space and _ - . ( ) /.
std::optional<std::string> as_name(Reader& r, const YAML::Node& n, const std::string& path);
// A group name as rules refer to it: a letter, then letters, digits and _ - . (no spaces).
std::optional<std::string> as_group_name(Reader& r, const YAML::Node& n, const std::string& path);
std::optional<bool> as_bool(Reader& r, const YAML::Node& n, const std::string& path);
std::optional<Ipv4Address> as_address(Reader& r, const YAML::Node& n, const std::string& path);
// A network; a bare address is a /32 and `any` is 0.0.0.0/0.
std::optional<Ipv4Prefix> as_network(Reader& r, const YAML::Node& n, const std::string& path);
// A network whose host bits are zero.
std::optional<Ipv4Prefix> as_canonical_network(Reader& r, const YAML::Node& n,
                                               const std::string& path);
// An address of the box with its prefix length ("192.168.1.1/24").
std::optional<Ipv4Prefix> as_interface_address(Reader& r, const YAML::Node& n,
                                               const std::string& path);
std::optional<MacAddress> as_mac(Reader& r, const YAML::Node& n, const std::string& path);
// A port, port range, service name or `any`.
std::optional<PortRange> as_port(Reader& r, const YAML::Node& n, const std::string& path);
// A single port number or service name.
std::optional<PortRange> as_single_port(Reader& r, const YAML::Node& n, const std::string& path);
std::optional<Protocol> as_protocol(Reader& r, const YAML::Node& n, const std::string& path);
// Seconds: a number, H:MM:SS, or a number with s, m, h or d.
std::optional<uint32_t> as_duration(Reader& r, const YAML::Node& n, const std::string& path);
std::optional<SecretRef> as_secret(Reader& r, const YAML::Node& n, const std::string& path);
// One network or a list of networks; `any` is 0.0.0.0/0.
std::optional<std::vector<Ipv4Prefix>> as_network_list(Reader& r, const YAML::Node& n,
                                                       const std::string& path);
// One network or IP group name, or a list of them.
std::optional<std::vector<AddressTerm>> as_address_terms(Reader& r, const YAML::Node& n,
                                                         const std::string& path);
// One port (range, service, any) or port group name, or a list of them.
std::optional<std::vector<PortTerm>> as_port_terms(Reader& r, const YAML::Node& n,
                                                   const std::string& path);
// A list of names.
std::optional<std::vector<std::pair<std::string, Origin>>> as_name_list(Reader& r,
                                                                        const YAML::Node& n,
                                                                        const std::string& path);

// An unsigned integer in [low, high].
struct Integer {
  uint64_t low;
  uint64_t high;
  std::optional<uint32_t> operator()(Reader& r, const YAML::Node& n, const std::string& path) const;
};

// One of a fixed set of words.
template <class E>
struct OneOf {
  std::vector<std::pair<std::string, E>> choices;

  OneOf(std::initializer_list<std::pair<std::string, E>> list) : choices(list) {}

  std::optional<E> operator()(Reader& r, const YAML::Node& n, const std::string& path) const {
    auto text = as_string(r, n, path);
    if (!text) return std::nullopt;
    std::vector<std::string> words;
    for (const auto& [word, value] : choices) {
      if (word == *text) return value;
      words.push_back(word);
    }
    r.error(n, path, "'" + *text + "' is not one of: " + join(words),
            hint_for(*text, words));
    return std::nullopt;
  }

 private:
  static std::string join(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
    return out;
  }
  static std::string hint_for(const std::string& text, const std::vector<std::string>& words) {
    auto near = closest_match(text, words);
    return near ? "did you mean '" + *near + "'?" : std::string{};
  }
};

}  // namespace bulwark::config
