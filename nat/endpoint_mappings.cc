#include "nat/endpoint_mappings.h"

#include <algorithm>
#include <bit>

namespace bulwark::nat {

EndpointMappings::EndpointMappings(uint32_t capacity) {
  size_t size = std::bit_ceil(std::max<size_t>(capacity, 64));
  forward_ = std::make_unique<Slot[]>(size);
  reverse_ = std::make_unique<Slot[]>(size);
  mask_ = size - 1;
}

size_t EndpointMappings::index(uint32_t a, uint32_t b, uint16_t port, uint8_t protocol) const {
  uint64_t k = (uint64_t{a} << 32 | b) ^ (uint64_t{port} << 8 | protocol) * 0x9e3779b97f4a7c15ULL;
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  return static_cast<size_t>(k) & mask_;
}

std::optional<uint16_t> EndpointMappings::port_of(uint8_t protocol, uint32_t src, uint16_t src_port,
                                                  uint32_t external, uint64_t now) const {
  size_t start = index(src, external, src_port, protocol);
  for (unsigned i = 0; i < kProbe; ++i) {
    const Slot& s = forward_[(start + i) & mask_];
    if (s.expires > now && s.a == src && s.b == external && s.port_a == src_port && s.protocol == protocol) {
      return s.port_b;
    }
  }
  return std::nullopt;
}

bool EndpointMappings::taken_by_other(uint8_t protocol, uint32_t external, uint16_t port,
                                      uint32_t src, uint16_t src_port, uint64_t now) const {
  size_t start = index(external, 0, port, protocol);
  for (unsigned i = 0; i < kProbe; ++i) {
    const Slot& s = reverse_[(start + i) & mask_];
    if (s.expires > now && s.a == external && s.port_a == port && s.protocol == protocol) {
      return !(s.b == src && s.port_b == src_port);
    }
  }
  return false;
}

bool EndpointMappings::remember(uint8_t protocol, uint32_t src, uint16_t src_port, uint32_t external,
                                uint16_t port, uint64_t expires, uint64_t now) {
  auto place = [&](Slot* table, size_t start, auto same) -> Slot* {
    Slot* free_slot = nullptr;
    for (unsigned i = 0; i < kProbe; ++i) {
      Slot& s = table[(start + i) & mask_];
      if (s.expires > now && same(s)) return &s;
      if (s.expires <= now && !free_slot) free_slot = &s;
    }
    return free_slot;
  };
  Slot* f = place(forward_.get(), index(src, external, src_port, protocol), [&](const Slot& s) {
    return s.a == src && s.b == external && s.port_a == src_port && s.protocol == protocol;
  });
  Slot* r = place(reverse_.get(), index(external, 0, port, protocol), [&](const Slot& s) {
    return s.a == external && s.port_a == port && s.protocol == protocol;
  });
  if (!f || !r) return false;
  *f = Slot{src, external, src_port, port, protocol, expires};
  *r = Slot{external, src, port, src_port, protocol, expires};
  return true;
}

}  // namespace bulwark::nat
