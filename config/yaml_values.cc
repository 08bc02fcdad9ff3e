#include "config/yaml_values.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include "config/services.h"

namespace bulwark::config {
namespace {

// Longer values are refused before anything quotes them in a message.
constexpr size_t kMaxValueLength = 1024;

bool is_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) {
    return std::isdigit(c) != 0;
  });
}

std::optional<uint64_t> parse_u64(std::string_view text) {
  if (!is_digits(text) || text.size() > 12) return std::nullopt;
  uint64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

bool is_name_char(unsigned char c) {
  return std::isalnum(c) != 0 || c == ' ' || c == '_' || c == '-' || c == '.' || c == '(' ||
         c == ')' || c == '/';
}

bool looks_like_group_name(std::string_view text) {
  return !text.empty() && text.size() <= 64 && std::isalpha(static_cast<unsigned char>(text[0])) &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) {
           return std::isalnum(c) != 0 || c == '_' || c == '-' || c == '.';
         });
}

std::optional<PortRange> port_from_text(std::string_view text) {
  if (text == "any") return PortRange{};
  if (auto service = service_port(text)) return PortRange{*service, *service};
  size_t dash = text.find('-');
  auto low = parse_u64(text.substr(0, dash));
  if (!low || *low < 1 || *low > 65535) return std::nullopt;
  if (dash == std::string_view::npos) {
    return PortRange{static_cast<uint16_t>(*low), static_cast<uint16_t>(*low)};
  }
  auto high = parse_u64(text.substr(dash + 1));
  if (!high || *high < *low || *high > 65535) return std::nullopt;
  return PortRange{static_cast<uint16_t>(*low), static_cast<uint16_t>(*high)};
}

template <class Term, class Element>
std::optional<std::vector<Term>> terms(Reader& r, const YAML::Node& n, const std::string& path,
                                       Element element) {
  std::vector<Term> out;
  if (n.IsScalar()) {
    auto term = element(r, n, path);
    if (!term) return std::nullopt;
    out.push_back(std::move(*term));
    return out;
  }
  if (!n.IsSequence()) {
    r.error(n, path, "expected a value or a list of values");
    return std::nullopt;
  }
  bool ok = true;
  for (size_t i = 0; i < n.size(); ++i) {
    auto term = element(r, n[i], index_path(path, i + 1));
    if (term) {
      out.push_back(std::move(*term));
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  if (out.empty()) {
    r.error(n, path, "empty list", "leave the key out, or write 'any'");
    return std::nullopt;
  }
  return out;
}

}  // namespace

std::optional<std::string> as_text(Reader& r, const YAML::Node& n, const std::string& path) {
  if (n.IsNull()) return std::string{};
  if (!n.IsScalar()) {
    r.error(n, path, "expected a single value, not a list or mapping");
    return std::nullopt;
  }
  if (n.Scalar().size() > kMaxValueLength) {
    r.error(n, path, fmt::format("a value of {} characters is too long", n.Scalar().size()),
            fmt::format("values have at most {} characters", kMaxValueLength));
    return std::nullopt;
  }
  return n.Scalar();
}

std::optional<std::string> as_string(Reader& r, const YAML::Node& n, const std::string& path) {
  auto text = as_text(r, n, path);
  if (!text) return std::nullopt;
  if (text->empty()) {
    r.error(n, path, "expected a value, found nothing");
    return std::nullopt;
  }
  return text;
}

std::optional<std::string> as_name(Reader& r, const YAML::Node& n, const std::string& path) {
  auto text = as_string(r, n, path);
  if (!text) return std::nullopt;
  if (text->size() > 64 || !std::all_of(text->begin(), text->end(), is_name_char) ||
      text->front() == ' ' || text->back() == ' ') {
    r.error(n, path, fmt::format("'{}' is not a valid name", *text),
            "use 1-64 letters, digits, spaces and _ - . ( ) /, without leading or trailing spaces");
    return std::nullopt;
  }
  return text;
}

std::optional<std::string> as_group_name(Reader& r, const YAML::Node& n, const std::string& path) {
  auto text = as_string(r, n, path);
  if (!text) return std::nullopt;
  if (!looks_like_group_name(*text)) {
    r.error(n, path, fmt::format("'{}' is not a valid group name", *text),
            "start with a letter and use letters, digits and _ - . (no spaces), e.g. plc_network");
    return std::nullopt;
  }
  return text;
}

std::optional<bool> as_bool(Reader& r, const YAML::Node& n, const std::string& path) {
  auto text = as_string(r, n, path);
  if (!text) return std::nullopt;
  if (*text == "true") return true;
  if (*text == "false") return false;
  r.error(n, path, fmt::format("'{}' is not a yes/no value", *text), "write true or false");
  return std::nullopt;
}

std::optional<uint32_t> Integer::operator()(Reader& r, const YAML::Node& n,
                                            const std::string& path) const {
  auto text = as_string(r, n, path);
  if (!text) return std::nullopt;
  auto value = parse_u64(*text);
  if (!value || *value < low || *value > high) {
    r.error(n, path, fmt::format("'{}' is not a whole number from {} to {}", *text, low, high));
    return std::nullopt;
  }
  return static_cast<uint32_t>(*value);
}

std::optional<Ipv4Address> as_address(Reader& r, const YAML::Node& n, const std::string& path) {
  auto text = as_string(r, n, path);
  if (!text) return std::nullopt;
  auto address = Ipv4Address::parse(*text);
  if (!address) {
    r.error(n, path, fmt::format("'{}' is not an IPv4 address", *text),
            "write four numbers 0-255 separated by dots, e.g. 192.168.1.10");
  }
  return address;
}

std::optional<Ipv4Prefix> as_network(Reader& r, const YAML::Node& n, const std::string& path) {
  auto text = as_string(r, n, path);
  if (!text) return std::nullopt;
  if (*text == "any") return Ipv4Prefix{};
  auto prefix = Ipv4Prefix::parse(*text);
  if (!prefix) {
    r.error(n, path, fmt::format("'{}' is not an IPv4 network", *text),
            "write an address with a prefix length, e.g. 192.168.1.0/24, or 'any'");
  }
  return prefix;
}

std::optional<Ipv4Prefix> as_canonical_network(Reader& r, const YAML::Node& n,
                                               const std::string& path) {
  auto prefix = as_network(r, n, path);
  if (prefix && !prefix->is_canonical()) {
    r.error(n, path, fmt::format("'{}' has host bits set", prefix->str()),
            fmt::format("the network is {}", prefix->canonical().str()));
    return std::nullopt;
  }
  return prefix;
}

std::optional<Ipv4Prefix> as_interface_address(Reader& r, const YAML::Node& n,
                                               const std::string& path) {
  auto text = as_string(r, n, path);
  if (!text) return std::nullopt;
  auto prefix = Ipv4Prefix::parse(*text);
  if (!prefix || text->find('/') == std::string::npos) {
    r.error(n, path, fmt::format("'{}' is not an address with prefix length", *text),
            "write the box's address and its network's prefix, e.g. 192.168.1.1/24");
    return std::nullopt;
  }
  if (prefix->length < 31 && (prefix->address == prefix->network() ||
                              prefix->address == prefix->last())) {
    r.error(n, path,
            fmt::format("{} is the {} address of its network", prefix->address.str(),
                        prefix->address == prefix->network() ? "network" : "broadcast"),
            "give the box a host address inside the network");
    return std::nullopt;
  }
  return prefix;
}

std::optional<MacAddress> as_mac(Reader& r, const YAML::Node& n, const std::string& path) {
  auto text = as_string(r, n, path);
  if (!text) return std::nullopt;
  auto mac = MacAddress::parse(*text);
  if (!mac) {
    r.error(n, path, fmt::format("'{}' is not a MAC address", *text),
            "write six hex bytes separated by colons, e.g. 02:00:00:00:00:01");
    return std::nullopt;
  }
  if (mac->is_multicast() || mac->is_zero()) {
    r.error(n, path, fmt::format("{} cannot be an interface address", mac->str()),
            "use a unicast address (lowest bit of the first byte clear), e.g. 02:...");
    return std::nullopt;
  }
  return mac;
}

std::optional<PortRange> as_port(Reader& r, const YAML::Node& n, const std::string& path) {
  auto text = as_string(r, n, path);
  if (!text) return std::nullopt;
  auto port = port_from_text(*text);
  if (!port) {
    r.error(n, path, fmt::format("'{}' is not a port", *text),
            "write a number 1-65535, a range like 8000-8080, a service name like https, or any");
  }
  return port;
}

std::optional<PortRange> as_single_port(Reader& r, const YAML::Node& n, const std::string& path) {
  auto port = as_port(r, n, path);
  if (port && port->low != port->high) {
    r.error(n, path, fmt::format("'{}' is not a single port", port->str()),
            "give one port number or service name");
    return std::nullopt;
  }
  return port;
}

std::optional<Protocol> as_protocol(Reader& r, const YAML::Node& n, const std::string& path) {
  auto text = as_string(r, n, path);
  if (!text) return std::nullopt;
  const std::string& word = *text;
  static const std::pair<const char*, uint8_t> kNames[] = {
      {"icmp", kProtoIcmp}, {"tcp", kProtoTcp}, {"udp", kProtoUdp},
      {"gre", kProtoGre},   {"esp", kProtoEsp}, {"ah", kProtoAh}};
  if (word == "all") {
    std::optional<Protocol> all;
    all.emplace(std::nullopt);
    return all;
  }
  for (const auto& [name, number] : kNames) {
    if (word == name) return Protocol{number};
  }
  if (auto number = parse_u64(word); number && *number <= 255) {
    return Protocol{static_cast<uint8_t>(*number)};
  }
  r.error(n, path, fmt::format("'{}' is not a protocol", *text),
          "write all, tcp, udp, icmp, esp, ah, gre or a protocol number 0-255");
  return std::nullopt;
}

std::optional<uint32_t> as_duration(Reader& r, const YAML::Node& n, const std::string& path) {
  auto text = as_string(r, n, path);
  if (!text) return std::nullopt;
  auto fail = [&]() -> std::optional<uint32_t> {
    r.error(n, path, fmt::format("'{}' is not a duration", *text),
            "write seconds (3600), H:MM:SS (1:00:00) or a number with s, m, h or d (1h30m)");
    return std::nullopt;
  };
  uint64_t total = 0;
  if (auto seconds = parse_u64(*text)) {
    total = *seconds;
  } else if (std::count(text->begin(), text->end(), ':') == 2) {
    size_t a = text->find(':');
    size_t b = text->find(':', a + 1);
    auto h = parse_u64(std::string_view(*text).substr(0, a));
    auto m = parse_u64(std::string_view(*text).substr(a + 1, b - a - 1));
    auto s = parse_u64(std::string_view(*text).substr(b + 1));
    if (!h || !m || !s || *m > 59 || *s > 59) return fail();
    total = *h * 3600 + *m * 60 + *s;
  } else {
    std::string_view rest = *text;
    if (rest.empty()) return fail();
    while (!rest.empty()) {
      size_t digits = 0;
      while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) {
        ++digits;
      }
      auto number = parse_u64(rest.substr(0, digits));
      if (!number || digits == rest.size()) return fail();
      uint64_t unit = 0;
      switch (rest[digits]) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        default: return fail();
      }
      total += *number * unit;
      rest = rest.substr(digits + 1);
    }
  }
  if (total > 0xffffffffULL) return fail();
  return static_cast<uint32_t>(total);
}

std::optional<SecretRef> as_secret(Reader& r, const YAML::Node& n, const std::string& path) {
  const char* kHint = "write {env: VARIABLE} or {file: /path/to/file}; the secret itself never "
                      "goes into the configuration";
  if (!n.IsMap()) {
    // Never echo the value: it may be the secret itself.
    r.error(n, path, "secrets must be given by reference", kHint);
    return std::nullopt;
  }
  Located ignored;
  MapReader map(r, n, path, ignored);
  SecretRef ref;
  std::string file, env;
  bool has_file = map.optional("file", file, as_string);
  bool has_env = map.optional("env", env, as_string);
  map.finish();
  if (has_file == has_env) {
    r.error(n, path, "a secret reference needs exactly one of 'file' and 'env'", kHint);
    return std::nullopt;
  }
  if (has_file) {
    if (file.front() != '/') {
      r.error(n, join_path(path, "file"), "secret files must be given by absolute path",
              "e.g. /etc/bulwark/secrets/vpn.psk");
      return std::nullopt;
    }
    return SecretRef{SecretRef::Kind::kFile, file};
  }
  bool valid_env = std::all_of(env.begin(), env.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '_';
  }) && !std::isdigit(static_cast<unsigned char>(env.front()));
  if (!valid_env) {
    r.error(n, join_path(path, "env"), fmt::format("'{}' is not an environment variable name", env),
            "use letters, digits and _, e.g. VPN_PSK");
    return std::nullopt;
  }
  return SecretRef{SecretRef::Kind::kEnv, env};
}

std::optional<std::vector<Ipv4Prefix>> as_network_list(Reader& r, const YAML::Node& n,
                                                       const std::string& path) {
  return terms<Ipv4Prefix>(r, n, path, as_network);
}

std::optional<std::vector<AddressTerm>> as_address_terms(Reader& r, const YAML::Node& n,
                                                         const std::string& path) {
  return terms<AddressTerm>(
      r, n, path,
      [](Reader& r, const YAML::Node& n, const std::string& path) -> std::optional<AddressTerm> {
        auto text = as_string(r, n, path);
        if (!text) return std::nullopt;
        Origin origin = r.origin(n, path);
        if (*text == "any") return AddressTerm{Ipv4Prefix{}, origin};
        if (auto prefix = Ipv4Prefix::parse(*text)) return AddressTerm{*prefix, origin};
        if (looks_like_group_name(*text)) return AddressTerm{*text, origin};
        r.error(n, path, fmt::format("'{}' is neither a network nor an IP group name", *text),
                "write e.g. 192.168.1.0/24, 10.1.0.100, any, or the name of an ip_groups entry");
        return std::nullopt;
      });
}

std::optional<std::vector<PortTerm>> as_port_terms(Reader& r, const YAML::Node& n,
                                                   const std::string& path) {
  return terms<PortTerm>(
      r, n, path,
      [](Reader& r, const YAML::Node& n, const std::string& path) -> std::optional<PortTerm> {
        auto text = as_string(r, n, path);
        if (!text) return std::nullopt;
        Origin origin = r.origin(n, path);
        if (auto port = port_from_text(*text)) return PortTerm{*port, origin};
        if (looks_like_group_name(*text)) return PortTerm{*text, origin};
        r.error(n, path, fmt::format("'{}' is neither a port nor a port group name", *text),
                "write a number 1-65535, a range like 8000-8080, a service name like https, "
                "any, or the name of a port_groups entry");
        return std::nullopt;
      });
}

std::optional<std::vector<std::pair<std::string, Origin>>> as_name_list(Reader& r,
                                                                        const YAML::Node& n,
                                                                        const std::string& path) {
  if (!n.IsSequence()) {
    r.error(n, path, "expected a list of names", "write [first, second], or [name] for one");
    return std::nullopt;
  }
  return terms<std::pair<std::string, Origin>>(
      r, n, path,
      [](Reader& r, const YAML::Node& n,
         const std::string& path) -> std::optional<std::pair<std::string, Origin>> {
        auto name = as_name(r, n, path);
        if (!name) return std::nullopt;
        return std::pair{*name, r.origin(n, path)};
      });
}

}  // namespace bulwark::config
