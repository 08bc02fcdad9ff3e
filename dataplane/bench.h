// Benchmark: the production pipeline fed from memory at full speed.
//
// Every interface with an input capture gets a `net_pcap` port that replays the capture from
// memory forever (`infinite_rx`); every other port, and every exception-path port, is a `net_null`
// sink. One worker runs on its own pinned lcore with the TSC clock, exactly as in production; the
// main lcore measures. A run is a warm-up, then a fixed interval over which frames, bytes and
// cycles are counted; the same captures are first run through a baseline loop (receive, swap
// MACs, transmit) on the same core, so that every figure is also given as a ratio to the baseline
// — absolute rates drift on shared machines, ratios hold. Captures from memory into a null port
// measure the software's upper bound: there are no NIC costs.
//
// Next hops never answer ARP on a null port, so the bench enters the default gateway and the
// additional routes' gateways as neighbours before it starts. Interfaces without a configured
// MAC get the same addresses as in a replay (default_capture_mac).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/ipsec_records.h"
#include "config/tables.h"
#include "dataplane/counters.h"
#include "dataplane/replay.h"

namespace bulwark::dataplane {

struct BenchOptions {
  std::vector<ReplayInput> inputs;
  double warmup_seconds = 1;
  double seconds = 5;
  bool baseline = true;
  unsigned worker_lcore = 1;
  uint16_t mbuf_data_room = 0;  // 0 = default; less for small frames and large captures
  uint32_t reloads = 0;         // configuration reloads spread over the interval (scenario g)
  config::IpsecState ipsec;     // SAs and policies (the ESP scenarios)
  // User firewall: this many synthetic logged-in sessions (one grant each of the configuration's
  // first template, sources 100.64.0.0 upwards, which the captures do not use), published while
  // the worker runs, before the warm-up; the time that takes is measured.
  uint32_t users = 0;
  // Called about once a second while measuring: (phase, elapsed seconds, packets so far).
  std::function<void(const std::string&, double, uint64_t)> progress;
};

struct BenchRun {
  double seconds = 0;
  uint64_t packets = 0;       // frames received by the worker during the interval
  uint64_t bytes = 0;         // their bytes (from the input ports)
  double mpps = 0;
  double gbps = 0;            // frame bytes plus 20 bytes of preamble and gap per frame
  double cycles_per_packet = 0;
  CounterSnapshot delta;      // counters over the interval
};

struct BenchResult {
  BenchRun pipeline;
  std::optional<BenchRun> baseline;
  uint64_t frames_in_captures = 0;
  uint64_t connections = 0;   // connection-table entries at the end
  uint64_t reloads = 0;
  double tsc_hz = 0;
  double users_apply_ms = 0;  // publishing options.users sessions (kUserGrants' work)
};

std::optional<BenchResult> bench(const config::Tables& tables, const BenchOptions& options,
                                 std::string& error);

}  // namespace bulwark::dataplane
