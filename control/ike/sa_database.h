// The IPsec SA and policy databases of bulwark-iked, filled by the kernel_ipsec backend
// (charon_shim.c) as charon negotiates, and the lifetime timers the kernel would otherwise run.
//
// SAs are keyed by (SPI, destination, protocol): charon may give several SAs one reqid. Policies
// are reference counted by (direction, selectors): during a rekey the new SA's policies are added
// before the old ones go, so the same policy is installed twice for a while. Soft expiry (charon
// jitters it already) makes charon rekey; hard expiry makes it delete the SA. Keys are kept for
// the dataplane and never shown: listings carry a short SHA-256 fingerprint of them instead, which
// is enough to see that two peers hold the same keys.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "config/ipsec_records.h"
#include "control/ike/charon_shim.h"

namespace bulwark::control::ike {

struct SaKey {
  uint32_t spi = 0;
  std::string dst;
  uint8_t protocol = 50;
  bool operator<(const SaKey& o) const { return std::tie(spi, dst, protocol) < std::tie(o.spi, o.dst, o.protocol); }
};

struct SaRecord {
  bw_sa_t sa{};
  std::chrono::steady_clock::time_point installed;
  bool soft_expired = false, hard_expired = false;
  uint64_t bytes = 0, packets = 0;  // as the dataplane counted them
  time_t last_use = 0;
  uint64_t instance = 0;  // the dataplane SA state that counted them (0: not counted yet)
};

struct Expiry {
  uint8_t protocol;
  uint32_t spi;
  std::string dst;
  bool hard;
};

class SaDatabase {
 public:
  SaDatabase() = default;
  ~SaDatabase();
  int add(const bw_sa_t& sa);
  int update(uint32_t spi, uint8_t protocol, const std::string& old_dst, const std::string& new_src,
             const std::string& new_dst, uint16_t src_port, uint16_t dst_port, bool encap);
  int query(uint32_t spi, uint8_t protocol, const std::string& dst, uint64_t& bytes, uint64_t& packets,
            time_t& last_use);
  int remove(uint32_t spi, uint8_t protocol, const std::string& dst);
  // Both return the policy's reference count afterwards (0: gone), or -1 when it was unknown.
  int add_policy(const bw_policy_t& p);
  // `remaining`: the policy as it stays (the SPI of the SA that installed it last).
  int remove_policy(const bw_policy_t& p, bw_policy_t& remaining);
  bool has_policy(const bw_policy_t& p);
  void flush(bool sas, bool policies);

  // The dataplane's counters (the answer to charon's query_sa and the volume lifetimes). Returns
  // the SAs that a previous dataplane instance had counted: the new one started them afresh
  // (sequence numbers, replay window), so they must be rekeyed.
  std::vector<Expiry> set_usage(const config::IpsecUsageReport& report);
  // The lifetimes (time, bytes, packets) that ran out by `now`; each is reported once.
  std::vector<Expiry> due(std::chrono::steady_clock::time_point now);

  // The whole state in the dataplane's wire form (config/ipsec_records.h).
  std::string snapshot();
  // The wire form of one SA (empty if unknown).
  std::string snapshot_of(uint32_t spi, uint8_t protocol, const std::string& dst);

  // Every SA and policy, or (with `reqids`) the SAs of those CHILD SAs only.
  std::string list_text(const std::set<uint32_t>* reqids = nullptr);
  std::string list_json();
  size_t sa_count();
  size_t policy_count();

 private:
  std::mutex mutex_;
  std::map<SaKey, SaRecord> sas_;
  struct PolicyEntry {
    bw_policy_t policy;
    int references = 0;
  };
  std::map<std::string, PolicyEntry> policies_;  // by direction and selectors
};

std::string selector_text(const bw_ts_t& ts);

// The dataplane's records of an SA and a policy; nullopt for IPv6 (the dataplane is IPv4 only).
std::optional<config::IpsecSa> to_record(const bw_sa_t& sa);
std::optional<config::IpsecPolicy> to_record(const bw_policy_t& p, int references);

}  // namespace bulwark::control::ike
