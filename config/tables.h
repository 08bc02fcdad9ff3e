// The compiled table set: what the configuration means, resolved and flattened, in the form both
// processes consume. The control plane builds a Tables from the YAML; the dataplane turns each
// part into its lookup structures (LPM, classifier, NAT maps) and publishes them as one generation.
//
// Everything here is resolved: names became indexes, groups and service names became address and
// port lists, `%extern` became an address, defaults are filled in. Secrets stay references; no
// table ever holds a key or password. Every rule keeps a `SourceRef` back to the YAML it came from,
// so that status output and log lines can name it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/model.h"
#include "config/net_types.h"

namespace bulwark::config {

inline constexpr uint16_t kNoIndex = 0xffff;

// Where a compiled object came from: "file:line:col" and the YAML path.
struct SourceRef {
  std::string position;
  std::string path;
};

struct IfAddressEntry {
  Ipv4Prefix prefix;
  uint16_t vlan = 0;  // 0 = untagged
};

struct InterfaceEntry {
  uint16_t index = 0;
  std::string name;
  Role role = Role::kInternal;
  std::string port;
  std::optional<MacAddress> mac;
  uint16_t mtu = 1500;
  std::vector<IfAddressEntry> addresses;  // with dhcp: the lease's address, or none yet
  bool dhcp = false;  // its DHCP client's answers (UDP 67 → 68) go to the exception path
};

enum class RouteKind : uint8_t { kConnected, kAdditional, kDefault };

struct RouteEntry {
  Ipv4Prefix network;
  Ipv4Address gateway;  // 0.0.0.0 for connected networks
  uint16_t interface = 0;
  uint16_t vlan = 0;
  RouteKind kind = RouteKind::kConnected;
  SourceRef source;
};

// Addresses the box answers ARP for without owning them.
enum class ProxyArpReason : uint8_t { kOneToOneNat, kVpnRemoteNat };
struct ProxyArpEntry {
  Ipv4Prefix range;
  uint16_t interface = 0;
  ProxyArpReason reason = ProxyArpReason::kOneToOneNat;
  SourceRef source;
};

enum class RuleListKind : uint8_t { kIncoming, kOutgoing, kDmz, kRecord, kVpnIn, kVpnOut, kUser };
enum class ActionKind : uint8_t { kAccept, kDrop, kReject, kRecord };

struct RuleEntry {
  uint32_t id = 0;             // unique in the generation; log lines and counters use it
  uint16_t position = 0;       // 1-based place in its list, as the manual numbers rows
  uint16_t interface = kNoIndex;  // kNoIndex = any
  std::optional<uint8_t> protocol;  // nullopt = all
  std::vector<Ipv4Prefix> from;     // empty = any
  std::vector<PortRange> from_ports;  // empty = any
  std::vector<Ipv4Prefix> to;
  std::vector<PortRange> to_ports;
  ActionKind action = ActionKind::kDrop;
  uint16_t record = kNoIndex;  // for ActionKind::kRecord
  bool log = false;
  std::string comment;
  SourceRef source;
};

struct RuleListEntry {
  RuleListKind kind = RuleListKind::kIncoming;
  DefaultPolicy policy = DefaultPolicy::kRules;
  std::vector<RuleEntry> rules;
};

enum class ControlKind : uint8_t { kNone, kSwitch, kVpn };

struct RuleRecordEntry {
  uint16_t index = 0;
  std::string name;
  bool initially_active = true;
  uint32_t deactivation_timeout = 0;  // seconds, 0 = never
  ControlKind control = ControlKind::kNone;
  uint16_t control_index = kNoIndex;  // switch or VPN connection
  RuleListEntry rules;
  SourceRef source;
};

struct SwitchEntry {
  uint16_t index = 0;
  std::string name;
  bool initial_on = false;
};

struct FirewallTables {
  bool abort_on_reconfiguration = false;
  RuleListEntry incoming;
  RuleListEntry outgoing;
  RuleListEntry dmz;
  std::vector<RuleRecordEntry> records;
};

struct UserEntry {
  std::string name;
  FirewallUser::Auth authentication = FirewallUser::Auth::kLocal;
  std::optional<SecretRef> password_hash;
};

struct RadiusEntry {
  Ipv4Address address;
  uint16_t port = 1812;
  SecretRef secret;
  uint32_t timeout = 3;
  bool require_message_authenticator = false;
};

struct UserTemplateEntry {
  std::string name;
  uint32_t timeout = 0;
  bool dynamic_timeout = false;
  uint16_t vpn_connection = kNoIndex;
  std::vector<std::string> users;
  std::optional<Ipv4Address> source_ip;  // nullopt = %authorized_ip
  RuleListEntry rules;
};

struct UserFirewallTables {
  bool enabled = false;
  std::vector<uint16_t> login_interfaces;
  std::vector<UserEntry> users;
  std::vector<RadiusEntry> radius_servers;
  std::vector<UserTemplateEntry> templates;
};

// Control plane only (never encoded for the dataplane): the HTTPS server's settings.
struct ManagementTables {
  uint16_t https_port = 443;
  std::optional<std::string> certificate;  // nullopt: self-signed, generated on first start
  std::optional<SecretRef> private_key;    // set exactly when certificate is
  std::vector<uint16_t> metrics_interfaces;  // /metrics over HTTP on their addresses
  uint16_t metrics_port = 9100;
};

struct OneToOneEntry {
  Ipv4Prefix real;
  Ipv4Prefix virtual_network;
  uint16_t interface = 0;
  SourceRef source;
};

struct MasqueradeEntry {
  uint16_t interface = 0;
  Ipv4Address address;            // the interface's first address
  std::vector<Ipv4Prefix> from;   // never empty: 0.0.0.0/0 for all
  SourceRef source;
};

struct PortForwardEntry {
  uint8_t protocol = kProtoTcp;
  Ipv4Prefix from;                // 0.0.0.0/0 = any
  PortRange from_port;            // any for GRE
  Ipv4Address incoming_ip;
  uint16_t interface = 0;         // the interface that owns incoming_ip
  PortRange incoming_port;        // any for GRE
  Ipv4Address redirect_ip;
  PortRange redirect_port;        // same width as incoming_port; any for GRE
  bool log = false;
  SourceRef source;
};

struct NatTables {
  std::vector<OneToOneEntry> one_to_one;
  std::vector<MasqueradeEntry> masquerade;
  std::vector<PortForwardEntry> port_forwarding;
  MappingBehaviour mapping = MappingBehaviour::kAddressAndPortDependent;
  PortRange port_range{1024, 65535};
};

struct CertificateEntry {
  std::string name;
  std::string path;
  std::optional<SecretRef> password;
};

struct TunnelEntry {
  bool transport = false;
  Ipv4Prefix local;    // as negotiated (virtual with local 1:1 NAT)
  Ipv4Prefix remote;
  LocalNat::Mode local_nat = LocalNat::Mode::kNone;
  std::vector<OneToOneEntry> local_nat_map;  // real <-> virtual inside the tunnel
  Ipv4Prefix masquerade_internal;            // local masquerading: who is masked
  std::optional<Ipv4Prefix> remote_nat;      // remote 1:1 NAT: where the remote appears locally
  std::optional<Ipv4Address> virtual_ip;
  SourceRef source;
};

struct VpnConnectionEntry {
  uint16_t index = 0;
  std::string name;
  bool initially_started = true;
  std::string remote_gateway;  // address, host name or %any
  uint16_t interface = 0;      // where IKE runs (any_interface, or the route to the gateway)
  bool initiate = true;
  uint16_t controlling_switch = kNoIndex;
  uint32_t deactivation_timeout = 0;
  bool tcp_encapsulation = false;
  uint16_t tcp_port = 80;
  bool force_udp_encapsulation = false;
  bool x509 = false;
  std::optional<SecretRef> psk;
  uint16_t local_certificate = kNoIndex;
  uint16_t remote_certificate = kNoIndex;
  uint16_t remote_ca = kNoIndex;
  std::string local_id;
  std::string remote_id;
  IkeSettings ike;
  EspSettings esp;
  std::vector<TunnelEntry> tunnels;
  RuleListEntry firewall_incoming;
  RuleListEntry firewall_outgoing;
  SourceRef source;
};

struct IpsecTables {
  bool forward_between_connections = false;
  bool ike_fragmentation = true;
  uint16_t mtu = 1414;
  bool tcp_listen = false;
  uint16_t tcp_listen_port = 80;
  std::vector<CertificateEntry> machine_certificates;
  std::vector<CertificateEntry> ca_certificates;
  std::vector<CertificateEntry> remote_certificates;
  std::vector<VpnConnectionEntry> connections;
};

struct CifsShareEntry {
  std::string name;
  std::string server;
  std::string share;
  uint16_t port = 445;
  std::string username;
  std::optional<SecretRef> password;
  std::string domain;
};

struct CifsJobEntry {
  std::string name;
  uint16_t share = 0;
  uint16_t checksum_share = 0;
  std::vector<FilenamePattern> patterns;  // ordered, first match decides
  std::string pattern_set;
  Schedule schedule;
  bool enabled = true;
};

struct CifsTables {
  uint16_t integrity_certificate = kNoIndex;
  std::string notify_email;
  std::string subject_prefix;
  CifsSection::Send send = CifsSection::Send::kNever;
  std::vector<CifsShareEntry> shares;
  std::vector<CifsJobEntry> jobs;
};

struct Tables {
  uint64_t generation = 0;
  std::string hostname;
  DataplaneSection dataplane;
  std::optional<SmtpServer> smtp;
  std::vector<SyslogServer> syslog;
  std::string log_file;
  std::vector<InterfaceEntry> interfaces;
  std::optional<Ipv4Address> extern_address;  // %extern
  std::vector<RouteEntry> routes;
  std::vector<ProxyArpEntry> proxy_arp;
  std::vector<SwitchEntry> switches;
  FirewallTables firewall;
  UserFirewallTables user_firewall;
  ManagementTables management;
  NatTables nat;
  IpsecTables ipsec;
  CifsTables cifs;
};

}  // namespace bulwark::config
