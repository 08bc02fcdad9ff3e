// IPsec SAs and policies as bulwark-iked hands them to the dataplane (control message kIpsec):
// the runtime records the ESP stage will work from. Until then the dataplane stores them and
// `bulwark sa` lists them, keys shown only as fingerprints.
//
// Wire form: one record per line, space-separated key=value tokens (keys in hex), e.g.
//   sa spi=3735928559 proto=50 dir=in src=10.1.0.102 dst=10.1.0.101 … enc_key=00ff…
//   sa-del spi=3735928559 proto=50 dst=10.1.0.101
//   policy dir=out src=192.168.1.0/24 dst=192.168.2.0/24 reqid=1 spi=… refs=2   (refs=0: removed)
//   flush                                    (everything before is void: a full state follows)
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "config/net_types.h"

namespace bulwark::config {

struct IpsecSa {
  uint32_t spi = 0;
  uint8_t protocol = 50;
  bool inbound = false;
  Ipv4Address src, dst;
  bool encap = false;  // ESP in UDP (RFC 3948) with these ports
  uint16_t src_port = 0, dst_port = 0;
  uint32_t reqid = 0;
  bool tunnel = true;
  uint16_t enc_alg = 0, int_alg = 0;  // IKEv2 transform IDs
  std::string enc_name, int_name;
  std::string enc_key, int_key;  // raw bytes
  uint32_t replay_window = 32;
  bool esn = false;
  uint64_t soft_seconds = 0, hard_seconds = 0, soft_bytes = 0, hard_bytes = 0, soft_packets = 0, hard_packets = 0;
  std::vector<Ipv4Prefix> local_ts, remote_ts;

  auto key() const { return std::tuple(spi, dst.value, protocol); }
};

struct IpsecPolicy {
  enum class Direction : uint8_t { kIn, kOut, kForward } direction = Direction::kOut;
  Ipv4Prefix src, dst;
  uint8_t protocol = 0;  // 0 = any
  uint32_t reqid = 0;
  uint32_t spi = 0;
  int references = 0;

  auto key() const { return std::tuple(direction, src, dst, protocol); }
};

// What the dataplane counted for one SA: the traffic that `query_sa` reports to charon (byte
// and packet lifetimes, last use for DPD and idle detection) and the packets it refused.
struct IpsecSaUsage {
  uint64_t bytes = 0, packets = 0;
  uint64_t last_use = 0;  // Unix time, 0 = never
  uint64_t replayed = 0, auth_failed = 0, malformed = 0;
};
using IpsecUsageMap = std::map<std::tuple<uint32_t, uint32_t, uint8_t>, IpsecSaUsage>;

// The counters of one dataplane process. `instance` names the SA state they were counted in
// (random per process): a restarted dataplane reports another, and every SA it holds started
// afresh there, with sequence numbers and replay window from zero.
struct IpsecUsageReport {
  uint64_t instance = 0;
  IpsecUsageMap sas;
};

// "instance id=…", then usage lines: "usage spi=… proto=50 dst=… bytes=… packets=… last_use=…
// replayed=… auth_failed=… malformed=…".
std::string encode_usage(const IpsecUsageReport& report);
bool decode_usage(const std::string& lines, IpsecUsageReport& report);

std::string encode_sa(const IpsecSa& sa);
std::string encode_sa_delete(uint32_t spi, uint8_t protocol, Ipv4Address dst);
std::string encode_policy(const IpsecPolicy& p);

// The dataplane's copy: applies lines of the wire form; false with `error` for a malformed line
// (the lines before it stay applied).
class IpsecState {
 public:
  bool apply(const std::string& lines, std::string& error);
  // With `usage` (keyed like the SAs) the listing shows each SA's traffic and failures.
  std::string list(bool json, const IpsecUsageMap* usage = nullptr) const;
  const auto& sas() const { return sas_; }
  const auto& policies() const { return policies_; }
  size_t sa_count() const { return sas_.size(); }
  size_t policy_count() const { return policies_.size(); }

 private:
  std::map<std::tuple<uint32_t, uint32_t, uint8_t>, IpsecSa> sas_;
  std::map<std::tuple<IpsecPolicy::Direction, Ipv4Prefix, Ipv4Prefix, uint8_t>, IpsecPolicy> policies_;
};

// Applies the records of a file (`bulwark replay|bench --ipsec`: SAs with known keys).
bool read_ipsec_records(const std::string& path, IpsecState& state, std::string& error);

// The first 8 bytes of the SHA-256 of a key, in hex: enough to compare, useless to decrypt.
std::string key_fingerprint(const std::string& key);

}  // namespace bulwark::config
