#include "dataplane/replay.h"

#include <rte_ethdev.h>
#include <rte_mbuf_dyn.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <limits>
#include <memory>

#include <fmt/format.h>

#include "dataplane/dataplane.h"

namespace bulwark::dataplane {
namespace {

constexpr uint64_t kMicrosPerSecond = 1000000;

// Remembers the replay clock of every frame a port transmits, in order, so that the output
// capture can be stamped with it afterwards (net_pcap stamps frames with the wall clock).
struct TxStamps {
  const uint64_t* clock = nullptr;
  std::vector<uint64_t> stamps;
};

uint16_t record_stamps(uint16_t, uint16_t, rte_mbuf**, uint16_t n, void* arg) {
  auto* s = static_cast<TxStamps*>(arg);
  s->stamps.insert(s->stamps.end(), n, *s->clock);
  return n;
}

// Rewrites the record timestamps of a nanosecond pcap file written by net_pcap.
bool restamp(const std::string& path, const std::vector<uint64_t>& stamps, std::string& error) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  if (!f) {
    error = fmt::format("cannot reopen {}", path);
    return false;
  }
  f.seekg(24);
  size_t record = 0;
  while (true) {
    std::streampos at = f.tellg();
    uint32_t header[4];
    if (!f.read(reinterpret_cast<char*>(header), sizeof header)) break;
    if (record >= stamps.size()) {
      error = fmt::format("{} holds more frames than were sent", path);
      return false;
    }
    uint64_t us = stamps[record++];
    header[0] = static_cast<uint32_t>(us / kMicrosPerSecond);
    header[1] = static_cast<uint32_t>((us % kMicrosPerSecond) * 1000);
    f.seekp(at);
    f.write(reinterpret_cast<const char*>(header), 8);
    f.seekg(at + std::streamoff(16 + header[2]));
  }
  if (record != stamps.size()) {
    error = fmt::format("{} holds {} frames, {} were sent", path, record, stamps.size());
    return false;
  }
  return true;
}

struct Staging {
  uint16_t port = 0;
  rte_mbuf* frames[kBurstSize];
  uint16_t head = 0;
  uint16_t count = 0;
  bool eof = false;
};

}  // namespace

std::array<uint8_t, 6> default_capture_mac(size_t index) {
  return {0x02, 0x62, 0x77, 0x00, 0x00, static_cast<uint8_t>(index + 1)};
}

std::optional<ReplayResult> replay(const config::Tables& tables,
                                   const std::vector<ReplayInput>& inputs,
                                   const std::string& out_dir, const config::IpsecState& ipsec,
                                   const std::vector<ReplayUsers>& users, std::string& error) {
  static std::atomic<unsigned> serial{0};
  unsigned id = serial.fetch_add(1);

  DataplaneSettings settings;
  settings.workers = 1;
  settings.rx_timestamps = true;
  settings.hz = kMicrosPerSecond;
  settings.mbufs = 4095;
  settings.arp_max_entries = tables.dataplane.arp_max_entries;
  settings.arp_timeout_seconds = tables.dataplane.arp_timeout;
  settings.max_connections = tables.dataplane.max_connections;
  std::vector<std::string> outputs;
  std::vector<std::array<uint8_t, 6>> replay_macs(tables.interfaces.size());
  for (size_t i = 0; i < tables.interfaces.size(); ++i) replay_macs[i] = default_capture_mac(i);
  for (size_t i = 0; i < tables.interfaces.size(); ++i) {
    const auto& iface = tables.interfaces[i];
    std::string input;
    for (const auto& in : inputs) {
      if (in.interface == iface.name) input = in.file;
    }
    std::string out = fmt::format("{}/{}.pcap", out_dir, iface.name);
    std::string punt = fmt::format("{}/{}.punt.pcap", out_dir, iface.name);
    PortPlan plan;
    plan.name = iface.name;
    plan.device = fmt::format("net_pcap_bw{}_{},{}tx_pcap={}", id, 2 * i,
                              input.empty() ? "" : fmt::format("rx_pcap={},", input), out);
    plan.punt_device = fmt::format("net_pcap_bw{}_{},tx_pcap={}", id, 2 * i + 1, punt);
    settings.ports.push_back(plan);
    settings.mtus.push_back(iface.mtu);
    settings.macs.push_back(iface.mac ? iface.mac->bytes.data() : replay_macs[i].data());
    outputs.push_back(out);
    outputs.push_back(punt);
  }
  for (const auto& in : inputs) {
    bool known = std::any_of(tables.interfaces.begin(), tables.interfaces.end(),
                             [&](const auto& i) { return i.name == in.interface; });
    if (!known) {
      error = fmt::format("--in {}: the configuration has no interface '{}'", in.interface,
                          in.interface);
      return std::nullopt;
    }
    if (!std::ifstream(in.file)) {
      error = fmt::format("--in {}: cannot read {}", in.interface, in.file);
      return std::nullopt;
    }
  }

  auto dp = Dataplane::create(settings, error);
  if (!dp) return std::nullopt;
  if (!dp->apply(tables, error)) return std::nullopt;
  std::vector<std::string> ipsec_errors;
  dp->apply_ipsec(ipsec, ipsec_errors);
  if (!ipsec_errors.empty()) {
    error = "IPsec: " + ipsec_errors.front();
    return std::nullopt;
  }

  int ts_offset = -1;
  uint64_t ts_flag = 0;
  if (rte_mbuf_dyn_rx_timestamp_register(&ts_offset, &ts_flag) != 0) {
    error = "cannot register the mbuf timestamp field";
    return std::nullopt;
  }

  uint64_t clock = 0;
  std::vector<std::unique_ptr<TxStamps>> stamps;
  std::vector<uint16_t> out_ports;
  for (const auto& b : dp->bindings()) {
    out_ports.push_back(b.port);
    out_ports.push_back(b.punt_port);
  }
  for (uint16_t port : out_ports) {
    auto s = std::make_unique<TxStamps>();
    s->clock = &clock;
    rte_eth_add_tx_callback(port, 0, record_stamps, s.get());
    stamps.push_back(std::move(s));
  }

  std::vector<Staging> staging(dp->bindings().size());
  for (size_t i = 0; i < staging.size(); ++i) staging[i].port = dp->bindings()[i].port;
  auto timestamp = [&](const rte_mbuf* m) {
    return *RTE_MBUF_DYNFIELD(m, ts_offset, const rte_mbuf_timestamp_t*);
  };

  Worker& w = dp->worker(0);
  const Generation* g = dp->current();
  w.pipeline->set_ipsec(dp->ipsec());
  // Grant sets in the order of their time; the replay thread is the worker and the control
  // thread at once, so a set applies between two bursts.
  std::vector<const ReplayUsers*> pending_users;
  for (const auto& u : users) pending_users.push_back(&u);
  std::stable_sort(pending_users.begin(), pending_users.end(),
                   [](const ReplayUsers* a, const ReplayUsers* b) { return a->at_us < b->at_us; });
  size_t next_users = 0;
  auto apply_users = [&](uint64_t until) {
    while (next_users < pending_users.size() && pending_users[next_users]->at_us <= until) {
      if (!dp->apply_user_grants(pending_users[next_users++]->grants, error)) return false;
      w.pipeline->set_users(g->users());
    }
    return true;
  };
  if (!apply_users(0)) return std::nullopt;
  ReplayResult result;
  std::string log_path = fmt::format("{}/firewall.log", out_dir);
  std::ofstream log(log_path, std::ios::trunc);
  auto write_log = [&] {
    for (const auto& line : dp->drain_log()) {
      log << fmt::format("{}.{:06} ", clock / kMicrosPerSecond, clock % kMicrosPerSecond) << line << "\n";
      ++result.log_lines;
    }
  };
  while (true) {
    for (auto& s : staging) {
      if (s.head == s.count && !s.eof) {
        s.head = 0;
        s.count = rte_eth_rx_burst(s.port, 0, s.frames, kBurstSize);
        s.eof = s.count == 0;
        result.in += s.count;
      }
    }
    // The input whose next frame is oldest goes first; it keeps the turn while its frames are
    // not newer than every other input's next frame.
    Staging* first = nullptr;
    uint64_t first_ts = 0, second_ts = std::numeric_limits<uint64_t>::max();
    for (auto& s : staging) {
      if (s.head == s.count) continue;
      uint64_t ts = timestamp(s.frames[s.head]);
      if (!first || ts < first_ts) {
        if (first) second_ts = std::min(second_ts, first_ts);
        first = &s;
        first_ts = ts;
      } else {
        second_ts = std::min(second_ts, ts);
      }
    }
    if (!first) break;
    if (!apply_users(first_ts)) return std::nullopt;
    // A burst does not reach past the time of the next grant set.
    const uint64_t users_at = next_users < pending_users.size() ? pending_users[next_users]->at_us
                                                                : std::numeric_limits<uint64_t>::max();
    uint16_t n = 1;
    while (first->head + n < first->count && timestamp(first->frames[first->head + n]) <= second_ts &&
           timestamp(first->frames[first->head + n]) < users_at) {
      ++n;
    }
    clock = std::max(clock, first_ts);
    w.pipeline->service(*g, clock);
    w.pipeline->process(*g, first->frames + first->head, n, first->port, clock);
    first->head = static_cast<uint16_t>(first->head + n);
    w.pipeline->age(clock);
    w.tx->flush();
    write_log();
  }
  w.pipeline->service(*g, clock);
  w.pipeline->drop_held();
  w.tx->flush();
  write_log();
  result.connections = w.pipeline->connections().size();

  result.counters = dp->counters();
  dp.reset();  // stops the ports, which closes the capture files

  for (size_t i = 0; i < outputs.size(); ++i) {
    if (!restamp(outputs[i], stamps[i]->stamps, error)) return std::nullopt;
    result.written.emplace_back(outputs[i], stamps[i]->stamps.size());
    if (i % 2 == 0) result.out += stamps[i]->stamps.size();
  }
  return result;
}

}  // namespace bulwark::dataplane
