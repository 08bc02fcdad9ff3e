// The dataplane: ports, workers, and the published table generation.
//
// Ports are created once, from the first configuration (one port per configured interface and,
// when there is an exception path, one punt port per interface). Each worker owns one RX/TX
// queue pair on every port, its own mempools, transmitter, pipeline and counters; workers share
// only the neighbour table and the current Generation.
//
// Generations are swapped with one atomic exchange. Workers load the pointer once per loop and
// report a quiescent state (rte_rcu_qsbr) after each loop; `apply` waits for every worker to
// pass one before it frees the previous generation. A configuration that cannot be built leaves
// the running generation in place. With several workers, worker 0 owns the box's, translated and
// tunnel traffic, and the others pass it over through a ring (owner_handover.cc).
#pragma once

#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/tables.h"
#include "config/user_grants.h"
#include "dataplane/counters.h"
#include "dataplane/generation.h"
#include "dataplane/ipsec_tables.h"
#include "dataplane/log_ring.h"
#include "dataplane/neighbour_table.h"
#include "dataplane/pipeline.h"
#include "dataplane/transmitter.h"

namespace bulwark::dataplane {

// The devices behind one configured interface.
struct PortPlan {
  std::string name;          // the interface's name
  std::string device;        // PCI address or vdev string
  std::string punt_device;   // exception path (tap, or a capture in replay); empty = none
};

struct DataplaneSettings {
  std::vector<PortPlan> ports;  // one per configured interface, in configuration order
  uint16_t workers = 1;
  uint32_t mbufs = 16383;       // per worker
  bool rx_timestamps = false;   // replay: frames carry their capture timestamps
  uint64_t hz = 0;              // clock ticks per second
  uint32_t arp_max_entries = 4096;
  uint32_t arp_timeout_seconds = 300;
  uint32_t max_connections = 1048576;  // shared out among the workers
  uint16_t mbuf_data_room = 0;         // 0: DPDK's default (2 KiB); benches of small frames use less
  bool profile = false;                // count cycles per stage (bulwark bench)
  bool baseline = false;               // workers only swap MACs and send back (bench baseline)
  std::vector<uint16_t> mtus;   // per interface
  std::vector<const uint8_t*> macs;  // per interface, or nullptr
};

// Which connections a listing or flush concerns; unset fields match everything.
struct ConnectionFilter {
  std::optional<uint32_t> address;  // source or destination
  std::optional<uint8_t> protocol;
  std::optional<uint16_t> port;     // source or destination
  bool translated_only = false;     // NAT: connections with a translation
  bool matches(const conntrack::Table& table, const conntrack::Entry& e) const;
};

// A request the management thread leaves for a worker, which owns its connection table and
// carries it out between two loops.
struct Mailbox {
  enum class Job : int { kNone, kList, kFlush };
  std::atomic<Job> job{Job::kNone};
  ConnectionFilter filter;
  bool json = false;
  std::string result;  // written by the worker
  size_t flushed = 0;
  std::atomic<bool> done{false};
};

struct Worker {
  uint16_t index = 0;
  rte_mempool* pool = nullptr;
  rte_mempool* indirect_pool = nullptr;
  WorkerCounters counters;
  LogRing log;
  Mailbox mailbox;
  std::unique_ptr<Transmitter> tx;
  std::unique_ptr<Pipeline> pipeline;
};

struct PortCounters {
  std::string name;
  uint64_t rx_packets = 0, tx_packets = 0, rx_errors = 0, tx_errors = 0, rx_missed = 0;
};

class Dataplane {
 public:
  // Creates ports, pools and workers (not yet running). EAL must be initialised.
  static std::unique_ptr<Dataplane> create(const DataplaneSettings& settings, std::string& error);
  ~Dataplane();

  // Builds a generation from `tables` and publishes it; keeps the old one on failure.
  bool apply(const config::Tables& tables, std::string& error);
  // The user firewall: replaces the logged-in users' grants (kept for later generations too) and
  // publishes them resolved against the running generation; false with `error` when there is no
  // generation yet. The old table is freed after a grace period.
  bool apply_user_grants(const config::UserGrants& grants, std::string& error);
  // Per session of the last grant set: idle time and open connections (config/user_grants.h).
  std::vector<config::SessionActivity> user_activity() const;
  struct UserFirewallStatus {
    size_t sessions = 0, grants = 0, connections = 0;
  };
  UserFirewallStatus user_firewall_status() const;

  // Publishes the SAs and policies of `state` to the workers (same grace period as
  // generations). SAs that cannot be set up are left out and named in `errors`.
  void apply_ipsec(const config::IpsecState& state, std::vector<std::string>& errors);
  // What each SA has counted (keyed like the SA records).
  config::IpsecUsageReport ipsec_usage() const;
  const IpsecTables* ipsec() const { return ipsec_.load(std::memory_order_acquire); }
  uint64_t generation_number() const;

  // Live mode: one worker per lcore.
  bool launch(const std::vector<unsigned>& lcores, std::string& error);
  void stop();

  CounterSnapshot counters() const;
  std::vector<PortCounters> port_counters() const;
  std::vector<NeighbourEntry> neighbours(uint64_t now) const;
  // Adds a neighbour (bulwark bench: next hops that never answer ARP on a null port).
  void learn_neighbour(uint32_t ip, const uint8_t mac[6]);
  // Drains the workers' firewall log records into formatted lines.
  std::vector<std::string> drain_log();
  // Lists (text or JSON array) or flushes connections; workers do it between loops.
  std::string list_connections(const ConnectionFilter& filter, bool json);
  size_t flush_connections(const ConnectionFilter& filter);
  // Per-rule hit counters of the running generation (text or JSON array).
  std::string rule_counters(bool json) const;
  // Configured NAT mappings and active translations (text or JSON object).
  std::string nat_status(bool json);
  uint64_t now() const;

  // Replay drives worker 0 itself.
  Worker& worker(size_t i) { return *workers_[i]; }
  const Generation* current() const { return current_.load(std::memory_order_acquire); }
  const std::vector<PortBinding>& bindings() const { return bindings_; }
  const std::vector<uint16_t>& punt_ports() const { return punt_ports_; }

  // One loop of a worker: receive, process, service the hold queue, transmit.
  void poll(Worker& w, uint64_t now);
  // The bench baseline loop: receive, swap MACs, transmit on the same port.
  void baseline(Worker& w);

  // With several workers, the one that owns the box's, translated and tunnel traffic
  // (owner_handover.cc).
  static constexpr uint16_t kOwner = 0;

 private:
  Dataplane() = default;
  static int worker_main(void* arg);
  // Worker 0's share of a loop with several workers: what the others handed over.
  void take_handed_over(Worker& w, const Generation& g, uint64_t now);
  // A frame from the exception path of `interface`: protected into a tunnel, or tracked and sent.
  void inject(Worker& w, const Generation* g, uint16_t interface, rte_mbuf* m, uint64_t now);
  // The interface whose exception path DPDK port `port` is, or -1.
  int punt_interface(uint16_t port) const;

  static constexpr unsigned kOwnerRingSize = 4096;
  static constexpr int kOwnerBurstsPerLoop = 4;

  DataplaneSettings settings_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<PortBinding> bindings_;
  std::vector<std::string> port_names_;
  std::vector<std::string> vpn_names_;  // of the last applied generation, for log lines
  std::vector<std::string> template_names_;  // the same
  config::UserGrants user_grants_;       // the last set, applied again to every generation
  // The user table of `g` for user_grants_ (not yet published).
  std::unique_ptr<UserTable> build_users(const Generation& g) const;
  std::vector<uint16_t> punt_ports_;
  std::unique_ptr<NeighbourTable> neighbours_;
  std::atomic<Generation*> current_{nullptr};
  std::atomic<IpsecTables*> ipsec_{nullptr};
  std::unique_ptr<SaRegistry> sa_registry_;
  rte_rcu_qsbr* qsbr_ = nullptr;
  rte_ring* owner_ring_ = nullptr;  // into worker kOwner; only with several workers
  std::atomic<bool> running_{false};
  std::vector<unsigned> lcores_;
};

}  // namespace bulwark::dataplane
