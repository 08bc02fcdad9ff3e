#include "dataplane/dataplane.h"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include <fmt/format.h>

#include "config/json.h"
#include "dataplane/headers.h"
#include "dataplane/log_format.h"
#include "dataplane/ports.h"

namespace bulwark::dataplane {
namespace {

constexpr unsigned kPoolCache = 256;
constexpr uint32_t kIndirectMbufs = 4095;

uint32_t pool_size(uint32_t wanted) {
  // Mempools are most efficient at 2^n - 1 elements.
  uint32_t size = 1023;
  while (size < wanted) size = size * 2 + 1;
  return size;
}

}  // namespace

std::unique_ptr<Dataplane> Dataplane::create(const DataplaneSettings& settings, std::string& error) {
  if (!register_tx_kind_field()) {
    error = fmt::format("cannot register the mbuf field: {}", rte_strerror(rte_errno));
    return nullptr;
  }
  std::unique_ptr<Dataplane> dp(new Dataplane());
  dp->settings_ = settings;
  uint64_t hz = settings.hz ? settings.hz : rte_get_tsc_hz();
  dp->settings_.hz = hz;
  dp->neighbours_ = std::make_unique<NeighbourTable>(settings.arp_max_entries,
                                                     uint64_t{settings.arp_timeout_seconds} * hz);

  // Pools first: every port queue takes its buffers from its worker's pool.
  static std::atomic<unsigned> serial{0};
  unsigned id = serial.fetch_add(1);
  uint32_t ports = static_cast<uint32_t>(settings.ports.size() * 2);
  for (uint16_t w = 0; w < settings.workers; ++w) {
    auto worker = std::make_unique<Worker>();
    worker->index = w;
    std::string name = fmt::format("bw_pool_{}_{}", id, w);
    uint16_t data_room = settings.mbuf_data_room
                             ? static_cast<uint16_t>(settings.mbuf_data_room + RTE_PKTMBUF_HEADROOM)
                             : static_cast<uint16_t>(RTE_MBUF_DEFAULT_BUF_SIZE);
    worker->pool = rte_pktmbuf_pool_create(name.c_str(), pool_size(std::max(settings.mbufs, 2048 * ports)),
                                           kPoolCache, 0, data_room, static_cast<int>(rte_socket_id()));
    std::string indirect = fmt::format("bw_indirect_{}_{}", id, w);
    worker->indirect_pool = rte_pktmbuf_pool_create(indirect.c_str(), kIndirectMbufs, kPoolCache,
                                                    0, 0, static_cast<int>(rte_socket_id()));
    if (!worker->pool || !worker->indirect_pool) {
      error = fmt::format("cannot create mbuf pools ({}); give the dataplane more memory "
                          "(dataplane.memory_mb) or fewer mbufs (dataplane.mbufs)",
                          rte_strerror(rte_errno));
      return nullptr;
    }
    dp->workers_.push_back(std::move(worker));
  }
  std::vector<rte_mempool*> pools;
  for (auto& w : dp->workers_) pools.push_back(w->pool);

  for (size_t i = 0; i < settings.ports.size(); ++i) {
    const PortPlan& plan = settings.ports[i];
    PortOptions options;
    options.queues = settings.workers;
    options.mtu = i < settings.mtus.size() ? settings.mtus[i] : 1500;
    options.rx_timestamp = settings.rx_timestamps;
    options.mac = i < settings.macs.size() ? settings.macs[i] : nullptr;
    auto port = setup_port(plan.device, options, pools, error);
    if (!port) return nullptr;
    PortBinding binding;
    binding.port = port->id;
    std::memcpy(binding.mac, options.mac ? options.mac : port->mac, 6);
    if (!plan.punt_device.empty()) {
      PortOptions punt_options;
      punt_options.queues = settings.workers;
      punt_options.mac = binding.mac;
      auto punt = setup_port(plan.punt_device, punt_options, pools, error);
      if (!punt) return nullptr;
      binding.punt_port = punt->id;
      dp->punt_ports_.push_back(punt->id);
    }
    dp->bindings_.push_back(binding);
    dp->port_names_.push_back(plan.name);
  }

  // Several workers: worker 0 owns the traffic whose directions other workers' queues could split,
  // and the others pass it over (owner_handover.cc).
  if (settings.workers > 1) {
    std::string ring = fmt::format("bw_owner_{}", id);
    dp->owner_ring_ = rte_ring_create(ring.c_str(), kOwnerRingSize, static_cast<int>(rte_socket_id()), RING_F_SC_DEQ);
    if (!dp->owner_ring_) {
      error = fmt::format("cannot create the ring into worker 0: {}", rte_strerror(rte_errno));
      return nullptr;
    }
  }
  for (auto& w : dp->workers_) {
    w->tx = std::make_unique<Transmitter>(w->counters, w->index);
    for (const auto& b : dp->bindings_) {
      w->tx->add_port(b.port, static_cast<int>(rte_socket_id()));
      if (b.punt_port != kNoPort) w->tx->add_port(b.punt_port, static_cast<int>(rte_socket_id()));
    }
    PipelineResources res;
    res.neighbours = dp->neighbours_.get();
    res.pool = w->pool;
    res.indirect_pool = w->indirect_pool;
    res.hz = hz;
    res.conntrack_capacity = std::max<uint32_t>(settings.max_connections / settings.workers, 1024);
    res.worker = w->index;
    // A random hash key keeps remote hosts from aiming their flows at one bucket; a replay keeps
    // the fixed one so that it stays repeatable.
    if (!settings.rx_timestamps) res.conntrack_seed = rte_rand();
    res.log = &w->log;
    res.profile = settings.profile;
    if (w->index != kOwner) res.owner = dp->owner_ring_;
    w->pipeline = std::make_unique<Pipeline>(res, w->counters, *w->tx);
  }

  size_t qsbr_size = rte_rcu_qsbr_get_memsize(settings.workers);
  dp->qsbr_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("bw_qsbr", qsbr_size, RTE_CACHE_LINE_SIZE));
  if (!dp->qsbr_ || rte_rcu_qsbr_init(dp->qsbr_, settings.workers) != 0) {
    error = "cannot create the RCU state";
    return nullptr;
  }
  return dp;
}

Dataplane::~Dataplane() {
  stop();
  for (const auto& b : bindings_) {
    stop_port(b.port);
    if (b.punt_port != kNoPort) stop_port(b.punt_port);
  }
  if (owner_ring_) {
    void* m = nullptr;
    while (rte_ring_sc_dequeue(owner_ring_, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    rte_ring_free(owner_ring_);
  }
  delete current_.exchange(nullptr);
  delete ipsec_.exchange(nullptr);
  for (auto& w : workers_) {
    w->pipeline.reset();
    w->tx.reset();
    rte_mempool_free(w->pool);
    rte_mempool_free(w->indirect_pool);
  }
  rte_free(qsbr_);
}

bool Dataplane::apply(const config::Tables& tables, std::string& error) {
  std::unique_ptr<Generation> next =
      Generation::build(tables, bindings_, static_cast<unsigned>(workers_.size()), settings_.hz, error);
  if (!next) return false;
  vpn_names_ = next->vpn_names();
  template_names_ = next->template_names();
  // The logged-in users keep their grants, resolved against the new templates.
  UserTable* users = build_users(*next).release();
  next->exchange_users(users);
  Generation* old = current_.exchange(next.release(), std::memory_order_acq_rel);
  if (old) {
    // Every worker that was online has finished the loop that might still use `old`.
    rte_rcu_qsbr_synchronize(qsbr_, RTE_QSBR_THRID_INVALID);
    if (const UserTable* before = old->users()) users->inherit(*before);
    delete old;
  }
  return true;
}

std::unique_ptr<UserTable> Dataplane::build_users(const Generation& g) const {
  return UserTable::build(user_grants_, g.template_names(), g.template_vpn(), static_cast<unsigned>(workers_.size()));
}

bool Dataplane::apply_user_grants(const config::UserGrants& grants, std::string& error) {
  Generation* g = current_.load(std::memory_order_acquire);
  if (!g) {
    error = "no configuration yet";
    return false;
  }
  user_grants_ = grants;
  // (The control thread is the only one that replaces generations, so `g` stays current.)
  UserTable* old = g->exchange_users(build_users(*g).release());
  if (old) {
    rte_rcu_qsbr_synchronize(qsbr_, RTE_QSBR_THRID_INVALID);
    const_cast<UserTable*>(g->users())->inherit(*old);
    delete old;
  }
  return true;
}

std::vector<config::SessionActivity> Dataplane::user_activity() const {
  std::vector<config::SessionActivity> out;
  const Generation* g = current();
  const UserTable* users = g ? g->users() : nullptr;
  if (!users) return out;
  const uint64_t t = now();
  for (uint32_t slot = 0; slot < users->sessions(); ++slot) {
    config::SessionActivity a;
    a.session = users->session_at(slot);
    const uint64_t last = users->last_active(slot);
    if (last) a.idle_ms = (t > last ? t - last : 0) * 1000 / settings_.hz;
    a.connections = users->connections(slot);
    out.push_back(a);
  }
  return out;
}

Dataplane::UserFirewallStatus Dataplane::user_firewall_status() const {
  UserFirewallStatus s;
  const Generation* g = current();
  const UserTable* users = g ? g->users() : nullptr;
  if (!users) return s;
  s.sessions = users->sessions();
  s.grants = users->grants();
  for (uint32_t slot = 0; slot < users->sessions(); ++slot) s.connections += users->connections(slot);
  return s;
}

void Dataplane::apply_ipsec(const config::IpsecState& state, std::vector<std::string>& errors) {
  if (!sa_registry_) sa_registry_ = std::make_unique<SaRegistry>(static_cast<unsigned>(workers_.size()));
  IpsecTables* old = ipsec_.exchange(sa_registry_->build(state, errors).release(), std::memory_order_acq_rel);
  if (old) {
    rte_rcu_qsbr_synchronize(qsbr_, RTE_QSBR_THRID_INVALID);
    delete old;
  }
}

config::IpsecUsageReport Dataplane::ipsec_usage() const {
  const IpsecTables* t = ipsec();
  return t && sa_registry_ ? sa_registry_->usage(*t, now(), settings_.hz) : config::IpsecUsageReport{};
}

uint64_t Dataplane::generation_number() const {
  const Generation* g = current();
  return g ? g->number() : 0;
}

uint64_t Dataplane::now() const { return rte_get_tsc_cycles(); }

void Dataplane::baseline(Worker& w) {
  rte_mbuf* pkts[kBurstSize];
  for (const auto& b : bindings_) {
    uint16_t n = rte_eth_rx_burst(b.port, w.index, pkts, kBurstSize);
    if (n == 0) continue;
    w.counters.received.add(n);
    for (uint16_t i = 0; i < n; ++i) {
      auto* eth = rte_pktmbuf_mtod(pkts[i], EthernetHeader*);
      uint8_t tmp[6];
      std::memcpy(tmp, eth->dst, 6);
      std::memcpy(eth->dst, eth->src, 6);
      std::memcpy(eth->src, tmp, 6);
    }
    uint16_t sent = rte_eth_tx_burst(b.port, w.index, pkts, n);
    w.counters.forwarded.add(sent);
    if (sent < n) {
      w.counters.drop(DropReason::tx_full, n - sent);
      rte_pktmbuf_free_bulk(pkts + sent, n - sent);
    }
  }
}

void Dataplane::learn_neighbour(uint32_t ip, const uint8_t mac[6]) {
  neighbours_->learn(ip, mac, rte_get_tsc_cycles());
}

void Dataplane::poll(Worker& w, uint64_t now) {
  const Generation* g = current_.load(std::memory_order_acquire);
  w.pipeline->set_ipsec(ipsec_.load(std::memory_order_acquire));
  w.pipeline->set_users(g ? g->users() : nullptr);
  rte_mbuf* pkts[kBurstSize];
  for (const auto& b : bindings_) {
    uint16_t n = rte_eth_rx_burst(b.port, w.index, pkts, kBurstSize);
    if (n == 0) continue;
    if (!g) {
      w.counters.received.add(n);
      w.counters.drop(DropReason::no_tables, n);
      rte_pktmbuf_free_bulk(pkts, n);
      continue;
    }
    w.pipeline->process(*g, pkts, n, b.port, now);
  }
  // (Frames are handed over only under a generation, and generations never go away.)
  if (owner_ring_ && w.index == kOwner && g) take_handed_over(w, *g, now);
  // What the kernel sends on the exception path leaves through the interface as it is; with
  // several workers worker 0 tracks it, since the answers are its own.
  for (uint16_t interface = 0; interface < bindings_.size(); ++interface) {
    const PortBinding& b = bindings_[interface];
    if (b.punt_port == kNoPort) continue;
    uint16_t n = rte_eth_rx_burst(b.punt_port, w.index, pkts, kBurstSize);
    uint16_t passed = 0;
    if (owner_ring_ && w.index != kOwner && g && n > 0) {
      for (uint16_t i = 0; i < n; ++i) pkts[i]->port = b.punt_port;
      passed = static_cast<uint16_t>(
          rte_ring_mp_enqueue_burst(owner_ring_, reinterpret_cast<void**>(pkts), n, nullptr));
      w.counters.event(Event::handed_to_owner, passed);
    }
    // With one worker, on worker 0, or when its ring is full: here.
    for (uint16_t i = passed; i < n; ++i) inject(w, g, interface, pkts[i], now);
  }
  if (g) {
    w.pipeline->service(*g, now);
    w.pipeline->age(now);
  }
  w.tx->flush();
}

void Dataplane::take_handed_over(Worker& w, const Generation& g, uint64_t now) {
  rte_mbuf* pkts[kBurstSize];
  for (int burst = 0; burst < kOwnerBurstsPerLoop; ++burst) {
    const unsigned n = rte_ring_sc_dequeue_burst(owner_ring_, reinterpret_cast<void**>(pkts), kBurstSize, nullptr);
    if (n == 0) return;
    // Runs of frames received on one port, each processed as a burst of that port; frames from
    // the exception path one by one.
    for (unsigned i = 0; i < n;) {
      const int punted_from = punt_interface(pkts[i]->port);
      if (punted_from >= 0) {
        inject(w, &g, static_cast<uint16_t>(punted_from), pkts[i++], now);
        continue;
      }
      unsigned j = i + 1;
      while (j < n && pkts[j]->port == pkts[i]->port) ++j;
      w.pipeline->process(g, pkts + i, static_cast<uint16_t>(j - i), pkts[i]->port, now, true);
      i = j;
    }
  }
}

void Dataplane::inject(Worker& w, const Generation* g, uint16_t interface, rte_mbuf* m, uint64_t now) {
  if (g && w.pipeline->must_protect(m)) {
    w.pipeline->protect_injected(*g, m, interface, now);
    return;
  }
  if (g) w.pipeline->track_injected(*g, m, now);
  w.tx->send(bindings_[interface].port, m, TxKind::kInjected);
}

int Dataplane::punt_interface(uint16_t port) const {
  for (size_t i = 0; i < bindings_.size(); ++i) {
    if (bindings_[i].punt_port == port) return static_cast<int>(i);
  }
  return -1;
}

namespace {

std::string connection_line(const conntrack::Table& table, const conntrack::Entry& e, uint64_t now,
                            uint64_t hz, bool json) {
  const conntrack::FlowKey& k = e.key;
  conntrack::Stats st = table.stats(e);
  std::string src = config::Ipv4Address{k.src}.str(), dst = config::Ipv4Address{k.dst}.str();
  uint64_t age = (now - st.created) / hz;
  uint64_t left = e.expires > now ? (e.expires - now) / hz : 0;
  conntrack::FlowKey reply = table.reply_key(e);
  bool translated = !(reply == k.reversed());
  std::string nat;
  if (translated) {
    nat = fmt::format("{}:{} -> {}:{}", config::Ipv4Address{reply.dst}.str(), reply.dst_port,
                      config::Ipv4Address{reply.src}.str(), reply.src_port);
  }
  if (json) {
    return fmt::format(
        "{{\"protocol\": {}, \"src\": \"{}\", \"src_port\": {}, \"dst\": \"{}\", \"dst_port\": {}, "
        "\"state\": \"{}\", \"age_seconds\": {}, \"timeout_seconds\": {}, \"packets\": [{}, {}], "
        "\"bytes\": [{}, {}], \"rule\": {}, \"translated\": {}}}",
        k.protocol, src, k.src_port, dst, k.dst_port, conntrack::state_name(e.state), age, left,
        st.packets[0], st.packets[1], st.bytes[0], st.bytes[1], st.rule_id,
        translated ? config::json_string(nat) : "null");
  }
  return fmt::format("{:<5} {:>15}:{:<5} -> {:>15}:{:<5} {:<12} age {:>6}s timeout {:>6}s pkts {}/{} rule {}{}\n",
                     k.protocol == 6 ? "tcp" : k.protocol == 17 ? "udp" : k.protocol == 1 ? "icmp" : fmt::format("{}", k.protocol),
                     src, k.src_port, dst, k.dst_port, conntrack::state_name(e.state), age, left,
                     st.packets[0], st.packets[1], st.rule_id, translated ? "  NAT " + nat : "");
}

// Runs a management request on a worker's own thread, between two loops.
void serve_mailbox(Worker& w, uint64_t now, uint64_t hz) {
  Mailbox& box = w.mailbox;
  Mailbox::Job job = box.job.load(std::memory_order_acquire);
  if (job == Mailbox::Job::kNone) return;
  conntrack::Table& table = w.pipeline->connections();
  if (job == Mailbox::Job::kList) {
    box.result.clear();
    table.for_each(now, [&](const conntrack::Entry& e) {
      if (!box.filter.matches(table, e)) return;
      if (box.json && !box.result.empty()) box.result += ", ";
      box.result += connection_line(table, e, now, hz, box.json);
    });
  } else {
    std::vector<conntrack::Entry*> victims;
    table.for_each(now, [&](const conntrack::Entry& e) {
      if (box.filter.matches(table, e)) victims.push_back(const_cast<conntrack::Entry*>(&e));
    });
    for (auto* e : victims) table.erase(e);
    box.flushed = victims.size();
  }
  box.job.store(Mailbox::Job::kNone, std::memory_order_relaxed);
  box.done.store(true, std::memory_order_release);
}

}  // namespace

bool ConnectionFilter::matches(const conntrack::Table& table, const conntrack::Entry& e) const {
  if (translated_only && table.reply_key(e) == e.key.reversed()) return false;
  if (address && e.key.src != *address && e.key.dst != *address) return false;
  if (protocol && e.key.protocol != *protocol) return false;
  if (port && e.key.src_port != *port && e.key.dst_port != *port) return false;
  return true;
}

std::string Dataplane::list_connections(const ConnectionFilter& filter, bool json) {
  std::string out;
  for (auto& w : workers_) {
    Mailbox& box = w->mailbox;
    box.filter = filter;
    box.json = json;
    box.done.store(false);
    box.job.store(Mailbox::Job::kList, std::memory_order_release);
    while (!box.done.load(std::memory_order_acquire)) std::this_thread::yield();
    if (json && !out.empty() && !box.result.empty()) out += ", ";
    out += box.result;
  }
  return json ? "[" + out + "]" : out;
}

size_t Dataplane::flush_connections(const ConnectionFilter& filter) {
  size_t total = 0;
  for (auto& w : workers_) {
    Mailbox& box = w->mailbox;
    box.filter = filter;
    box.done.store(false);
    box.job.store(Mailbox::Job::kFlush, std::memory_order_release);
    while (!box.done.load(std::memory_order_acquire)) std::this_thread::yield();
    total += box.flushed;
  }
  return total;
}

std::string Dataplane::nat_status(bool json) {
  const Generation* g = current();
  if (!g) return json ? "{}" : "";
  std::vector<std::string> names;
  for (const auto& i : g->interfaces()) names.push_back(i.name);
  std::vector<std::string> mappings = g->nat().describe(names);
  ConnectionFilter filter;
  filter.translated_only = true;
  std::string translations = list_connections(filter, json);
  if (json) {
    std::string m;
    for (const auto& line : mappings) m += (m.empty() ? "" : ", ") + config::json_string(line);
    return fmt::format("{{\"mappings\": [{}], \"translations\": {}}}", m, translations);
  }
  std::string out = "configured:\n";
  for (const auto& line : mappings) out += "  " + line + "\n";
  size_t active = translations.empty() ? 0 : std::count(translations.begin(), translations.end(), '\n');
  out += fmt::format("active translations ({}):\n{}", active, translations);
  return out;
}

namespace {

// A rule's list in listings: "incoming", …, or "user:TEMPLATE" for a user-firewall template's.
std::string list_label(const Generation& g, const FilterRule& r) {
  if (r.user_template == config::kNoIndex) return filter_list_name(r.list);
  return "user:" + g.template_names()[r.user_template];
}

}  // namespace

std::string Dataplane::rule_counters(bool json) const {
  const Generation* g = current();
  if (!g) return json ? "[]" : "";
  std::string out;
  const auto& rules = g->filter().rules();
  for (size_t i = 0; i < rules.size(); ++i) {
    const FilterRule& r = rules[i];
    const char* action = r.action == config::ActionKind::kAccept ? "accept"
                         : r.action == config::ActionKind::kReject ? "reject" : "drop";
    if (json) {
      out += fmt::format("{}{{\"list\": {}, \"position\": {}, \"rule\": {}, \"record_rule\": {}, "
                         "\"action\": \"{}\", \"hits\": {}, \"comment\": {}}}",
                         out.empty() ? "" : ", ", config::json_string(list_label(*g, r)), r.position, r.rule_id,
                         r.record_rule_id, action, g->filter().hits(i), config::json_string(r.comment));
    } else {
      out += fmt::format("{:<9} {:>3}  rule {:<5}{} {:<7} {:>12} hits  {}\n", list_label(*g, r),
                         r.position, r.rule_id,
                         r.record_rule_id ? fmt::format(" (record rule {})", r.record_rule_id) : "", action,
                         g->filter().hits(i), r.comment);
    }
  }
  return json ? "[" + out + "]" : out;
}

int Dataplane::worker_main(void* arg) {
  auto* self = static_cast<std::pair<Dataplane*, Worker*>*>(arg);
  Dataplane* dp = self->first;
  Worker& w = *self->second;
  delete self;
  rte_rcu_qsbr_thread_register(dp->qsbr_, w.index);
  rte_rcu_qsbr_thread_online(dp->qsbr_, w.index);
  while (dp->running_.load(std::memory_order_relaxed)) {
    uint64_t now = rte_get_tsc_cycles();
    if (dp->settings_.baseline) {
      dp->baseline(w);
      continue;
    }
    dp->poll(w, now);
    serve_mailbox(w, now, dp->settings_.hz);
    rte_rcu_qsbr_quiescent(dp->qsbr_, w.index);
  }
  rte_rcu_qsbr_thread_offline(dp->qsbr_, w.index);
  rte_rcu_qsbr_thread_unregister(dp->qsbr_, w.index);
  return 0;
}

bool Dataplane::launch(const std::vector<unsigned>& lcores, std::string& error) {
  if (lcores.size() != workers_.size()) {
    error = fmt::format("{} worker lcores for {} workers", lcores.size(), workers_.size());
    return false;
  }
  running_ = true;
  for (size_t i = 0; i < lcores.size(); ++i) {
    auto* arg = new std::pair<Dataplane*, Worker*>(this, workers_[i].get());
    if (int rc = rte_eal_remote_launch(&Dataplane::worker_main, arg, lcores[i]); rc != 0) {
      delete arg;
      error = fmt::format("cannot start a worker on lcore {}: {}", lcores[i], rte_strerror(-rc));
      stop();
      return false;
    }
    lcores_.push_back(lcores[i]);
  }
  return true;
}

void Dataplane::stop() {
  if (!running_.exchange(false)) return;
  for (unsigned lcore : lcores_) rte_eal_wait_lcore(lcore);
  lcores_.clear();
}

CounterSnapshot Dataplane::counters() const {
  CounterSnapshot s;
  for (const auto& w : workers_) s.add(w->counters);
  return s;
}

std::vector<PortCounters> Dataplane::port_counters() const {
  std::vector<PortCounters> out;
  for (size_t i = 0; i < bindings_.size(); ++i) {
    rte_eth_stats stats{};
    rte_eth_stats_get(bindings_[i].port, &stats);
    out.push_back({port_names_[i], stats.ipackets, stats.opackets, stats.ierrors, stats.oerrors,
                   stats.imissed});
  }
  return out;
}

std::vector<std::string> Dataplane::drain_log() {
  std::vector<std::string> lines;
  for (auto& w : workers_) {
    LogRecord r;
    while (w->log.pop(r)) lines.push_back(format_log(r, port_names_, vpn_names_, template_names_));
  }
  return lines;
}

std::vector<NeighbourEntry> Dataplane::neighbours(uint64_t now) const {
  return neighbours_->entries(now);
}

}  // namespace bulwark::dataplane
