// The dataplane's IPsec tables: the SAs and policies that bulwark-iked negotiated (delivered as
// config::IpsecState) as runtime records for the workers. Theory of operation: docs/esp.md.
//
// An IpsecTables is immutable and published like a Generation (one atomic pointer, freed after
// an RCU grace period). What must outlive a rebuild — an SA's sequence counter, replay window and
// counters, i.e. its crypto::EspSa — is shared between successive tables: the SaRegistry hands
// the same EspSa to the next tables as long as the SA's SPI, direction and keys are the same, so
// installing a new SA or policy never disturbs the traffic of the others (rekeying puts the new
// SAs beside the old ones; the outbound policy switches to the new SPI in one publication).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "config/ipsec_records.h"
#include "crypto/esp_sa.h"
#include "dataplane/headers.h"

namespace bulwark::dataplane {

// An address range in host byte order.
struct Selector {
  uint32_t network = 0, mask = 0;
  bool contains(uint32_t ip) const { return (ip & mask) == network; }
  static Selector of(const config::Ipv4Prefix& p) { return {p.network().value, p.mask()}; }
};

struct alignas(64) SaRuntime {
  crypto::EspSa* esp = nullptr;  // owned by the SaRegistry's shared_ptr (kept alive by `hold`)
  uint32_t spi = 0, reqid = 0;
  bool inbound = false, tunnel = true, encap = false;
  uint32_t outer_src = 0, outer_dst = 0;  // host order
  uint16_t src_port = 0, dst_port = 0;    // ESP in UDP (RFC 3948)
  // Tunnel mode: the outer IPv4 header as far as the SA fixes it (TOS, id, length and checksum
  // zero) and the one's-complement sum of those fixed words, so that encapsulation copies the
  // header and completes the checksum from values in registers (precompute_outer).
  Ipv4Header outer_template{};
  uint32_t outer_sum = 0;
  std::vector<Selector> local_ts, remote_ts;
  std::shared_ptr<crypto::EspSa> hold;

  // Inbound: does the decrypted packet belong to this SA's traffic selectors?
  bool admits(uint32_t src, uint32_t dst) const;
  // Fills outer_template and outer_sum from the addresses and the encapsulation.
  void precompute_outer();
};

struct OutboundPolicy {
  Selector src, dst;
  uint8_t protocol = 0;  // 0 = any
  const SaRuntime* sa = nullptr;  // nullptr: the SA is not installed (yet): drop
};

struct InboundPolicy {
  Selector src, dst;
  uint8_t protocol = 0;
};

// Which entries of a list ordered by specificity may match an address: for every distinct
// prefix P of the list, the entries whose prefix contains P. A lookup finds the longest P that
// contains the address (one hash probe per distinct prefix length, longest first) and returns
// its candidates — every entry whose prefix contains the address is among them, in list order.
// So a thousand tunnels cost a probe or two instead of a scan.
class PrefixIndex {
 public:
  void build(const std::vector<Selector>& prefixes);
  struct Range {
    const uint32_t* begin = nullptr;
    const uint32_t* end = nullptr;
  };
  Range candidates(uint32_t ip) const;

 private:
  // Open addressing, linear probing, at most half full: mask:network → range of entries_ (an
  // empty slot has an empty range; a prefix in the index always has candidates).
  struct Slot {
    uint64_t key = 0;
    uint32_t begin = 0, end = 0;
  };
  const Slot* find(uint64_t key) const;
  Slot& insert_slot(uint64_t key);
  std::vector<uint32_t> masks_;  // distinct prefix masks, longest first
  std::vector<Slot> slots_;
  uint64_t slot_mask_ = 0;
  std::vector<uint32_t> entries_;
};

class IpsecTables {
 public:
  const SaRuntime* inbound_sa(uint32_t spi) const;
  // The policy that protects traffic from `src` to `dst` (host order), or nullptr.
  const OutboundPolicy* outbound(uint32_t src, uint32_t dst, uint8_t protocol) const;
  // True when traffic from `src` to `dst` must arrive protected (an inbound policy covers it).
  bool must_be_protected(uint32_t src, uint32_t dst, uint8_t protocol) const;
  bool empty() const { return sas_.empty() && outbound_.empty() && inbound_policies_.empty(); }
  const std::vector<std::unique_ptr<SaRuntime>>& sas() const { return sas_; }

 private:
  friend class SaRegistry;
  std::vector<std::unique_ptr<SaRuntime>> sas_;
  std::vector<std::pair<uint32_t, const SaRuntime*>> inbound_by_spi_;  // sorted
  std::vector<OutboundPolicy> outbound_;                        // most specific first
  PrefixIndex outbound_by_dst_;
  std::vector<InboundPolicy> inbound_policies_;
  PrefixIndex inbound_by_src_;
};

// Builds IpsecTables and keeps the crypto state of SAs alive across them.
class SaRegistry {
 public:
  explicit SaRegistry(unsigned workers);
  // Tables for `state`; SAs that cannot be set up (unsupported algorithm) are reported in
  // `errors` and left out, so their policies drop instead of sending plaintext.
  std::unique_ptr<IpsecTables> build(const config::IpsecState& state, std::vector<std::string>& errors);
  // Each SA's counters, keyed like the records, under this registry's random instance id;
  // `now`/`hz` turn last use into Unix time.
  config::IpsecUsageReport usage(const IpsecTables& tables, uint64_t now, uint64_t hz) const;

 private:
  struct Known {
    std::shared_ptr<crypto::EspSa> esp;
    std::string fingerprint;  // algorithms and keys: a change means a new SA
  };
  unsigned workers_;
  uint64_t instance_;
  std::map<std::pair<uint32_t, bool>, Known> known_;  // (SPI, inbound)
};

}  // namespace bulwark::dataplane
