// The configuration as the user wrote it, after parsing: typed values, each object remembering
// where it and each of its keys came from (`Located`), so that validation can point at the exact
// value that is wrong. The compiler turns this model into the flat tables of tables.h; nothing
// outside config/ uses the model.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "config/diagnostics.h"
#include "config/net_types.h"

namespace bulwark::config {

// Base of every model object: the origin of its mapping and of each key in it.
struct Located {
  Origin origin;
  std::map<std::string, Origin, std::less<>> keys;

  // The origin of `key`'s value when it was given, else of the object itself.
  const Origin& at(std::string_view key) const {
    auto it = keys.find(key);
    return it == keys.end() ? origin : it->second;
  }
  bool has(std::string_view key) const { return keys.find(key) != keys.end(); }
};

// A secret is never in the configuration itself, only where to read it from.
struct SecretRef {
  enum class Kind { kFile, kEnv } kind = Kind::kEnv;
  std::string name;  // path or variable name
  std::string str() const { return (kind == Kind::kFile ? "file:" : "env:") + name; }
};

// One element of a rule's address or port column: a literal or the name of a group.
struct AddressTerm {
  std::variant<Ipv4Prefix, std::string> value;  // prefix, or IP group name
  Origin origin;
};
struct PortTerm {
  std::variant<PortRange, std::string> value;  // range, or port group name
  Origin origin;
};

// --- system and dataplane ------------------------------------------------------------------

struct SyslogServer : Located {
  Ipv4Address address;
  uint16_t port = 514;
};

struct SmtpServer : Located {
  std::string server;
  uint16_t port = 25;
  std::string from;
  std::string username;
  std::optional<SecretRef> password;
  bool starttls = true;
};

struct SystemSection : Located {
  std::string hostname = "bulwark";
  std::vector<SyslogServer> syslog;
  std::string log_file = "/var/log/bulwark/bulwark.log";
  std::optional<SmtpServer> smtp;
};

struct ConntrackTimeouts : Located {
  uint32_t tcp_syn_sent = 120;
  uint32_t tcp_syn_recv = 60;
  uint32_t tcp_established = 432000;
  uint32_t tcp_fin_wait = 120;
  uint32_t tcp_close_wait = 60;
  uint32_t tcp_last_ack = 30;
  uint32_t tcp_time_wait = 120;
  uint32_t tcp_close = 10;
  uint32_t udp_unreplied = 30;
  uint32_t udp_assured = 180;
  uint32_t icmp = 30;
  uint32_t generic = 600;
};

struct DataplaneSection : Located {
  uint32_t main_lcore = 0;
  std::vector<uint32_t> worker_lcores{1};
  uint32_t memory_mb = 512;
  bool hugepages = true;
  uint32_t mbufs = 16383;
  std::string file_prefix = "bulwark";
  std::string control_socket = "/run/bulwark/dataplane.sock";
  std::string exception_namespace = "bulwark-host";
  uint32_t max_connections = 1048576;
  ConntrackTimeouts timeouts;
  uint32_t arp_max_entries = 4096;
  uint32_t arp_timeout = 300;
};

// --- interfaces and routing ----------------------------------------------------------------

enum class Role { kInternal, kExternal, kDmz };

struct InterfaceAddress : Located {
  Ipv4Prefix prefix;              // address of the box with the prefix of its network
  std::optional<uint16_t> vlan;   // 802.1Q VLAN ID
};

struct Route : Located {
  Ipv4Prefix network;
  Ipv4Address gateway;
  std::string comment;
};

struct Interface : Located {
  std::string name;
  Role role = Role::kInternal;
  std::string port;
  std::optional<MacAddress> mac;
  uint16_t mtu = 1500;
  std::vector<InterfaceAddress> addresses;  // with dhcp: the lease's, once there is one
  std::vector<Route> routes;
  bool dhcp = false;  // the address comes from a DHCP server (config/dhcp_lease.h)
  std::string comment;
};

struct Switch : Located {
  std::string name;
  bool initial_on = false;
  std::string comment;
};

// --- packet filter -------------------------------------------------------------------------

// Protocol number, or nullopt for "all".
using Protocol = std::optional<uint8_t>;
inline constexpr uint8_t kProtoIcmp = 1;
inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoUdp = 17;
inline constexpr uint8_t kProtoGre = 47;
inline constexpr uint8_t kProtoEsp = 50;
inline constexpr uint8_t kProtoAh = 51;

enum class Verdict { kAccept, kDrop, kReject };

struct Rule : Located {
  std::optional<std::string> interface;
  Protocol protocol;
  std::vector<AddressTerm> from;  // empty = any
  std::vector<PortTerm> from_port;
  std::vector<AddressTerm> to;
  std::vector<PortTerm> to_port;
  // A verdict, or the name of a rule record.
  std::variant<Verdict, std::string> action = Verdict::kDrop;
  bool log = false;
  std::string comment;
};

enum class DefaultPolicy { kAccept, kDrop, kRules };

struct RuleList : Located {
  DefaultPolicy policy = DefaultPolicy::kRules;
  std::vector<Rule> rules;
};

struct Control : Located {
  enum class Kind { kSwitch, kVpn } kind = Kind::kSwitch;
  std::string name;
};

struct RuleRecord : Located {
  std::string name;
  bool initially_active = true;
  uint32_t deactivation_timeout = 0;
  std::optional<Control> controlled_by;
  std::vector<Rule> rules;
  std::string comment;
};

struct NamedGroup : Located {
  std::string name;
  std::vector<AddressTerm> addresses;  // for IP groups
  std::vector<PortTerm> ports;         // for port groups
};

struct FirewallSection : Located {
  bool abort_on_reconfiguration = false;
  RuleList incoming;
  RuleList outgoing;
  RuleList dmz;
  std::vector<NamedGroup> ip_groups;
  std::vector<NamedGroup> port_groups;
  std::vector<RuleRecord> rule_records;
};

// --- user firewall -------------------------------------------------------------------------

struct FirewallUser : Located {
  std::string name;
  enum class Auth { kLocal, kRadius } authentication = Auth::kLocal;
  std::optional<SecretRef> password_hash;
};

struct RadiusServer : Located {
  Ipv4Address address;
  uint16_t port = 1812;
  std::optional<SecretRef> secret;
  uint32_t timeout = 3;
  bool require_message_authenticator = false;  // refuse answers without one (BlastRADIUS)
};

struct UserTemplate : Located {
  std::string name;
  uint32_t timeout = 28800;
  bool dynamic_timeout = false;
  std::optional<std::string> vpn_connection;
  std::vector<std::string> users;
  std::vector<Origin> user_origins;
  std::optional<Ipv4Address> source_ip;  // nullopt = %authorized_ip
  std::vector<Rule> rules;
  std::string comment;
};

struct UserFirewallSection : Located {
  bool enabled = false;
  std::vector<std::string> login_interfaces;
  std::vector<Origin> login_interface_origins;
  std::vector<FirewallUser> users;
  std::vector<RadiusServer> radius_servers;
  std::vector<UserTemplate> templates;
};

// --- management ----------------------------------------------------------------------------

// The box's HTTPS server (login portal now; management API and metrics later). Without a
// certificate the box generates a self-signed one on first start.
struct HttpsSettings : Located {
  uint16_t port = 443;
  std::optional<std::string> certificate;  // PEM file
  std::optional<SecretRef> private_key;    // PEM, by reference only
};

// Prometheus metrics over plain HTTP (docs/metrics.md).
struct MetricsSettings : Located {
  std::vector<std::string> interfaces;  // on every address of these; empty: no listener
  std::vector<Origin> interface_origins;
  uint16_t port = 9100;
};

struct ManagementSection : Located {
  HttpsSettings https;
  MetricsSettings metrics;
};

// --- NAT -----------------------------------------------------------------------------------

struct OneToOneNat : Located {
  Ipv4Address real;
  Ipv4Address virtual_address;
  uint8_t prefix = 32;
  std::string interface;
  std::string comment;
};

struct Masquerade : Located {
  std::string interface;
  std::vector<Ipv4Prefix> from;  // never empty; 0.0.0.0/0 = all
  std::string comment;
};

struct PortForward : Located {
  uint8_t protocol = kProtoTcp;
  Ipv4Prefix from_ip;  // 0.0.0.0/0 = any
  std::optional<PortRange> from_port;
  std::optional<Ipv4Address> incoming_ip;  // nullopt = %extern
  std::optional<PortRange> incoming_port;
  Ipv4Address redirect_ip;
  std::optional<PortRange> redirect_port;
  bool log = false;
  std::string comment;
};

enum class MappingBehaviour { kAddressAndPortDependent, kEndpointIndependent };

struct NatSection : Located {
  std::vector<OneToOneNat> one_to_one;
  std::vector<Masquerade> masquerade;
  std::vector<PortForward> port_forwarding;
  MappingBehaviour mapping = MappingBehaviour::kAddressAndPortDependent;
  PortRange port_range{1024, 65535};
};

// --- IPsec ---------------------------------------------------------------------------------

struct Certificate : Located {
  std::string name;
  std::string path;                  // PKCS#12 for machine certificates, PEM otherwise
  std::optional<SecretRef> password;  // machine certificates only
};

struct VpnNatMapping : Located {
  Ipv4Address real;
  Ipv4Address virtual_address;
  uint8_t prefix = 32;
  std::string comment;
};

struct LocalNat : Located {
  enum class Mode { kNone, kOneToOne, kMasquerade } mode = Mode::kNone;
  std::vector<VpnNatMapping> mappings;
  Ipv4Prefix internal_network;
};

struct RemoteNat : Located {
  bool one_to_one = false;
  Ipv4Address address;
};

struct Tunnel : Located {
  bool transport = false;
  bool enabled = true;
  std::optional<Ipv4Prefix> local;
  std::optional<Ipv4Prefix> remote;
  LocalNat local_nat;
  RemoteNat remote_nat;
  std::optional<Ipv4Address> virtual_ip;
  std::optional<Ipv4Address> client;  // the host the virtual IP stands for (manual 12.4)
  std::string comment;
};

struct IkeSettings : Located {
  uint8_t version = 2;
  bool aggressive = false;
  std::vector<std::string> proposals{"aes256-sha256-modp2048"};
  uint32_t lifetime = 10800;
  uint32_t rekey_margin = 540;
  uint32_t rekey_fuzz = 100;
  bool dpd = true;
  uint32_t dpd_delay = 30;
  uint32_t dpd_timeout = 150;
};

struct EspSettings : Located {
  std::vector<std::string> proposals{"aes128gcm16-modp2048"};
  uint32_t lifetime = 3600;
  uint32_t rekey_margin = 540;
  bool pfs = true;
  uint32_t replay_window = 32;
};

struct VpnAuthentication : Located {
  bool x509 = false;
  std::optional<SecretRef> psk;
  std::string local_certificate;
  std::string remote_certificate;
  std::string remote_ca;
  std::string local_id;
  std::string remote_id;
};

struct VpnConnection : Located {
  std::string name;
  bool enabled = true;
  bool initially_started = true;
  std::string remote_gateway;  // address, host name or "%any"
  std::string any_interface;
  std::optional<bool> initiate;  // nullopt: derived from remote_gateway (initiates())
  // Does the box start the negotiation? As given, else unless the peer is %any.
  bool initiates() const { return initiate.value_or(remote_gateway != "%any"); }
  std::optional<Control> controlled_by;
  uint32_t deactivation_timeout = 0;
  bool tcp_encapsulation = false;
  uint16_t tcp_port = 80;
  bool force_udp_encapsulation = false;
  VpnAuthentication authentication;
  IkeSettings ike;
  EspSettings esp;
  std::vector<Tunnel> tunnels;
  RuleList firewall_incoming;
  RuleList firewall_outgoing;
  std::string comment;
};

struct IpsecSection : Located {
  bool forward_between_connections = false;
  bool ike_fragmentation = true;
  uint16_t mtu = 1414;
  bool tcp_listen = false;
  uint16_t tcp_listen_port = 80;
  std::vector<Certificate> machine_certificates;
  std::vector<Certificate> ca_certificates;
  std::vector<Certificate> remote_certificates;
  std::vector<VpnConnection> connections;
};

// --- CIFS integrity monitoring -------------------------------------------------------------

struct CifsShare : Located {
  std::string name;
  std::string server;
  std::string share;
  uint16_t port = 445;
  std::string username;
  std::optional<SecretRef> password;
  std::string domain;
};

struct FilenamePattern : Located {
  std::string pattern;
  bool include = true;
};

struct PatternSet : Located {
  std::string name;
  std::vector<FilenamePattern> patterns;
};

struct Schedule : Located {
  enum class Kind { kManual, kDaily, kWeekly, kInterval } kind = Kind::kManual;
  uint8_t weekday = 0;  // 0 = Monday
  uint8_t hour = 0;
  uint8_t minute = 0;
  uint32_t interval = 0;  // seconds
};

struct CheckSequence : Located {
  std::string name;
  std::string share;
  std::string checksum_share;
  std::string patterns;
  Schedule schedule;
  bool enabled = true;
};

struct CifsSection : Located {
  std::string integrity_certificate;
  std::string notify_email;
  std::string subject_prefix = "[bulwark CIFS]";
  enum class Send { kNever, kAlways, kDeviations } send = Send::kNever;
  std::vector<CifsShare> shares;
  std::vector<PatternSet> pattern_sets;
  std::vector<CheckSequence> checks;
};

// --- the whole configuration ---------------------------------------------------------------

struct Model {
  std::vector<std::string> files;
  SystemSection system;
  DataplaneSection dataplane;
  std::vector<Interface> interfaces;
  bool interfaces_complete = true;  // false when an entry could not be read
  std::optional<Ipv4Address> default_gateway;
  Origin default_gateway_origin;
  bool default_gateway_from_lease = false;  // the router of a DHCP lease (dhcp_lease.h)
  std::vector<Switch> switches;
  NatSection nat;
  FirewallSection firewall;
  UserFirewallSection user_firewall;
  ManagementSection management;
  IpsecSection ipsec;
  CifsSection cifs;
};

}  // namespace bulwark::config
