#include "nat/rules.h"

#include <algorithm>

namespace bulwark::nat {
namespace {

// Is `ip` in one of the networks the masquerading entry `m` hides?
bool hides(const config::MasqueradeEntry& m, uint32_t ip) {
  return std::any_of(m.from.begin(), m.from.end(),
                     [&](const config::Ipv4Prefix& p) { return p.contains(config::Ipv4Address{ip}); });
}

}  // namespace

Rules::Rules(const config::NatTables& t)
    : forwards_(t.port_forwarding),
      port_range_(t.port_range),
      endpoint_independent_(t.mapping == config::MappingBehaviour::kEndpointIndependent) {
  // Masquerading to an interface that waits for its DHCP lease has no address to use yet.
  for (const auto& m : t.masquerade) {
    if (m.address.value != 0) masquerade_.push_back(m);
  }
  for (const auto& o : t.one_to_one) {
    one_to_one_.push_back({o.real.network().value, o.virtual_network.network().value, o.real.mask(), o.interface});
  }
}

std::optional<DestinationNat> Rules::destination(const conntrack::FlowKey& k) const {
  bool ports = k.protocol == config::kProtoTcp || k.protocol == config::kProtoUdp;
  for (size_t index = 0; index < forwards_.size(); ++index) {
    const config::PortForwardEntry& f = forwards_[index];
    const auto position = static_cast<uint16_t>(index + 1);
    if (f.incoming_ip.value == 0) continue;  // %extern of an interface still waiting for its DHCP lease
    if (f.protocol != k.protocol || f.incoming_ip.value != k.dst || !f.from.contains(config::Ipv4Address{k.src})) {
      continue;
    }
    if (ports) {
      if (k.dst_port < f.incoming_port.low || k.dst_port > f.incoming_port.high) continue;
      if (k.src_port < f.from_port.low || k.src_port > f.from_port.high) continue;
      // A single redirect port takes every incoming port; a range keeps them.
      uint16_t port = f.redirect_port.low == f.redirect_port.high
                          ? f.redirect_port.low
                          : static_cast<uint16_t>(f.redirect_port.low + (k.dst_port - f.incoming_port.low));
      return DestinationNat{f.redirect_ip.value, port, true, position, f.log};
    }
    return DestinationNat{f.redirect_ip.value, k.dst_port, true, position, f.log};  // GRE
  }
  if (auto real = virtual_to_real(k.dst)) return DestinationNat{*real, k.dst_port, false};
  return std::nullopt;
}

std::optional<uint32_t> Rules::virtual_to_real(uint32_t dst) const {
  for (const auto& o : one_to_one_) {
    if ((dst & o.mask) == o.virt) return o.real | (dst & ~o.mask);
  }
  return std::nullopt;
}

std::optional<uint32_t> Rules::real_to_virtual(uint32_t src, uint16_t out) const {
  for (const auto& o : one_to_one_) {
    if (o.interface == out && (src & o.mask) == o.real) return o.virt | (src & ~o.mask);
  }
  return std::nullopt;
}

std::optional<SourceNat> Rules::source(const conntrack::FlowKey& k, uint16_t out) const {
  if (auto v = real_to_virtual(k.src, out)) return SourceNat{*v, false};
  bool translatable = k.protocol == config::kProtoTcp || k.protocol == config::kProtoUdp ||
                      k.protocol == config::kProtoIcmp;
  for (const auto& m : masquerade_) {
    if (m.interface != out) continue;
    if (!hides(m, k.src)) continue;
    return SourceNat{m.address.value, translatable};
  }
  return std::nullopt;
}

std::vector<std::string> Rules::describe(const std::vector<std::string>& names) const {
  auto name = [&](uint16_t i) { return i < names.size() ? names[i] : std::string("?"); };
  auto prefix = [](uint32_t a, uint32_t mask) {
    return config::Ipv4Prefix{config::Ipv4Address{a}, static_cast<uint8_t>(__builtin_popcount(mask))}.str();
  };
  std::vector<std::string> out;
  for (const auto& o : one_to_one_) {
    out.push_back("1:1 " + prefix(o.real, o.mask) + " <-> " + prefix(o.virt, o.mask) + " on " + name(o.interface));
  }
  for (const auto& m : masquerade_) {
    std::string from;
    for (const auto& p : m.from) from += (from.empty() ? "" : ",") + p.str();
    out.push_back("masquerade " + from + " -> " + m.address.str() + " out " + name(m.interface) +
                  " ports " + port_range_.str());
  }
  for (const auto& f : forwards_) {
    std::string proto = f.protocol == config::kProtoTcp ? "tcp" : f.protocol == config::kProtoUdp ? "udp" : "gre";
    out.push_back("forward " + proto + " from " + f.from.str() + ":" + f.from_port.str() + " to " +
                  f.incoming_ip.str() + ":" + f.incoming_port.str() + " -> " + f.redirect_ip.str() + ":" +
                  f.redirect_port.str());
  }
  return out;
}

bool Rules::is_stateful_address(uint32_t ip) const {
  return std::any_of(masquerade_.begin(), masquerade_.end(), [&](const auto& m) { return m.address.value == ip; }) ||
         std::any_of(forwards_.begin(), forwards_.end(), [&](const auto& f) { return f.incoming_ip.value == ip; });
}

bool Rules::needs_whole_packets(uint32_t src, uint32_t dst, int toward_dst) const {
  if (is_stateful_address(dst)) return true;  // answers to masquerading, forwarded requests
  for (const auto& f : forwards_) {
    if (f.redirect_ip.value == src) return true;  // the forwarded service's answers
  }
  for (const auto& m : masquerade_) {
    if (m.interface == toward_dst && hides(m, src)) return true;
  }
  return false;
}

bool Rules::may_translate(const conntrack::FlowKey& k, bool ports, int toward_dst, int toward_src) const {
  for (const auto& o : one_to_one_) {
    for (uint32_t a : {k.src, k.dst}) {
      if ((a & o.mask) == o.real || (a & o.mask) == o.virt) return true;
    }
  }
  // The forwarded-to service, from either side (its answers carry it as the source).
  for (const auto& f : forwards_) {
    if (f.protocol != k.protocol) continue;
    if (k.src == f.redirect_ip.value && (!ports || (k.src_port >= f.redirect_port.low && k.src_port <= f.redirect_port.high))) {
      return true;
    }
    if (k.dst == f.redirect_ip.value && (!ports || (k.dst_port >= f.redirect_port.low && k.dst_port <= f.redirect_port.high))) {
      return true;
    }
  }
  // A masqueraded network's host and a host beyond the masquerading interface, either way round.
  for (const auto& m : masquerade_) {
    if ((toward_dst == m.interface && hides(m, k.src)) || (toward_src == m.interface && hides(m, k.dst))) return true;
  }
  return false;
}

}  // namespace bulwark::nat
