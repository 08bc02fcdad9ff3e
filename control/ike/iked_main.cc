// bulwark-iked: the IKE daemon. libcharon (strongSwan) embedded with Bulwark's kernel_ipsec
// backend: charon negotiates IKEv1/IKEv2 SAs, the backend keeps the SA and policy databases
// (sa_database.h) and runs their lifetimes; the VPN connections of the configuration are loaded
// over VICI (vici_config.h), whose socket stays open for swanctl.
//
// A process of its own rather than a part of bulwark-control: libcharon brings its own threads,
// global library state and plugin loader, and a fault in IKE processing must not take down the
// configuration and integrity monitoring; bulwark-control (or the service manager) restarts it.
#include <openssl/crypto.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "config/config.h"
#include "config/control_server.h"
#include "control/ike/charon_shim.h"
#include "control/ike/notifier.h"
#include "control/ike/publisher.h"
#include "control/ike/activation.h"
#include "control/ike/retry.h"
#include "control/ike/sa_database.h"
#include "control/ike/vici_client.h"
#include "control/ike/vici_config.h"
#include "control/ike/vpn_status.h"

namespace {

namespace po = boost::program_options;
using bulwark::control::ike::SaDatabase;
using bulwark::control::ike::selector_text;

// The plugins charon loads: crypto through OpenSSL, credentials, kernel-netlink for addresses
// and routes (its IPsec part is replaced by ours), the IKE sockets, and VICI.
constexpr const char* kPlugins =
    "random nonce openssl x509 revocation constraints pubkey pkcs1 pkcs7 pkcs8 pkcs12 pem kdf "
    "kernel-netlink socket-default vici";

SaDatabase g_database;
std::unique_ptr<bulwark::control::ike::DataplanePublisher> g_publisher;  // with --dataplane-socket

void publish(const std::string& lines) {
  if (g_publisher && !lines.empty()) g_publisher->publish(lines);
}

void publish_policy(const bw_policy_t& p, int references) {
  if (references < 0) return;
  if (auto record = bulwark::control::ike::to_record(p, references)) publish(bulwark::config::encode_policy(*record));
}
bulwark::control::ike::VpnStatus g_status;
std::unique_ptr<bulwark::control::ike::ControlNotifier> g_notifier;  // with --control-socket

void event(const std::string& line) {
  fmt::print("{}\n", line);
  std::fflush(stdout);
}

extern "C" int on_sa_add(void*, const bw_sa_t* sa) {
  event(fmt::format("SA installed: {} SPI {:08x} {} {} -> {} reqid {} {}{}{}", sa->protocol == 50 ? "ESP" : "AH",
                    sa->spi, sa->inbound ? "in" : "out", sa->src, sa->dst, sa->reqid, sa->enc_name,
                    sa->int_alg ? std::string("/") + sa->int_name : "", sa->encap ? " (UDP encapsulated)" : ""));
  int rc = g_database.add(*sa);
  if (auto record = bulwark::control::ike::to_record(*sa)) {
    std::string line = bulwark::config::encode_sa(*record);
    publish(line);
    OPENSSL_cleanse(line.data(), line.size());
    OPENSSL_cleanse(record->enc_key.data(), record->enc_key.size());
    OPENSSL_cleanse(record->int_key.data(), record->int_key.size());
  }
  return rc;
}

extern "C" int on_sa_update(void*, uint32_t spi, uint8_t protocol, const char* old_dst, const char* new_src,
                            const char* new_dst, uint16_t src_port, uint16_t dst_port, int encap) {
  event(fmt::format("SA updated: SPI {:08x} now {} -> {}{}", spi, new_src, new_dst, encap ? " (UDP encapsulated)" : ""));
  int rc = g_database.update(spi, protocol, old_dst, new_src, new_dst, src_port, dst_port, encap);
  auto old = bulwark::config::Ipv4Address::parse(old_dst);
  if (rc == 0 && old) {
    // The SA under its new addresses: the old record goes, the new one comes with the snapshot
    // line of this SA (keys included).
    publish(bulwark::config::encode_sa_delete(spi, protocol, *old) + g_database.snapshot_of(spi, protocol, new_dst));
  }
  return rc;
}

extern "C" int on_sa_query(void*, uint32_t spi, uint8_t protocol, const char* dst, uint64_t* bytes, uint64_t* packets,
                           time_t* last_use) {
  return g_database.query(spi, protocol, dst, *bytes, *packets, *last_use);
}

extern "C" int on_sa_delete(void*, uint32_t spi, uint8_t protocol, const char* dst) {
  event(fmt::format("SA deleted: SPI {:08x} to {}", spi, dst));
  if (auto address = bulwark::config::Ipv4Address::parse(dst)) {
    publish(bulwark::config::encode_sa_delete(spi, protocol, *address));
  }
  return g_database.remove(spi, protocol, dst);
}

extern "C" int on_policy_add(void*, const bw_policy_t* p) {
  int references = g_database.add_policy(*p);
  publish_policy(*p, references);
  return 0;
}

extern "C" int on_policy_delete(void*, const bw_policy_t* p) {
  // During a rekey the old SA's policy goes while the new SA's stays: the dataplane must keep
  // the one that points at the new SA.
  bw_policy_t remaining = *p;
  int references = g_database.remove_policy(*p, remaining);
  publish_policy(references > 0 ? remaining : *p, references);
  return references < 0 ? -1 : 0;
}

extern "C" int on_policy_query(void*, const bw_policy_t* p, time_t* use_time) {
  *use_time = 0;
  return g_database.has_policy(*p) ? 0 : -1;
}

extern "C" void on_flush(void*, int sas, int policies) {
  g_database.flush(sas, policies);
  publish("flush\n" + g_database.snapshot());
}

extern "C" void on_event(void*, const char* connection, int kind, const char* detail, uint32_t reqid) {
  bool was_up = !g_status.reqids(connection).empty();
  g_status.on_event(connection, kind, detail, reqid);
  bool is_up = !g_status.reqids(connection).empty();
  if (g_notifier && was_up != is_up) g_notifier->connection_state(connection, is_up);
  switch (kind) {
    case BW_IKE_UP: event(fmt::format("VPN {}: IKE SA up", connection)); break;
    case BW_IKE_DOWN: event(fmt::format("VPN {}: IKE SA down", connection)); break;
    case BW_CHILD_UP: event(fmt::format("VPN {}: CHILD SA {} up", connection, detail)); break;
    case BW_CHILD_DOWN: event(fmt::format("VPN {}: CHILD SA {} down", connection, detail)); break;
    default: event(fmt::format("VPN {}: {}", connection, bulwark::control::ike::explain(kind, detail))); break;
  }
}

std::string settings(const std::string& vici_socket, uint16_t port, uint16_t nat_port, int log_level,
                     double retransmit_timeout) {
  return fmt::format(R"(charon {{
  port = {}
  port_nat_t = {}
  install_routes = no
  install_virtual_ip = no
  retransmit_tries = 3
  retransmit_timeout = {}
  # Half-open IKE_SAs allowed per peer address (strongSwan's default is 5): a hub may see many
  # sites behind one NAT address come up at once. Floods from spoofed addresses are still met
  # with cookies (cookie_threshold).
  block_threshold = 64
  plugins {{
    vici {{
      socket = unix://{}
    }}
  }}
  filelog {{
    stderr {{
      default = {}
      time_format = %H:%M:%S
    }}
  }}
}}
)",
                     port, nat_port, retransmit_timeout, vici_socket, log_level);
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description options(
      "usage: bulwark-iked [OPTIONS] [CONFIG…]\n\n"
      "The IKE daemon: strongSwan's libcharon with Bulwark's kernel_ipsec backend. Loads the VPN\n"
      "connections of the configuration over VICI (SIGHUP re-reads it); `bulwark sa` lists the\n"
      "negotiated SAs and policies; swanctl works against --vici.\n\noptions");
  options.add_options()("help,h", "show this help")(
      "run-dir", po::value<std::string>()->default_value("/run/bulwark/iked"), "settings file and sockets")(
      "socket", po::value<std::string>(), "control socket (default RUN-DIR/iked.sock)")(
      "vici", po::value<std::string>(), "VICI socket path (default RUN-DIR/charon.vici)")(
      "dataplane-socket", po::value<std::string>(), "hand every SA and policy to bulwark-dataplane at this socket")(
      "control-socket", po::value<std::string>(), "tell bulwark-control at this socket when VPN connections go up or down")(
      "port", po::value<uint16_t>()->default_value(500), "IKE port")(
      "nat-port", po::value<uint16_t>()->default_value(4500), "IKE NAT-T port")(
      "retransmit-timeout", po::value<double>()->default_value(4.0),
      "seconds before the first IKE retransmission (3 follow, each 1.8 times longer: a silent peer is given up after about 47 s by default)")(
      "log-level", po::value<int>()->default_value(1), "charon's log level (0 quiet … 2 detailed; keys are never logged below 4, and 4 is refused)")(
      "dhcp-leases", po::value<std::string>(), "the DHCP leases of the box's dhcp interfaces (written by bulwark-control), read with the configuration")(
      "config", po::value<std::vector<std::string>>()->composing(), "configuration file");
  po::positional_options_description positional;
  positional.add("config", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    fmt::print(stderr, "bulwark-iked: {}\n", e.what());
    return 2;
  }
  if (vm.count("help")) {
    std::cout << options << "\n";
    return 0;
  }
  std::string run_dir = vm["run-dir"].as<std::string>();
  std::string socket = vm.count("socket") ? vm["socket"].as<std::string>() : run_dir + "/iked.sock";
  std::string vici = vm.count("vici") ? vm["vici"].as<std::string>() : run_dir + "/charon.vici";
  int log_level = std::min(vm["log-level"].as<int>(), 3);
  std::vector<std::string> configs;
  if (vm.count("config")) configs = vm["config"].as<std::vector<std::string>>();

  const std::string leases_file = vm.count("dhcp-leases") ? vm["dhcp-leases"].as<std::string>() : std::string();
  // The configuration with the current DHCP leases, as bulwark-control compiled it.
  auto load_configuration = [&] {
    std::vector<bulwark::config::DhcpLease> leases;
    if (!leases_file.empty()) {
      std::string error;
      auto read = bulwark::config::read_leases_file(leases_file, error);
      if (read) leases = std::move(*read);
      else fmt::print(stderr, "bulwark-iked: {}\n", error);
    }
    return bulwark::config::load_files(configs, 1, leases);
  };
  auto loaded = load_configuration();
  for (const auto& d : loaded.diagnostics.all()) fmt::print(stderr, "{}\n", d.str());
  if (!loaded.tables) return 1;

  std::error_code ec;
  std::filesystem::create_directories(run_dir, ec);
  chmod(run_dir.c_str(), 0700);
  std::string conf = run_dir + "/strongswan.conf";
  std::ofstream(conf) << settings(vici, vm["port"].as<uint16_t>(), vm["nat-port"].as<uint16_t>(), log_level,
                                     vm["retransmit-timeout"].as<double>());

  // INT, TERM and HUP are taken by sigwait below; charon's threads inherit the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  bw_backend_t backend{nullptr,       on_event,         on_sa_add,       on_sa_update, on_sa_query,
                       on_sa_delete,  on_policy_add,    on_policy_delete, on_policy_query, on_flush};
  if (vm.count("dataplane-socket")) {
    g_publisher = std::make_unique<bulwark::control::ike::DataplanePublisher>(
        vm["dataplane-socket"].as<std::string>(), [] { return g_database.snapshot(); },
        [] {
          // What the dataplane should hold: the records a snapshot would send (IPv4 only).
          std::string state = "\n" + g_database.snapshot();
          size_t sas = 0, policies = 0;
          for (size_t at = 0; (at = state.find('\n', at)) != std::string::npos; ++at) {
            sas += state.compare(at + 1, 3, "sa ") == 0;
            policies += state.compare(at + 1, 7, "policy ") == 0;
          }
          return fmt::format("{} SAs, {} policies", sas, policies);
        },
        [](const std::string& lines) {
          bulwark::config::IpsecUsageReport usage;
          if (!bulwark::config::decode_usage(lines, usage)) return;
          for (const auto& e : g_database.set_usage(usage)) {
            event(fmt::format("SA {:08x} to {} started afresh in a restarted dataplane: rekeying it", e.spi, e.dst));
            bw_charon_expire(e.protocol, e.spi, e.dst.c_str(), false);
          }
        });
  }
  if (vm.count("control-socket")) {
    g_notifier = std::make_unique<bulwark::control::ike::ControlNotifier>(vm["control-socket"].as<std::string>());
  }
  char error[512];
  if (bw_charon_start(conf.c_str(), kPlugins, &backend, error, sizeof error) != 0) {
    fmt::print(stderr, "bulwark-iked: {}\n", error);
    return 1;
  }

  std::atomic<bool> running{true};
  std::set<std::string> connections;
  std::mutex tables_mutex;
  bulwark::config::Tables tables;
  bulwark::control::ike::InitiateRetry retry(vici, g_status);
  bulwark::control::ike::Activation activation;
  // Stops a connection (charon terminates its IKE SA, the retries end); the answer's text.
  auto terminate = [&](const std::string& name, std::string& error) -> std::optional<std::string> {
    retry.set_stopped(name, true);
    activation.stopped(name);
    bulwark::control::ike::ViciClient client;
    if (!client.connect(vici, error)) return std::nullopt;
    auto reply = client.request("terminate", {{"ike", name}, {"timeout", "10000"}}, error);
    if (!reply) return std::nullopt;
    return bulwark::control::ike::vici_value(*reply, "success") == "yes"
               ? std::string("terminated")
               : bulwark::control::ike::vici_value(*reply, "errmsg", "not up");
  };
  std::thread timers([&] {
    for (unsigned tick = 0; running; ++tick) {
      for (const auto& e : g_database.due(std::chrono::steady_clock::now())) {
        event(fmt::format("SA {} lifetime reached: SPI {:08x} to {}", e.hard ? "hard" : "soft", e.spi, e.dst));
        bw_charon_expire(e.protocol, e.spi, e.dst.c_str(), e.hard);
      }
      if (tick % 5 == 0) {  // once a second: failed connections that initiate are started again
        bulwark::config::Tables current;
        {
          std::lock_guard<std::mutex> lock(tables_mutex);
          current = tables;
        }
        for (const auto& line : retry.poll(current, std::time(nullptr))) event(line);
        for (const auto& name : activation.due(std::time(nullptr))) {
          uint32_t timeout = 0;
          for (const auto& c : current.ipsec.connections) {
            if (c.name == name) timeout = c.deactivation_timeout;
          }
          std::string error;
          auto result = terminate(name, error);
          event(fmt::format("VPN {}: deactivation timeout of {} s reached: {}", name, timeout,
                            result ? *result : "cannot stop it: " + error));
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });

  auto load = [&](const bulwark::config::Tables& t) {
    {
      std::lock_guard<std::mutex> lock(tables_mutex);
      tables = t;
    }
    g_status.set_connections(t);
    // A connection a switch controls waits for bulwark-control to say the switch is on.
    for (const auto& c : t.ipsec.connections) {
      if (c.controlling_switch != bulwark::config::kNoIndex && !activation.is_started(c.name)) {
        retry.set_stopped(c.name, true);
      }
    }
    for (int i = 0; i < 100 && !std::filesystem::exists(vici); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    auto problems = bulwark::control::ike::load_configuration(t, vici, connections);
    for (const auto& p : problems) fmt::print(stderr, "bulwark-iked: {}\n", p);
    event(fmt::format("loaded {} VPN connections{}", t.ipsec.connections.size(),
                      problems.empty() ? "" : fmt::format(", {} problems", problems.size())));
  };
  load(*loaded.tables);

  bulwark::config::ControlServer server;
  std::string server_error;
  if (!server.listen(socket, server_error)) {
    fmt::print(stderr, "bulwark-iked: {}\n", server_error);
    running = false;
  }
  // `bulwark vpn up|down` go to charon over VICI, like swanctl --initiate/--terminate. For up and
  // down the third field names the starter: empty for `bulwark vpn`, "switch S" from
  // bulwark-control, whose up does not wait for the negotiation.
  auto vpn = [&](const std::string& payload) -> bulwark::config::Message {
    using bulwark::config::MessageType;
    std::vector<std::string> f = bulwark::config::split_fields(payload, 3);
    const std::string &verb = f[0], &name = f[1];
    std::unique_lock<std::mutex> lock(tables_mutex);
    std::optional<bulwark::config::VpnConnectionEntry> conn;  // a copy: VICI calls run unlocked
    for (const auto& c : tables.ipsec.connections) {
      if (c.name == name) conn = c;
    }
    if (!name.empty() && !conn) return {MessageType::kError, fmt::format("no VPN connection '{}'\n", name)};
    if (verb == "list" || verb == "status") {
      if (f[2] == "json") return {MessageType::kApplied, g_status.describe_json(tables, name)};
      std::string sas;
      if (!name.empty()) {
        auto reqids = g_status.reqids(name);
        sas = g_database.list_text(&reqids);
      }
      std::map<std::string, std::string> started;
      for (const auto& c : tables.ipsec.connections) started[c.name] = activation.describe(c.name, std::time(nullptr));
      std::string text = g_status.describe(tables, name, sas, started);
      return {MessageType::kApplied, text.empty() ? "no VPN connections configured\n" : text};
    }
    if ((verb != "up" && verb != "down") || !conn) {
      return {MessageType::kError, "expected list, status NAME, up NAME or down NAME\n"};
    }
    lock.unlock();
    const std::string by = f[2].empty() ? "bulwark vpn up" : f[2];
    const bool from_switch = by.rfind("switch ", 0) == 0;
    std::string error;
    if (verb == "down") {
      auto result = terminate(name, error);
      if (!result) return {MessageType::kError, error + "\n"};
      if (from_switch) event(fmt::format("VPN {}: stopped by {}", name, by));
      return {MessageType::kApplied, fmt::format("{}: {}\n", name, *result)};
    }
    if (!conn->initiate) return {MessageType::kError, fmt::format("{}: waits for its peer; nothing to start\n", name)};
    // Already started by this switch (bulwark-control repeats the state after a restart): as is.
    if (!activation.started(name, by, conn->deactivation_timeout, std::time(nullptr))) {
      return {MessageType::kApplied, fmt::format("{}: started already\n", name)};
    }
    retry.set_stopped(name, false);
    if (from_switch) event(fmt::format("VPN {}: started by {}", name, by));
    bulwark::control::ike::ViciClient client;
    if (!client.connect(vici, error)) return {MessageType::kError, error + "\n"};
    for (size_t i = 0; i < conn->tunnels.size(); ++i) {
        auto reply = client.request("initiate", {{"child", bulwark::control::ike::child_name(*conn, i)},
                                                 {"ike", conn->name}, {"timeout", from_switch ? "-1" : "15000"}},
                                    error);
      if (from_switch) continue;  // answered at once; the negotiation goes on (and is retried)
      if (!reply || bulwark::control::ike::vici_value(*reply, "success") != "yes") {
        std::string why = reply ? bulwark::control::ike::vici_value(*reply, "errmsg", "failed") : error;
        lock.lock();
        return {MessageType::kError, fmt::format("{}: not established: {}\n{}", name, why,
                                                 g_status.describe(tables, name, ""))};
      }
    }
    return {MessageType::kApplied, fmt::format("{}: {}\n", name, from_switch ? "negotiating" : "established")};
  };
  std::thread control([&] {
    server.serve([&](const bulwark::config::Message& m) -> bulwark::config::Message {
      using bulwark::config::MessageType;
      if (m.type == MessageType::kSa) {
        return {MessageType::kApplied, m.payload == "json" ? g_database.list_json() : g_database.list_text()};
      }
      if (m.type == MessageType::kVpn) return vpn(m.payload);
      return {MessageType::kError, "bulwark-iked answers sa and vpn requests"};
    }, running);
  });

  while (running) {
    int signal_number = 0;
    sigwait(&signals, &signal_number);
    if (signal_number == SIGHUP) {
      auto again = load_configuration();
      for (const auto& d : again.diagnostics.all()) fmt::print(stderr, "{}\n", d.str());
      if (again.tables) load(*again.tables);
      continue;
    }
    running = false;
  }
  control.join();
  timers.join();
  bw_charon_stop();
  g_publisher.reset();
  g_notifier.reset();
  return 0;
}
