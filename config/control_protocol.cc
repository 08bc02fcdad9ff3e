#include "config/control_protocol.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace bulwark::config {
namespace {

constexpr size_t kHeaderSize = 12;

class Writer {
 public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(uint16_t v) { raw(&v, 2); }
  void u32(uint32_t v) { raw(&v, 4); }
  void u64(uint64_t v) { raw(&v, 8); }
  void str(const std::string& s) {
    u32(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  void prefix(const Ipv4Prefix& p) {
    u32(p.address.value);
    u8(p.length);
  }
  void source(const SourceRef& s) {
    str(s.position);
    str(s.path);
  }
  std::string take() { return std::move(out_); }

 private:
  void raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool ok() const { return ok_; }
  bool done() const { return ok_ && pos_ == data_.size(); }

  uint8_t u8() { return static_cast<uint8_t>(take(1)[0]); }
  uint16_t u16() { return get<uint16_t>(); }
  uint32_t u32() { return get<uint32_t>(); }
  uint64_t u64() { return get<uint64_t>(); }
  std::string str() {
    uint32_t n = u32();
    if (n > data_.size() - std::min(pos_, data_.size())) {
      ok_ = false;
      return {};
    }
    return std::string(take(n));
  }
  Ipv4Prefix prefix() {
    Ipv4Prefix p;
    p.address.value = u32();
    p.length = u8();
    if (p.length > 32) ok_ = false;
    return p;
  }
  SourceRef source() {
    SourceRef s;
    s.position = str();
    s.path = str();
    return s;
  }
  // A count of elements of at least `min_size` bytes each that can still fit in the data.
  uint32_t count(size_t min_size) {
    uint32_t n = u32();
    if (!ok_ || n > (data_.size() - pos_) / std::max<size_t>(min_size, 1)) {
      ok_ = false;
      return 0;
    }
    return n;
  }

 private:
  template <class T>
  T get() {
    T v{};
    std::string_view b = take(sizeof(T));
    if (ok_) std::memcpy(&v, b.data(), sizeof(T));
    return v;
  }
  std::string_view take(size_t n) {
    static const char zeros[8] = {};
    if (!ok_ || n > data_.size() - pos_) {
      ok_ = false;
      return std::string_view(zeros, std::min<size_t>(n, sizeof zeros));
    }
    std::string_view b = data_.substr(pos_, n);
    pos_ += n;
    return b;
  }

  std::string_view data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

void write_ports(Writer& w, const std::vector<PortRange>& ports) {
  w.u32(static_cast<uint32_t>(ports.size()));
  for (const auto& p : ports) {
    w.u16(p.low);
    w.u16(p.high);
  }
}

void write_prefixes(Writer& w, const std::vector<Ipv4Prefix>& prefixes) {
  w.u32(static_cast<uint32_t>(prefixes.size()));
  for (const auto& p : prefixes) w.prefix(p);
}

void write_list(Writer& w, const RuleListEntry& list) {
  w.u8(static_cast<uint8_t>(list.kind));
  w.u8(static_cast<uint8_t>(list.policy));
  w.u32(static_cast<uint32_t>(list.rules.size()));
  for (const auto& r : list.rules) {
    w.u32(r.id);
    w.u16(r.position);
    w.u16(r.interface);
    w.u8(r.protocol.has_value());
    w.u8(r.protocol.value_or(0));
    write_prefixes(w, r.from);
    write_ports(w, r.from_ports);
    write_prefixes(w, r.to);
    write_ports(w, r.to_ports);
    w.u8(static_cast<uint8_t>(r.action));
    w.u16(r.record);
    w.u8(r.log);
    w.str(r.comment);
    w.source(r.source);
  }
}

bool read_ports(Reader& r, std::vector<PortRange>& out) {
  uint32_t n = r.count(4);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    PortRange p{r.u16(), r.u16()};
    if (p.low > p.high) return false;
    out.push_back(p);
  }
  return r.ok();
}

bool read_prefixes(Reader& r, std::vector<Ipv4Prefix>& out) {
  uint32_t n = r.count(5);
  for (uint32_t i = 0; i < n && r.ok(); ++i) out.push_back(r.prefix());
  return r.ok();
}

// Reads a rule list; `records` and `interfaces` bound the indexes the rules may use.
bool read_list(Reader& r, RuleListEntry& list, size_t records, size_t interfaces) {
  uint8_t kind = r.u8();
  uint8_t policy = r.u8();
  if (kind > static_cast<uint8_t>(RuleListKind::kUser) || policy > static_cast<uint8_t>(DefaultPolicy::kRules)) {
    return false;
  }
  list.kind = static_cast<RuleListKind>(kind);
  list.policy = static_cast<DefaultPolicy>(policy);
  uint32_t n = r.count(40);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    RuleEntry e;
    e.id = r.u32();
    e.position = r.u16();
    e.interface = r.u16();
    bool has_protocol = r.u8() != 0;
    uint8_t protocol = r.u8();
    if (has_protocol) e.protocol = protocol;
    if (!read_prefixes(r, e.from) || !read_ports(r, e.from_ports) || !read_prefixes(r, e.to) ||
        !read_ports(r, e.to_ports)) {
      return false;
    }
    uint8_t action = r.u8();
    e.record = r.u16();
    e.log = r.u8() != 0;
    e.comment = r.str();
    e.source = r.source();
    if (action > static_cast<uint8_t>(ActionKind::kRecord)) return false;
    e.action = static_cast<ActionKind>(action);
    if (e.action == ActionKind::kRecord && e.record >= records) return false;
    if (e.interface != kNoIndex && e.interface >= interfaces) return false;
    list.rules.push_back(std::move(e));
  }
  return r.ok();
}

}  // namespace

std::string encode_message(const Message& m) {
  Writer w;
  w.u32(kControlMagic);
  w.u16(kControlVersion);
  w.u16(static_cast<uint16_t>(m.type));
  w.u32(static_cast<uint32_t>(m.payload.size()));
  return w.take() + m.payload;
}

std::optional<Message> MessageReader::next() {
  if (!error_.empty() || buffer_.size() < kHeaderSize) return std::nullopt;
  Reader r(std::string_view(buffer_).substr(0, kHeaderSize));
  uint32_t magic = r.u32();
  uint16_t version = r.u16();
  uint16_t type = r.u16();
  uint32_t length = r.u32();
  if (magic != kControlMagic) {
    error_ = "not a Bulwark control message (bad magic)";
    return std::nullopt;
  }
  if (version != kControlVersion) {
    error_ = fmt::format("control protocol version {} is not supported (this side speaks {})",
                         version, kControlVersion);
    return std::nullopt;
  }
  if (length > kMaxControlPayload) {
    error_ = fmt::format("message of {} bytes exceeds the limit", length);
    return std::nullopt;
  }
  if (buffer_.size() < kHeaderSize + length) return std::nullopt;
  Message m{static_cast<MessageType>(type), buffer_.substr(kHeaderSize, length)};
  buffer_.erase(0, kHeaderSize + length);
  return m;
}

std::string encode_dataplane_tables(const Tables& t) {
  Writer w;
  w.u64(t.generation);
  const DataplaneSection& d = t.dataplane;
  w.u32(d.main_lcore);
  w.u32(static_cast<uint32_t>(d.worker_lcores.size()));
  for (uint32_t l : d.worker_lcores) w.u32(l);
  w.u32(d.memory_mb);
  w.u8(d.hugepages);
  w.u32(d.mbufs);
  w.str(d.file_prefix);
  w.str(d.exception_namespace);
  w.u32(d.arp_max_entries);
  w.u32(d.arp_timeout);

  w.u32(static_cast<uint32_t>(t.interfaces.size()));
  for (const auto& i : t.interfaces) {
    w.str(i.name);
    w.u8(static_cast<uint8_t>(i.role));
    w.str(i.port);
    w.u8(i.mac.has_value());
    for (int b = 0; b < 6; ++b) w.u8(i.mac ? i.mac->bytes[b] : 0);
    w.u16(i.mtu);
    w.u8(i.dhcp);
    w.u32(static_cast<uint32_t>(i.addresses.size()));
    for (const auto& a : i.addresses) {
      w.prefix(a.prefix);
      w.u16(a.vlan);
    }
  }
  w.u8(t.extern_address.has_value());
  w.u32(t.extern_address ? t.extern_address->value : 0);
  w.u32(static_cast<uint32_t>(t.routes.size()));
  for (const auto& r : t.routes) {
    w.prefix(r.network);
    w.u32(r.gateway.value);
    w.u16(r.interface);
    w.u16(r.vlan);
    w.u8(static_cast<uint8_t>(r.kind));
    w.source(r.source);
  }
  w.u32(static_cast<uint32_t>(t.proxy_arp.size()));
  for (const auto& p : t.proxy_arp) {
    w.prefix(p.range);
    w.u16(p.interface);
    w.u8(static_cast<uint8_t>(p.reason));
    w.source(p.source);
  }

  // Packet filter and connection tracking.
  w.u32(d.max_connections);
  const ConntrackTimeouts& to = d.timeouts;
  for (uint32_t v : {to.tcp_syn_sent, to.tcp_syn_recv, to.tcp_established, to.tcp_fin_wait,
                     to.tcp_close_wait, to.tcp_last_ack, to.tcp_time_wait, to.tcp_close,
                     to.udp_unreplied, to.udp_assured, to.icmp, to.generic}) {
    w.u32(v);
  }
  const FirewallTables& f = t.firewall;
  w.u8(f.abort_on_reconfiguration);
  w.u32(static_cast<uint32_t>(f.records.size()));
  for (const auto& rec : f.records) {
    w.str(rec.name);
    w.u8(rec.initially_active);
    w.u32(rec.deactivation_timeout);
    w.u8(static_cast<uint8_t>(rec.control));
    w.u16(rec.control_index);
  }
  for (const auto& rec : f.records) write_list(w, rec.rules);
  write_list(w, f.incoming);
  write_list(w, f.outgoing);
  write_list(w, f.dmz);

  const NatTables& n = t.nat;
  w.u8(static_cast<uint8_t>(n.mapping));
  w.u16(n.port_range.low);
  w.u16(n.port_range.high);
  w.u32(static_cast<uint32_t>(n.one_to_one.size()));
  for (const auto& o : n.one_to_one) {
    w.prefix(o.real);
    w.prefix(o.virtual_network);
    w.u16(o.interface);
    w.source(o.source);
  }
  w.u32(static_cast<uint32_t>(n.masquerade.size()));
  for (const auto& m : n.masquerade) {
    w.u16(m.interface);
    w.u32(m.address.value);
    write_prefixes(w, m.from);
    w.source(m.source);
  }
  w.u32(static_cast<uint32_t>(n.port_forwarding.size()));
  for (const auto& p : n.port_forwarding) {
    w.u8(p.protocol);
    w.prefix(p.from);
    write_ports(w, {p.from_port, p.incoming_port, p.redirect_port});
    w.u32(p.incoming_ip.value);
    w.u16(p.interface);
    w.u32(p.redirect_ip.value);
    w.u8(p.log);
    w.source(p.source);
  }
  // What the ESP stage needs of the IPsec section (the SAs themselves come from bulwark-iked):
  // the MTU, hub and spoke, and per connection its tunnels' networks and its VPN firewall.
  w.u16(t.ipsec.mtu);
  w.u8(t.ipsec.forward_between_connections);
  w.u32(static_cast<uint32_t>(t.ipsec.connections.size()));
  for (const auto& c : t.ipsec.connections) {
    w.str(c.name);
    w.u32(static_cast<uint32_t>(c.tunnels.size()));
    for (const auto& tunnel : c.tunnels) {
      w.u8(tunnel.transport);
      w.prefix(tunnel.local);
      w.prefix(tunnel.remote);
      w.u8(static_cast<uint8_t>(tunnel.local_nat));
      w.u32(static_cast<uint32_t>(tunnel.local_nat_map.size()));
      for (const auto& m : tunnel.local_nat_map) {
        w.prefix(m.real);
        w.prefix(m.virtual_network);
      }
      w.prefix(tunnel.masquerade_internal);
      w.u8(tunnel.remote_nat.has_value());
      w.prefix(tunnel.remote_nat.value_or(Ipv4Prefix{}));
    }
    write_list(w, c.firewall_incoming);
    write_list(w, c.firewall_outgoing);
  }
  // The user firewall's templates: what a grant names and the rules it unlocks (the users,
  // RADIUS servers and secrets stay in bulwark-control).
  w.u32(static_cast<uint32_t>(t.user_firewall.templates.size()));
  for (const auto& tpl : t.user_firewall.templates) {
    w.str(tpl.name);
    w.u16(tpl.vpn_connection);
    write_list(w, tpl.rules);
  }
  return w.take();
}

std::optional<Tables> decode_dataplane_tables(std::string_view data, std::string& error) {
  Reader r(data);
  Tables t;
  t.generation = r.u64();
  DataplaneSection& d = t.dataplane;
  d.main_lcore = r.u32();
  d.worker_lcores.resize(r.count(4));
  for (auto& l : d.worker_lcores) l = r.u32();
  d.memory_mb = r.u32();
  d.hugepages = r.u8() != 0;
  d.mbufs = r.u32();
  d.file_prefix = r.str();
  d.exception_namespace = r.str();
  d.arp_max_entries = r.u32();
  d.arp_timeout = r.u32();

  uint32_t interfaces = r.count(20);
  for (uint32_t n = 0; n < interfaces && r.ok(); ++n) {
    InterfaceEntry i;
    i.index = static_cast<uint16_t>(n);
    i.name = r.str();
    uint8_t role = r.u8();
    if (role > static_cast<uint8_t>(Role::kDmz)) {
      error = "interface role out of range";
      return std::nullopt;
    }
    i.role = static_cast<Role>(role);
    i.port = r.str();
    bool has_mac = r.u8() != 0;
    MacAddress mac;
    for (auto& b : mac.bytes) b = r.u8();
    if (has_mac) i.mac = mac;
    i.mtu = r.u16();
    i.dhcp = r.u8() != 0;
    uint32_t addresses = r.count(7);
    for (uint32_t a = 0; a < addresses && r.ok(); ++a) {
      IfAddressEntry e;
      e.prefix = r.prefix();
      e.vlan = r.u16();
      if (e.vlan > 4094) {
        error = "VLAN ID out of range";
        return std::nullopt;
      }
      i.addresses.push_back(e);
    }
    t.interfaces.push_back(std::move(i));
  }
  bool has_extern = r.u8() != 0;
  uint32_t extern_address = r.u32();
  if (has_extern) t.extern_address = Ipv4Address{extern_address};
  uint32_t routes = r.count(22);
  for (uint32_t n = 0; n < routes && r.ok(); ++n) {
    RouteEntry e;
    e.network = r.prefix();
    e.gateway.value = r.u32();
    e.interface = r.u16();
    e.vlan = r.u16();
    uint8_t kind = r.u8();
    e.source = r.source();
    if (kind > static_cast<uint8_t>(RouteKind::kDefault) || e.interface >= t.interfaces.size()) {
      error = "route refers to an unknown interface or kind";
      return std::nullopt;
    }
    e.kind = static_cast<RouteKind>(kind);
    t.routes.push_back(std::move(e));
  }
  uint32_t proxies = r.count(16);
  for (uint32_t n = 0; n < proxies && r.ok(); ++n) {
    ProxyArpEntry e;
    e.range = r.prefix();
    e.interface = r.u16();
    uint8_t reason = r.u8();
    e.source = r.source();
    if (reason > static_cast<uint8_t>(ProxyArpReason::kVpnRemoteNat) ||
        e.interface >= t.interfaces.size()) {
      error = "proxy-ARP entry refers to an unknown interface or reason";
      return std::nullopt;
    }
    e.reason = static_cast<ProxyArpReason>(reason);
    t.proxy_arp.push_back(std::move(e));
  }
  d.max_connections = r.u32();
  ConntrackTimeouts& to = d.timeouts;
  for (uint32_t* v : {&to.tcp_syn_sent, &to.tcp_syn_recv, &to.tcp_established, &to.tcp_fin_wait,
                      &to.tcp_close_wait, &to.tcp_last_ack, &to.tcp_time_wait, &to.tcp_close,
                      &to.udp_unreplied, &to.udp_assured, &to.icmp, &to.generic}) {
    *v = r.u32();
  }
  FirewallTables& f = t.firewall;
  f.abort_on_reconfiguration = r.u8() != 0;
  uint32_t records = r.count(16);
  for (uint32_t n = 0; n < records && r.ok(); ++n) {
    RuleRecordEntry rec;
    rec.index = static_cast<uint16_t>(n);
    rec.name = r.str();
    rec.initially_active = r.u8() != 0;
    rec.deactivation_timeout = r.u32();
    uint8_t control = r.u8();
    rec.control_index = r.u16();
    if (control > static_cast<uint8_t>(ControlKind::kVpn)) {
      error = "rule record control out of range";
      return std::nullopt;
    }
    rec.control = static_cast<ControlKind>(control);
    f.records.push_back(std::move(rec));
  }
  for (auto& rec : f.records) {
    if (!r.ok() || !read_list(r, rec.rules, 0, t.interfaces.size())) {
      error = "malformed rule record";
      return std::nullopt;
    }
  }
  for (RuleListEntry* list : {&f.incoming, &f.outgoing, &f.dmz}) {
    if (!read_list(r, *list, f.records.size(), t.interfaces.size())) {
      error = "malformed rule list";
      return std::nullopt;
    }
  }

  NatTables& n = t.nat;
  uint8_t mapping = r.u8();
  n.port_range = {r.u16(), r.u16()};
  if (mapping > static_cast<uint8_t>(MappingBehaviour::kEndpointIndependent) ||
      n.port_range.low > n.port_range.high) {
    error = "malformed NAT settings";
    return std::nullopt;
  }
  n.mapping = static_cast<MappingBehaviour>(mapping);
  uint32_t count = r.count(12);
  for (uint32_t i = 0; i < count && r.ok(); ++i) {
    OneToOneEntry o;
    o.real = r.prefix();
    o.virtual_network = r.prefix();
    o.interface = r.u16();
    o.source = r.source();
    if (o.interface >= t.interfaces.size() || o.real.length != o.virtual_network.length) {
      error = "malformed 1:1 NAT entry";
      return std::nullopt;
    }
    n.one_to_one.push_back(o);
  }
  count = r.count(14);
  for (uint32_t i = 0; i < count && r.ok(); ++i) {
    MasqueradeEntry m;
    m.interface = r.u16();
    m.address.value = r.u32();
    if (!read_prefixes(r, m.from) || m.interface >= t.interfaces.size()) {
      error = "malformed masquerading entry";
      return std::nullopt;
    }
    m.source = r.source();
    n.masquerade.push_back(std::move(m));
  }
  count = r.count(30);
  for (uint32_t i = 0; i < count && r.ok(); ++i) {
    PortForwardEntry p;
    p.protocol = r.u8();
    p.from = r.prefix();
    std::vector<PortRange> ports;
    if (!read_ports(r, ports) || ports.size() != 3) {
      error = "malformed port forwarding entry";
      return std::nullopt;
    }
    p.from_port = ports[0];
    p.incoming_port = ports[1];
    p.redirect_port = ports[2];
    p.incoming_ip.value = r.u32();
    p.interface = r.u16();
    p.redirect_ip.value = r.u32();
    p.log = r.u8() != 0;
    p.source = r.source();
    if (p.interface >= t.interfaces.size()) {
      error = "port forwarding refers to an unknown interface";
      return std::nullopt;
    }
    n.port_forwarding.push_back(std::move(p));
  }
  t.ipsec.mtu = r.u16();
  t.ipsec.forward_between_connections = r.u8() != 0;
  count = r.count(14);
  for (uint32_t i = 0; i < count && r.ok(); ++i) {
    VpnConnectionEntry c;
    c.index = static_cast<uint16_t>(i);
    c.name = r.str();
    uint32_t tunnels = r.count(11);
    for (uint32_t k = 0; k < tunnels && r.ok(); ++k) {
      TunnelEntry tunnel;
      tunnel.transport = r.u8() != 0;
      tunnel.local = r.prefix();
      tunnel.remote = r.prefix();
      uint8_t mode = r.u8();
      if (mode > static_cast<uint8_t>(LocalNat::Mode::kMasquerade)) {
        error = "malformed VPN tunnel";
        return std::nullopt;
      }
      tunnel.local_nat = static_cast<LocalNat::Mode>(mode);
      uint32_t maps = r.count(10);
      for (uint32_t m = 0; m < maps && r.ok(); ++m) {
        OneToOneEntry o;
        o.real = r.prefix();
        o.virtual_network = r.prefix();
        if (o.real.length != o.virtual_network.length) {
          error = "malformed VPN 1:1 NAT";
          return std::nullopt;
        }
        tunnel.local_nat_map.push_back(o);
      }
      tunnel.masquerade_internal = r.prefix();
      bool remote_nat = r.u8() != 0;
      Ipv4Prefix mapped = r.prefix();
      if (remote_nat) tunnel.remote_nat = mapped;
      if (remote_nat && mapped.length != tunnel.remote.length) {
        error = "malformed VPN remote 1:1 NAT";
        return std::nullopt;
      }
      c.tunnels.push_back(std::move(tunnel));
    }
    if (!read_list(r, c.firewall_incoming, 0, t.interfaces.size()) ||
        !read_list(r, c.firewall_outgoing, 0, t.interfaces.size())) {
      error = "malformed VPN firewall";
      return std::nullopt;
    }
    t.ipsec.connections.push_back(std::move(c));
  }
  count = r.count(9);
  for (uint32_t i = 0; i < count && r.ok(); ++i) {
    config::UserTemplateEntry tpl;
    tpl.name = r.str();
    tpl.vpn_connection = r.u16();
    if (!r.ok() || tpl.name.empty() ||
        (tpl.vpn_connection != kNoIndex && tpl.vpn_connection >= t.ipsec.connections.size()) ||
        !read_list(r, tpl.rules, 0, t.interfaces.size())) {
      error = "malformed user firewall template";
      return std::nullopt;
    }
    for (const auto& rule : tpl.rules.rules) {
      if (rule.action != ActionKind::kAccept || !rule.from.empty()) {
        error = "user firewall template rule that does not accept, or has a source";
        return std::nullopt;
      }
    }
    t.user_firewall.templates.push_back(std::move(tpl));
  }
  if (!r.done()) {
    error = "truncated or oversized table message";
    return std::nullopt;
  }
  return t;
}

std::string exception_tap_name(const std::string& interface) {
  return ("bw-" + interface).substr(0, 15);
}

bool send_message(int fd, const Message& m) {
  std::string bytes = encode_message(m);
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

std::optional<Message> receive_message(int fd, std::string& error) {
  MessageReader reader;
  char buffer[65536];
  while (true) {
    if (auto m = reader.next()) return m;
    if (!reader.error().empty()) {
      error = reader.error();
      return std::nullopt;
    }
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = n == 0 ? "connection closed" : std::strerror(errno);
      return std::nullopt;
    }
    reader.feed(std::string_view(buffer, static_cast<size_t>(n)));
  }
}

std::vector<std::string> split_text(std::string_view text, char separator) {
  std::vector<std::string> pieces;
  size_t start = 0;
  while (true) {
    size_t end = text.find(separator, start);
    pieces.emplace_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return pieces;
    start = end + 1;
  }
}

std::vector<std::string> split_fields(std::string_view payload, size_t count) {
  std::vector<std::string> fields = split_text(payload, '\t');
  if (fields.size() < count) fields.resize(count);
  return fields;
}

}  // namespace bulwark::config
