// `bulwark bench`: measure the production pipeline on captures replayed from memory
// (see dataplane/bench.h).
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "config/config.h"
#include "config/json.h"
#include "dataplane/bench.h"
#include "dataplane/eal.h"
#include "tools/commands.h"
#include "tools/options.h"

namespace bulwark::tools {
namespace {

namespace po = boost::program_options;
using dataplane::BenchResult;
using dataplane::BenchRun;

std::string stage_json(const BenchRun& r) {
  std::string out;
  for (size_t i = 0; i < dataplane::kStageCount; ++i) {
    if (r.delta.stage_cycles[i] == 0) continue;
    out += fmt::format("{}{}: {:.1f}", out.empty() ? "" : ", ",
                       config::json_string(dataplane::stage_name(static_cast<dataplane::Stage>(i))),
                       r.packets ? double(r.delta.stage_cycles[i]) / double(r.packets) : 0.0);
  }
  return "{" + out + "}";
}

std::string dropped_json(const BenchRun& r) {
  std::string out;
  for (size_t i = 0; i < dataplane::kDropReasonCount; ++i) {
    if (r.delta.dropped[i] == 0) continue;
    out += fmt::format("{}{}: {}", out.empty() ? "" : ", ",
                       config::json_string(dataplane::kDropReasons[i].name), r.delta.dropped[i]);
  }
  return "{" + out + "}";
}

}  // namespace

int run_bench(const std::vector<std::string>& args) {
  po::options_description options(
      "usage: bulwark bench [--config CFG…] --in IFNAME=FILE.pcap… [OPTIONS]\n\n"
      "Replays the captures from memory, forever, through the real pipeline on a pinned worker\n"
      "core into null ports, and reports packets per second, Gbit/s (with 24 bytes of FCS,\n"
      "preamble and gap per frame), TSC cycles per packet in total and per stage, drops by\n"
      "reason and the connection-table occupancy — and the same for a baseline loop (receive,\n"
      "swap MACs, transmit) on the same core, with the ratio. Needs two cores: the main lcore 0\n"
      "measures, the worker runs on --lcore.\n\noptions");
  options.add_options()
      ("help,h", "show this help")
      ("config,c", po::value<std::vector<std::string>>()->composing(), "configuration file (repeatable)")
      ("in,i", po::value<std::vector<std::string>>()->composing(), "IFNAME=FILE.pcap (repeatable)")
      ("seconds", po::value<double>()->default_value(5), "measuring interval")
      ("warmup", po::value<double>()->default_value(1), "warm-up before measuring")
      ("no-baseline", "skip the baseline run")
      ("lcore", po::value<unsigned>()->default_value(1), "worker lcore")
      ("memory", po::value<unsigned>()->default_value(1024), "EAL memory in MB")
      ("hugepages", "EAL memory in hugepages, as in production (reserved and mounted beforehand, e.g. "
                    "dpdk-hugepages.py --setup 3G); without, 4 KiB pages")
      ("mbuf-data-room", po::value<uint16_t>()->default_value(0), "mbuf data room in bytes (0: 2 KiB)")
      ("reloads", po::value<uint32_t>()->default_value(0), "configuration reloads during the interval")
      ("ipsec", po::value<std::string>(), "IPsec SA and policy records (ESP scenarios, docs/esp.md)")
      ("users", po::value<uint32_t>()->default_value(0),
       "N synthetic logged-in user-firewall sessions (and the time to publish them)")
      ("label", po::value<std::string>()->default_value(""), "a name for this run in the JSON")
      ("json", "print one JSON object");
  po::variables_map vm;
  if (int rc = parse_command_line(args, options, {}, vm, "bench"); rc >= 0) return rc;
  if (!vm.count("in")) {
    fmt::print(stderr, "bulwark bench: --in is required\n\n");
    std::cerr << options << "\n";
    return 2;
  }
  dataplane::BenchOptions bench;
  for (const auto& spec : vm["in"].as<std::vector<std::string>>()) {
    size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
      fmt::print(stderr, "bulwark bench: --in {}: expected IFNAME=FILE.pcap\n", spec);
      return 2;
    }
    bench.inputs.push_back({spec.substr(0, eq), std::filesystem::absolute(spec.substr(eq + 1)).string()});
  }
  bench.seconds = vm["seconds"].as<double>();
  bench.warmup_seconds = vm["warmup"].as<double>();
  bench.baseline = !vm.count("no-baseline");
  bench.worker_lcore = vm["lcore"].as<unsigned>();
  bench.mbuf_data_room = vm["mbuf-data-room"].as<uint16_t>();
  bench.reloads = vm["reloads"].as<uint32_t>();
  bench.users = vm["users"].as<uint32_t>();
  bench.progress = [](const std::string& phase, double elapsed, uint64_t packets) {
    fmt::print(stderr, "\r{:>8}: {:4.1f} s, {:6.2f} Mpps", phase, elapsed, double(packets) / elapsed / 1e6);
    std::fflush(stderr);
  };

  config::LoadResult loaded = config::load_files(
      vm.count("config") ? vm["config"].as<std::vector<std::string>>() : std::vector<std::string>{});
  for (const auto& d : loaded.diagnostics.all()) std::cerr << d.str() << "\n";
  if (!loaded.tables) return 1;

  std::string error;
  if (vm.count("ipsec") && !config::read_ipsec_records(vm["ipsec"].as<std::string>(), bench.ipsec, error)) {
    fmt::print(stderr, "bulwark bench: --ipsec {}\n", error);
    return 1;
  }
  std::vector<std::string> eal{"-l", fmt::format("0,{}", bench.worker_lcore), "--main-lcore=0",
                               "-m", fmt::format("{}", vm["memory"].as<unsigned>()), "--no-pci", "--no-shconf",
                               "--no-telemetry", "--log-level=error", fmt::format("--file-prefix=bw-bench-{}", getpid())};
  eal.push_back(vm.count("hugepages") ? "--huge-unlink" : "--no-huge");  // no hugepage files left behind
  if (!dataplane::init_eal(eal, error)) {
    fmt::print(stderr, "bulwark bench: {}\n", error);
    return 1;
  }
  auto result = dataplane::bench(*loaded.tables, bench, error);
  fmt::print(stderr, "\n");
  dataplane::cleanup_eal();
  if (!result) {
    fmt::print(stderr, "bulwark bench: {}\n", error);
    return 1;
  }
  const BenchRun& p = result->pipeline;
  double baseline_mpps = result->baseline ? result->baseline->mpps : 0;
  double ratio = baseline_mpps > 0 ? p.mpps / baseline_mpps : 0;
  if (vm.count("json")) {
    fmt::print(
        "{{\"label\": {}, \"mpps\": {:.4f}, \"gbps\": {:.4f}, \"cycles_per_packet\": {:.1f}, "
        "\"baseline_mpps\": {:.4f}, \"baseline_cycles_per_packet\": {:.1f}, \"ratio\": {:.4f}, "
        "\"stage_cycles_per_packet\": {}, \"packets\": {}, \"seconds\": {:.3f}, \"dropped\": {}, "
        "\"forwarded\": {}, \"connections\": {}, \"frames_in_captures\": {}, \"reloads\": {}, "
        "\"tsc_hz\": {:.0f}, \"users\": {}, \"users_apply_ms\": {:.2f}}}\n",
        config::json_string(vm["label"].as<std::string>()), p.mpps, p.gbps, p.cycles_per_packet,
        baseline_mpps, result->baseline ? result->baseline->cycles_per_packet : 0.0, ratio,
        stage_json(p), p.packets, p.seconds, dropped_json(p), p.delta.forwarded, result->connections,
        result->frames_in_captures, result->reloads, result->tsc_hz, bench.users, result->users_apply_ms);
    return 0;
  }
  fmt::print("pipeline: {:.3f} Mpps, {:.3f} Gbit/s, {:.0f} cycles/packet over {:.1f} s\n", p.mpps, p.gbps,
             p.cycles_per_packet, p.seconds);
  if (result->baseline) {
    fmt::print("baseline: {:.3f} Mpps, {:.0f} cycles/packet; ratio {:.2f}\n", baseline_mpps,
               result->baseline->cycles_per_packet, ratio);
  }
  fmt::print("stages (cycles/packet): {}\n", stage_json(p));
  fmt::print("forwarded {}, dropped {}, connections {}, reloads {}\n", p.delta.forwarded, dropped_json(p),
             result->connections, result->reloads);
  if (bench.users) fmt::print("user firewall: {} sessions published in {:.2f} ms\n", bench.users, result->users_apply_ms);
  return 0;
}

}  // namespace bulwark::tools
