// Replay: the production pipeline on capture files.
//
// Every configured interface becomes a `net_pcap` port reading its input capture (if any) and
// writing `OUT_DIR/NAME.pcap`; its exception path writes `OUT_DIR/NAME.punt.pcap`. One worker
// runs on the calling thread. Frames of all inputs are processed in timestamp order (ties: the
// interface listed first), consecutive frames of one input forming one burst of up to 32, and
// the clock is the timestamp of the burst's first frame, so a replay is deterministic: the same
// inputs give byte-identical outputs. Output frames are stamped with the clock at which they
// were sent. When the inputs end, packets still waiting for ARP are dropped as unresolved.
// Interfaces without a configured `mac` use 02:62:77:00:00:<n>, n counting from 1. Firewall log
// lines go to OUT_DIR/firewall.log, each prefixed with the replay clock (seconds). `ipsec`
// installs SAs and policies before the first frame (an SA that cannot be set up is an error).
// `users` are user-firewall grant sets (as bulwark-control sends them, kUserGrants), each applied
// before the first frame whose timestamp is at or after its `at` (0: before the first frame), so
// that a replay can log users in and out at fixed points of the capture.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/ipsec_records.h"
#include "config/tables.h"
#include "config/user_grants.h"
#include "dataplane/counters.h"

namespace bulwark::dataplane {

struct ReplayInput {
  std::string interface;
  std::string file;
};

struct ReplayUsers {
  uint64_t at_us = 0;  // replay clock, microseconds since the epoch
  config::UserGrants grants;
};

struct ReplayResult {
  CounterSnapshot counters;
  uint64_t in = 0;   // frames read
  uint64_t out = 0;  // frames written to interface captures
  std::vector<std::pair<std::string, uint64_t>> written;  // per output capture
  uint64_t log_lines = 0;    // written to OUT_DIR/firewall.log
  uint64_t connections = 0;  // in the connection table at the end
};

// The MAC of interface `index` when the configuration gives none: capture and null ports have
// no address of their own, and a replay or bench must not depend on one. 02:62:77:00:00:<n>.
std::array<uint8_t, 6> default_capture_mac(size_t index);

// EAL must be initialised (see eal.h).
std::optional<ReplayResult> replay(const config::Tables& tables,
                                   const std::vector<ReplayInput>& inputs,
                                   const std::string& out_dir, const config::IpsecState& ipsec,
                                   const std::vector<ReplayUsers>& users, std::string& error);

}  // namespace bulwark::dataplane
