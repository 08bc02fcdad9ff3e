#include "dataplane/daemon.h"

#include <rte_cycles.h>

#include <algorithm>

#include <fmt/format.h>

#include "config/json.h"
#include "config/control_server.h"
#include "config/user_grants.h"
#include "dataplane/counters_json.h"
#include "dataplane/metrics.h"
#include "dataplane/eal.h"

namespace bulwark::dataplane {
namespace {

using config::Message;
using config::MessageType;

bool is_pci(const std::string& port) { return port.rfind("net_", 0) != 0; }

std::string mac_text(const uint8_t mac[6]) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", mac[0], mac[1], mac[2], mac[3],
                     mac[4], mac[5]);
}

std::string ip_text(uint32_t ip) { return config::Ipv4Address{ip}.str(); }

}  // namespace

Daemon::~Daemon() {
  dataplane_.reset();
  if (eal_ready_) cleanup_eal();
}

int Daemon::run() {
  config::ControlServer server;
  std::string error;
  if (!server.listen(options_.socket_path, error)) {
    fmt::print(stderr, "bulwark-dataplane: {}\n", error);
    return 1;
  }
  fmt::print("bulwark-dataplane: waiting for tables on {}\n", options_.socket_path);
  std::fflush(stdout);
  server.serve([this](const Message& m) { return handle(m); }, running_);
  if (dataplane_) dataplane_->stop();
  return 0;
}

Message Daemon::handle(const Message& request) {
  switch (request.type) {
    case MessageType::kApply: return apply(request.payload);
    case MessageType::kGetStatus:
      if (request.payload == "rules" || request.payload == "rules-json") {
        if (!dataplane_) return {MessageType::kError, "no configuration yet"};
        return {MessageType::kStatus, dataplane_->rule_counters(request.payload == "rules-json")};
      }
      if (request.payload == "prometheus") {
        if (!dataplane_) return {MessageType::kStatus, ""};
        return {MessageType::kStatus, prometheus_metrics(dataplane_->generation_number(), dataplane_->counters(),
                                                         dataplane_->port_counters(), dataplane_->user_firewall_status(),
                                                         dataplane_->ipsec_usage())};
      }
      return status(request.payload != "text");
    case MessageType::kGetNat:
      if (!dataplane_) return {MessageType::kError, "no configuration yet"};
      return {MessageType::kNat, dataplane_->nat_status(request.payload == "json")};
    case MessageType::kConntrack:
    case MessageType::kFlush: return connections(request);
    case MessageType::kGetNeighbours: return neighbours(request.payload != "text");
    case MessageType::kGetLog: {
      std::string lines;
      if (dataplane_) {
        for (const auto& line : dataplane_->drain_log()) lines += line + "\n";
      }
      return {MessageType::kLog, lines};
    }
    case MessageType::kIpsec: {
      std::string error;
      bool ok = ipsec_.apply(request.payload, error);
      // What applied before a malformed line takes effect too; an empty update is a heartbeat.
      if (!request.payload.empty()) publish_ipsec();
      if (!ok) return {MessageType::kError, error};
      return {MessageType::kApplied, fmt::format("{} SAs, {} policies", ipsec_.sa_count(), ipsec_.policy_count())};
    }
    case MessageType::kSa: {
      if (request.payload == "usage") {
        return {MessageType::kApplied, config::encode_usage(dataplane_ ? dataplane_->ipsec_usage() : config::IpsecUsageReport{})};
      }
      config::IpsecUsageMap usage;
      if (dataplane_) usage = dataplane_->ipsec_usage().sas;
      return {MessageType::kApplied, ipsec_.list(request.payload == "json", &usage)};
    }
    case MessageType::kUserGrants: return user_grants(request.payload);
    case MessageType::kUserActivity:
      return {MessageType::kApplied,
              config::encode_session_activity(dataplane_ ? dataplane_->user_activity()
                                                         : std::vector<config::SessionActivity>{})};
    case MessageType::kShutdown:
      running_ = false;
      return {MessageType::kApplied, "bye"};
    default:
      return {MessageType::kError, fmt::format("unexpected request type {}", static_cast<int>(request.type))};
  }
}

bool Daemon::start(const config::Tables& tables, std::string& error) {
  const config::DataplaneSection& d = tables.dataplane;
  std::vector<std::string> eal;
  // Lcore N runs on CPU N, unless the operator maps lcores to CPUs with EAL's own --lcores
  // (more lcores than CPUs: small machines, tests); EAL takes only one of the two.
  bool lcores_mapped = std::any_of(options_.extra_eal_args.begin(), options_.extra_eal_args.end(),
                                   [](const std::string& a) { return a.rfind("--lcores", 0) == 0; });
  if (!lcores_mapped) {
    std::string lcores = fmt::format("{}", d.main_lcore);
    for (uint32_t l : d.worker_lcores) lcores += fmt::format(",{}", l);
    eal.insert(eal.end(), {"-l", lcores});
  }
  eal.insert(eal.end(), {fmt::format("--main-lcore={}", d.main_lcore),
                         "-m", fmt::format("{}", d.memory_mb), fmt::format("--file-prefix={}", d.file_prefix),
                         "--no-telemetry", "--log-level=error"});
  if (!d.hugepages) eal.push_back("--no-huge");
  bool any_pci = false;
  for (const auto& i : tables.interfaces) {
    if (is_pci(i.port)) {
      any_pci = true;
      eal.push_back("-a");
      eal.push_back(i.port);
    }
  }
  if (!any_pci) eal.push_back("--no-pci");
  eal.insert(eal.end(), options_.extra_eal_args.begin(), options_.extra_eal_args.end());
  if (!init_eal(eal, error)) return false;
  eal_ready_ = true;

  DataplaneSettings settings;
  settings.workers = static_cast<uint16_t>(d.worker_lcores.size());
  settings.mbufs = d.mbufs;
  settings.arp_max_entries = d.arp_max_entries;
  settings.arp_timeout_seconds = d.arp_timeout;
  settings.max_connections = d.max_connections;
  for (const auto& i : tables.interfaces) {
    PortPlan plan;
    plan.name = i.name;
    plan.device = i.port;
    settings.mtus.push_back(i.mtu);
    settings.macs.push_back(i.mac ? i.mac->bytes.data() : nullptr);
    if (options_.exception_path) {
      plan.punt_device = fmt::format("net_tap_bw{},iface={}", i.index, config::exception_tap_name(i.name));
      if (i.mac) plan.punt_device += ",mac=" + i.mac->str();
    }
    settings.ports.push_back(plan);
    boot_ports_.push_back(i.port);
  }
  dataplane_ = Dataplane::create(settings, error);
  if (!dataplane_) return false;
  if (!dataplane_->apply(tables, error)) return false;
  publish_ipsec();
  std::vector<unsigned> lcore_ids(d.worker_lcores.begin(), d.worker_lcores.end());
  return dataplane_->launch(lcore_ids, error);
}

void Daemon::publish_ipsec() {
  if (!dataplane_) return;
  std::vector<std::string> errors;
  dataplane_->apply_ipsec(ipsec_, errors);
  for (const auto& e : errors) {
    fmt::print(stderr, "bulwark-dataplane: IPsec: {} (its traffic is dropped)\n", e);
  }
}

Message Daemon::apply(const std::string& payload) {
  std::string error;
  auto tables = config::decode_dataplane_tables(payload, error);
  if (!tables) return {MessageType::kError, "refused: " + error};
  if (!dataplane_) {
    if (eal_ready_) return {MessageType::kError, "the dataplane failed to start; restart it"};
    if (!start(*tables, error)) {
      dataplane_.reset();
      return {MessageType::kError, "cannot start: " + error};
    }
    return {MessageType::kApplied, fmt::format("generation {}", tables->generation)};
  }
  std::vector<std::string> ports;
  for (const auto& i : tables->interfaces) ports.push_back(i.port);
  if (ports != boot_ports_) {
    return {MessageType::kError,
            "refused: the interfaces or their ports changed; restart bulwark-dataplane to use "
            "them (the running generation stays)"};
  }
  if (!dataplane_->apply(*tables, error)) return {MessageType::kError, "refused: " + error};
  return {MessageType::kApplied, fmt::format("generation {}", tables->generation)};
}

Message Daemon::user_grants(const std::string& payload) {
  std::string error;
  auto grants = config::decode_user_grants(payload, error);
  if (!grants) return {MessageType::kError, "refused: " + error};
  if (!dataplane_) return {MessageType::kError, "no configuration yet"};
  if (!dataplane_->apply_user_grants(*grants, error)) return {MessageType::kError, "refused: " + error};
  Dataplane::UserFirewallStatus s = dataplane_->user_firewall_status();
  return {MessageType::kApplied, fmt::format("grants {} sessions {}", s.grants, s.sessions)};
}

Message Daemon::connections(const Message& request) {
  if (!dataplane_) return {MessageType::kError, "no configuration yet"};
  std::vector<std::string> fields = config::split_fields(request.payload, 4);
  ConnectionFilter filter;
  try {
    if (!fields[1].empty()) filter.protocol = static_cast<uint8_t>(std::stoul(fields[1]));
    if (!fields[2].empty()) {
      auto address = config::Ipv4Address::parse(fields[2]);
      if (!address) return {MessageType::kError, fmt::format("'{}' is not an address", fields[2])};
      filter.address = address->value;
    }
    if (!fields[3].empty()) filter.port = static_cast<uint16_t>(std::stoul(fields[3]));
  } catch (const std::exception&) {
    return {MessageType::kError, "malformed connection filter"};
  }
  if (request.type == MessageType::kFlush) {
    return {MessageType::kApplied, fmt::format("flushed {} connections", dataplane_->flush_connections(filter))};
  }
  return {MessageType::kConnections, dataplane_->list_connections(filter, fields[0] == "json")};
}

Message Daemon::status(bool json) const {
  if (!dataplane_) {
    return {MessageType::kStatus, json ? "{\"generation\": 0, \"running\": false}"
                                       : "waiting for the first configuration from bulwark-control\n"};
  }
  if (!json) {
    std::string out = fmt::format("generation {}\n\nports:\n", dataplane_->generation_number());
    for (const auto& p : dataplane_->port_counters()) {
      out += fmt::format("  {:<12} rx {:>12}  tx {:>12}  rx errors {}  tx errors {}  missed {}\n", p.name,
                         p.rx_packets, p.tx_packets, p.rx_errors, p.tx_errors, p.rx_missed);
    }
    CounterSnapshot c = dataplane_->counters();
    Dataplane::UserFirewallStatus u = dataplane_->user_firewall_status();
    out += fmt::format("\nuser firewall: {} sessions, {} grants, {} open connections, {} admitted, {} ended with their session\n",
                       u.sessions, u.grants, u.connections,
                       c.events[static_cast<size_t>(Event::user_firewall_accepted)],
                       c.dropped[static_cast<size_t>(DropReason::user_session_ended)]);
    out += "\nframes:\n" + counters_text(c) + "\nstages:\n";
    for (size_t i = 0; i < kStageCount; ++i) {
      out += fmt::format("  {:<10} {:>12}\n", stage_name(static_cast<Stage>(i)), c.stages[i]);
    }
    return {MessageType::kStatus, out};
  }
  const CounterSnapshot c = dataplane_->counters();
  const Dataplane::UserFirewallStatus u = dataplane_->user_firewall_status();
  std::string out = fmt::format("{{\"generation\": {}, \"running\": true, \"counters\": {{{}}}, "
                                "\"user_firewall\": {{\"sessions\": {}, \"grants\": {}, \"connections\": {}, "
                                "\"user_firewall_accepted\": {}, \"user_session_ended\": {}}}, \"ports\": [",
                                dataplane_->generation_number(), counters_json_members(c), u.sessions, u.grants,
                                u.connections, c.events[static_cast<size_t>(Event::user_firewall_accepted)],
                                c.dropped[static_cast<size_t>(DropReason::user_session_ended)]);
  auto ports = dataplane_->port_counters();
  for (size_t i = 0; i < ports.size(); ++i) {
    const auto& p = ports[i];
    out += fmt::format("{}{{\"name\": {}, \"rx_packets\": {}, \"tx_packets\": {}, \"rx_errors\": {}, "
                       "\"tx_errors\": {}, \"rx_missed\": {}}}",
                       i ? ", " : "", config::json_string(p.name), p.rx_packets, p.tx_packets,
                       p.rx_errors, p.tx_errors, p.rx_missed);
  }
  return {MessageType::kStatus, out + "]}"};
}

Message Daemon::neighbours(bool json) const {
  if (!dataplane_) return {MessageType::kNeighbours, json ? "[]" : ""};
  uint64_t now = rte_get_tsc_cycles();
  uint64_t hz = rte_get_tsc_hz();
  if (!json) {
    std::string out = fmt::format("{:<16} {:<18} {}\n", "address", "MAC", "age (s)");
    for (const auto& e : dataplane_->neighbours(now)) {
      out += fmt::format("{:<16} {:<18} {}\n", ip_text(e.ip), mac_text(e.mac), (now - e.updated) / hz);
    }
    return {MessageType::kNeighbours, out};
  }
  std::string out = "[";
  bool first = true;
  for (const auto& e : dataplane_->neighbours(now)) {
    out += fmt::format("{}{{\"ip\": \"{}\", \"mac\": \"{}\", \"age_seconds\": {}}}", first ? "" : ", ",
                       ip_text(e.ip), mac_text(e.mac), (now - e.updated) / hz);
    first = false;
  }
  return {MessageType::kNeighbours, out + "]"};
}

}  // namespace bulwark::dataplane
