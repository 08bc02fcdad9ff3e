#include "dataplane/bench.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "config/user_grants.h"
#include "dataplane/dataplane.h"

namespace bulwark::dataplane {
namespace {

constexpr uint8_t kNextHopMac[6] = {0x02, 0x62, 0x77, 0xff, 0x00, 0x01};

// Frames in a classic pcap file, or -1 when it is not one.
int64_t count_frames(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  uint32_t header[6];
  if (!in.read(reinterpret_cast<char*>(header), sizeof header)) return -1;
  if (header[0] != 0xa1b2c3d4 && header[0] != 0xa1b23c4d) return -1;
  int64_t frames = 0;
  uint32_t record[4];
  while (in.read(reinterpret_cast<char*>(record), sizeof record)) {
    in.seekg(record[2], std::ios::cur);
    ++frames;
  }
  return frames;
}

struct Sample {
  CounterSnapshot counters;
  uint64_t bytes = 0;
  uint64_t tsc = 0;
};

Sample sample(Dataplane& dp, const std::vector<uint16_t>& inputs) {
  Sample s;
  s.counters = dp.counters();
  for (uint16_t port : inputs) {
    rte_eth_stats stats{};
    rte_eth_stats_get(port, &stats);
    s.bytes += stats.ibytes;
  }
  s.tsc = rte_get_tsc_cycles();
  return s;
}

CounterSnapshot minus(const CounterSnapshot& b, const CounterSnapshot& a) {
  CounterSnapshot d;
  d.received = b.received - a.received;
  d.forwarded = b.forwarded - a.forwarded;
  d.generated = b.generated - a.generated;
  d.punted = b.punted - a.punted;
  d.consumed = b.consumed - a.consumed;
  for (size_t i = 0; i < kDropReasonCount; ++i) d.dropped[i] = b.dropped[i] - a.dropped[i];
  for (size_t i = 0; i < kEventCount; ++i) d.events[i] = b.events[i] - a.events[i];
  for (size_t i = 0; i < kStageCount; ++i) {
    d.stages[i] = b.stages[i] - a.stages[i];
    d.stage_cycles[i] = b.stage_cycles[i] - a.stage_cycles[i];
  }
  return d;
}

std::optional<BenchRun> run(const config::Tables& tables, const BenchOptions& options, bool baseline,
                            uint32_t mbufs, BenchResult& result, std::string& error) {
  static std::atomic<unsigned> serial{0};
  unsigned id = serial.fetch_add(1);
  DataplaneSettings settings;
  settings.workers = 1;
  settings.mbufs = mbufs;
  settings.mbuf_data_room = options.mbuf_data_room;
  settings.arp_max_entries = tables.dataplane.arp_max_entries;
  settings.arp_timeout_seconds = 1000000;  // the bench's static next hops must not expire
  settings.max_connections = tables.dataplane.max_connections;
  settings.profile = !baseline;
  settings.baseline = baseline;
  std::vector<uint16_t> input_ports;
  std::vector<size_t> input_interfaces;
  std::vector<std::array<uint8_t, 6>> macs(tables.interfaces.size());
  for (size_t i = 0; i < macs.size(); ++i) macs[i] = default_capture_mac(i);
  for (size_t i = 0; i < tables.interfaces.size(); ++i) {
    const auto& iface = tables.interfaces[i];
    std::string input;
    for (const auto& in : options.inputs) {
      if (in.interface == iface.name) input = in.file;
    }
    PortPlan plan;
    plan.name = iface.name;
    plan.device = input.empty()
                      ? fmt::format("net_null_bb{}_{},no-rx=1", id, 2 * i)
                      : fmt::format("net_pcap_bb{}_{},rx_pcap={},infinite_rx=1", id, 2 * i, input);
    if (!input.empty()) input_interfaces.push_back(i);
    plan.punt_device = fmt::format("net_null_bb{}_{},no-rx=1", id, 2 * i + 1);
    settings.ports.push_back(plan);
    settings.mtus.push_back(iface.mtu);
    settings.macs.push_back(iface.mac ? iface.mac->bytes.data() : macs[i].data());
  }
  auto dp = Dataplane::create(settings, error);
  if (!dp) return std::nullopt;
  for (size_t i : input_interfaces) input_ports.push_back(dp->bindings()[i].port);
  if (!dp->apply(tables, error)) return std::nullopt;
  std::vector<std::string> ipsec_errors;
  dp->apply_ipsec(options.ipsec, ipsec_errors);
  if (!ipsec_errors.empty()) {
    error = "IPsec: " + ipsec_errors.front();
    return std::nullopt;
  }
  for (const auto& r : tables.routes) {
    if (r.kind != config::RouteKind::kConnected) dp->learn_neighbour(r.gateway.value, kNextHopMac);
  }
  if (!dp->launch({options.worker_lcore}, error)) return std::nullopt;
  if (options.users > 0 && !baseline) {
    config::UserGrants grants;
    grants.serial = 1;
    const std::string name = tables.user_firewall.templates.empty() ? "bench" : tables.user_firewall.templates[0].name;
    for (uint32_t i = 0; i < options.users; ++i) {
      grants.grants.push_back({i + 1, config::Ipv4Address{0x64400000u + i}, config::Role::kInternal, name});
    }
    const std::string wire = config::encode_user_grants(grants);
    auto start = std::chrono::steady_clock::now();
    // What the kUserGrants handler does: decode, build, publish, wait out the grace period.
    auto decoded = config::decode_user_grants(wire, error);
    if (!decoded || !dp->apply_user_grants(*decoded, error)) return std::nullopt;
    result.users_apply_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }

  const std::string phase = baseline ? "baseline" : "pipeline";
  auto wait = [&](double seconds, const Sample* from) {
    auto start = std::chrono::steady_clock::now();
    double next_report = 1;
    uint32_t reloads_done = 0;
    while (true) {
      double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (elapsed >= seconds) break;
      if (from && !baseline && options.reloads > 0 &&
          reloads_done < options.reloads && elapsed >= seconds * reloads_done / options.reloads) {
        std::string reload_error;
        if (dp->apply(tables, reload_error)) ++result.reloads;
        ++reloads_done;
        continue;
      }
      if (from && options.progress && elapsed >= next_report) {
        options.progress(phase, elapsed, dp->counters().received - from->counters.received);
        next_report += 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  };
  wait(options.warmup_seconds, nullptr);
  Sample a = sample(*dp, input_ports);
  wait(options.seconds, &a);
  Sample b = sample(*dp, input_ports);
  dp->stop();
  if (!baseline) result.connections = dp->worker(0).pipeline->connections().size();

  BenchRun r;
  r.seconds = double(b.tsc - a.tsc) / double(rte_get_tsc_hz());
  r.delta = minus(b.counters, a.counters);
  r.packets = r.delta.received;
  r.bytes = b.bytes - a.bytes;
  r.mpps = double(r.packets) / r.seconds / 1e6;
  r.gbps = double(r.bytes + 24 * r.packets) * 8 / r.seconds / 1e9;  // + FCS, preamble and gap
  r.cycles_per_packet = r.packets ? double(b.tsc - a.tsc) / double(r.packets) : 0;
  return r;
}

}  // namespace

std::optional<BenchResult> bench(const config::Tables& tables, const BenchOptions& options,
                                 std::string& error) {
  BenchResult result;
  result.tsc_hz = double(rte_get_tsc_hz());
  for (const auto& in : options.inputs) {
    bool known = false;
    for (const auto& i : tables.interfaces) known |= i.name == in.interface;
    if (!known) {
      error = fmt::format("--in {}: the configuration has no interface '{}'", in.interface, in.interface);
      return std::nullopt;
    }
    int64_t frames = count_frames(in.file);
    if (frames <= 0) {
      error = fmt::format("--in {}: {} is not a capture with frames", in.interface, in.file);
      return std::nullopt;
    }
    result.frames_in_captures += static_cast<uint64_t>(frames);
  }
  // The capture lives in the pool (infinite_rx), plus room for the frames in flight.
  uint32_t mbufs = static_cast<uint32_t>(result.frames_in_captures + 16384);
  if (options.baseline) {
    auto base = run(tables, options, true, mbufs, result, error);
    if (!base) return std::nullopt;
    result.baseline = *base;
  }
  auto pipeline = run(tables, options, false, mbufs, result, error);
  if (!pipeline) return std::nullopt;
  result.pipeline = *pipeline;
  return result;
}

}  // namespace bulwark::dataplane
