#include "config/net_types.h"

#include <charconv>

#include <fmt/format.h>

namespace bulwark::config {
namespace {

// Parses a decimal number in [0, max] that uses all of `text`; no sign, no leading zeros
// beyond a single "0" (so "010" is not silently read as ten or eight).
std::optional<uint32_t> parse_decimal(std::string_view text, uint32_t max) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  if (text.size() > 1 && text[0] == '0') return std::nullopt;
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value > max) return std::nullopt;
  return value;
}

std::optional<uint8_t> parse_hex_byte(std::string_view text) {
  if (text.size() != 2) return std::nullopt;
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + 2, value, 16);
  if (ec != std::errc{} || end != text.data() + 2) return std::nullopt;
  return static_cast<uint8_t>(value);
}

}  // namespace

std::string Ipv4Address::str() const {
  return fmt::format("{}.{}.{}.{}", value >> 24, (value >> 16) & 0xff, (value >> 8) & 0xff,
                     value & 0xff);
}

std::optional<Ipv4Address> Ipv4Address::parse(std::string_view text) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    size_t dot = text.find('.');
    if ((i < 3) != (dot != std::string_view::npos)) return std::nullopt;
    auto octet = parse_decimal(text.substr(0, dot), 255);
    if (!octet) return std::nullopt;
    value = (value << 8) | *octet;
    text = i < 3 ? text.substr(dot + 1) : std::string_view{};
  }
  return Ipv4Address{value};
}

std::string Ipv4Prefix::str() const { return fmt::format("{}/{}", address.str(), length); }

std::optional<Ipv4Prefix> Ipv4Prefix::parse(std::string_view text) {
  size_t slash = text.find('/');
  auto address = Ipv4Address::parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  if (slash == std::string_view::npos) return Ipv4Prefix{*address, 32};
  auto length = parse_decimal(text.substr(slash + 1), 32);
  if (!length) return std::nullopt;
  return Ipv4Prefix{*address, static_cast<uint8_t>(*length)};
}

std::string MacAddress::str() const {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", bytes[0], bytes[1], bytes[2],
                     bytes[3], bytes[4], bytes[5]);
}

std::optional<MacAddress> MacAddress::parse(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  MacAddress mac;
  for (size_t i = 0; i < 6; ++i) {
    if (i > 0 && text[i * 3 - 1] != ':' && text[i * 3 - 1] != '-') return std::nullopt;
    auto byte = parse_hex_byte(text.substr(i * 3, 2));
    if (!byte) return std::nullopt;
    mac.bytes[i] = *byte;
  }
  return mac;
}

std::string PortRange::str() const {
  if (is_any()) return "any";
  if (low == high) return fmt::format("{}", low);
  return fmt::format("{}-{}", low, high);
}

}  // namespace bulwark::config
