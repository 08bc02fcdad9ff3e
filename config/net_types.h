// Strong types for the values both processes exchange: IPv4 addresses and prefixes, MAC addresses,
// port ranges and network-byte-order integers. Host-order values are what the compiler and the
// tables work with; Be16/Be32 are what sits in a packet, and there is no implicit conversion
// between the two.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace bulwark::config {

// A 16-bit value in network byte order. Only explicit conversions in and out. Packed (alignment
// 1) and trivial, so that it can sit at any offset of a packed wire header.
class [[gnu::packed]] Be16 {
 public:
  constexpr Be16() = default;
  static constexpr Be16 from_host(uint16_t v) { return Be16(static_cast<uint16_t>((v >> 8) | (v << 8))); }
  constexpr uint16_t to_host() const { return static_cast<uint16_t>((raw_ >> 8) | (raw_ << 8)); }
  constexpr uint16_t raw() const { return raw_; }
  constexpr bool operator==(const Be16&) const = default;

 private:
  constexpr explicit Be16(uint16_t raw) : raw_(raw) {}
  uint16_t raw_;
};
static_assert(sizeof(Be16) == 2 && alignof(Be16) == 1);
static_assert(std::is_trivial_v<Be16>);

// A 32-bit value in network byte order; packed and trivial like Be16.
class [[gnu::packed]] Be32 {
 public:
  constexpr Be32() = default;
  static constexpr Be32 from_host(uint32_t v) { return Be32(__builtin_bswap32(v)); }
  constexpr uint32_t to_host() const { return __builtin_bswap32(raw_); }
  constexpr uint32_t raw() const { return raw_; }
  constexpr bool operator==(const Be32&) const = default;

 private:
  constexpr explicit Be32(uint32_t raw) : raw_(raw) {}
  uint32_t raw_;
};
static_assert(sizeof(Be32) == 4 && alignof(Be32) == 1);
static_assert(std::is_trivial_v<Be32>);

// An IPv4 address, host byte order.
struct Ipv4Address {
  uint32_t value = 0;
  constexpr auto operator<=>(const Ipv4Address&) const = default;
  Be32 to_be() const { return Be32::from_host(value); }
  std::string str() const;
  static std::optional<Ipv4Address> parse(std::string_view text);
};
static_assert(sizeof(Ipv4Address) == 4);

// An IPv4 network: address and prefix length. `parse` accepts "a.b.c.d/len" and a bare address
// (length 32); it does not require the host bits to be zero, `is_canonical` tells.
struct Ipv4Prefix {
  Ipv4Address address;
  uint8_t length = 0;

  constexpr auto operator<=>(const Ipv4Prefix&) const = default;
  static constexpr uint32_t mask_of(uint8_t len) { return len == 0 ? 0 : ~uint32_t{0} << (32 - len); }
  uint32_t mask() const { return mask_of(length); }
  Ipv4Address network() const { return {address.value & mask()}; }
  Ipv4Address last() const { return {network().value | ~mask()}; }
  bool is_canonical() const { return (address.value & ~mask()) == 0; }
  Ipv4Prefix canonical() const { return {network(), length}; }
  bool contains(Ipv4Address a) const { return (a.value & mask()) == network().value; }
  bool contains(const Ipv4Prefix& p) const { return p.length >= length && contains(p.address); }
  bool overlaps(const Ipv4Prefix& p) const { return contains(p.address) || p.contains(address); }
  std::string str() const;
  static std::optional<Ipv4Prefix> parse(std::string_view text);
};

// An Ethernet address.
struct MacAddress {
  std::array<uint8_t, 6> bytes{};
  constexpr auto operator<=>(const MacAddress&) const = default;
  bool is_multicast() const { return (bytes[0] & 1) != 0; }
  bool is_zero() const { return bytes == std::array<uint8_t, 6>{}; }
  std::string str() const;
  static std::optional<MacAddress> parse(std::string_view text);
};
static_assert(sizeof(MacAddress) == 6);

// An inclusive range of TCP/UDP ports, host byte order. {0, 65535} is "any".
struct PortRange {
  uint16_t low = 0;
  uint16_t high = 65535;
  constexpr auto operator<=>(const PortRange&) const = default;
  bool is_any() const { return low == 0 && high == 65535; }
  bool contains(const PortRange& r) const { return low <= r.low && r.high <= high; }
  std::string str() const;
};
static_assert(sizeof(PortRange) == 4);

}  // namespace bulwark::config
