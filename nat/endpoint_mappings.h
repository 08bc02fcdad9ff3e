// Endpoint-independent mapping (RFC 4787, "EIM") for masquerading: every connection from one
// internal endpoint (protocol, address, port) leaves with the same external port, whatever its
// destination, and no other internal endpoint gets that port while the mapping lives.
//
// Two fixed open-addressing tables — endpoint → port and (external address, port) → endpoint —
// with short probe sequences; entries expire, and expired ones are reused. A mapping lives for
// `lifetime` after the last connection that used it was opened. Full tables refuse new mappings
// (the connection then gets an address-and-port-dependent port). No allocation after construction.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

namespace bulwark::nat {

class EndpointMappings {
 public:
  explicit EndpointMappings(uint32_t capacity);

  // The external port of a live mapping of the endpoint on `external`.
  std::optional<uint16_t> port_of(uint8_t protocol, uint32_t src, uint16_t src_port,
                                  uint32_t external, uint64_t now) const;
  // True when `port` on `external` belongs to a live mapping of another endpoint.
  bool taken_by_other(uint8_t protocol, uint32_t external, uint16_t port, uint32_t src,
                      uint16_t src_port, uint64_t now) const;
  // Creates or refreshes the mapping; false when the tables are full.
  bool remember(uint8_t protocol, uint32_t src, uint16_t src_port, uint32_t external,
                uint16_t port, uint64_t expires, uint64_t now);

 private:
  struct Slot {
    uint32_t a = 0;       // forward: internal address; reverse: external address
    uint32_t b = 0;       // forward: external address; reverse: internal address
    uint16_t port_a = 0;  // forward: internal port;    reverse: external port
    uint16_t port_b = 0;  // forward: external port;    reverse: internal port
    uint8_t protocol = 0;
    uint64_t expires = 0;  // 0 = free
  };
  static constexpr unsigned kProbe = 16;

  size_t index(uint32_t a, uint32_t b, uint16_t port, uint8_t protocol) const;

  std::unique_ptr<Slot[]> forward_;
  std::unique_ptr<Slot[]> reverse_;
  size_t mask_ = 0;
};

}  // namespace bulwark::nat
