#include "dataplane/ipsec_tables.h"

#include <algorithm>
#include <ctime>
#include <random>

#include <fmt/format.h>

#include "config/model.h"

namespace bulwark::dataplane {
namespace {

bool protocol_matches(uint8_t policy, uint8_t packet) { return policy == 0 || policy == packet; }

int specificity(const Selector& s) { return __builtin_popcount(s.mask); }

uint64_t slot_hash(uint64_t key) {  // the finaliser of MurmurHash3: every key bit moves the slot
  key ^= key >> 33;
  key *= 0xff51afd7ed558ccdull;
  key ^= key >> 33;
  return key;
}

std::string fingerprint(const config::IpsecSa& s) {
  return fmt::format("{}/{}/{}/{}/{}/{}/{}", s.enc_alg, s.int_alg, s.enc_key, s.int_key, s.esn, s.replay_window,
                     s.protocol);
}

}  // namespace

bool SaRuntime::admits(uint32_t src, uint32_t dst) const {
  bool src_ok = std::any_of(remote_ts.begin(), remote_ts.end(), [&](const Selector& s) { return s.contains(src); });
  bool dst_ok = std::any_of(local_ts.begin(), local_ts.end(), [&](const Selector& s) { return s.contains(dst); });
  return src_ok && dst_ok;
}

void SaRuntime::precompute_outer() {
  constexpr uint8_t kOuterTtl = 64;
  outer_template = Ipv4Header{};
  outer_template.version_ihl = 0x45;
  outer_template.fragment = Be16::from_host(0);  // DF clear: the outer packet may be fragmented
  outer_template.ttl = kOuterTtl;
  outer_template.protocol = encap ? config::kProtoUdp : config::kProtoEsp;
  outer_template.src = Be32::from_host(outer_src);
  outer_template.dst = Be32::from_host(outer_dst);
  outer_sum = (uint32_t{outer_template.version_ihl} << 8) + (uint32_t{kOuterTtl} << 8) + outer_template.protocol +
              (outer_src >> 16) + (outer_src & 0xffff) + (outer_dst >> 16) + (outer_dst & 0xffff);
}

const SaRuntime* IpsecTables::inbound_sa(uint32_t spi) const {
  auto it = std::lower_bound(inbound_by_spi_.begin(), inbound_by_spi_.end(), spi,
                             [](const auto& entry, uint32_t s) { return entry.first < s; });
  return it != inbound_by_spi_.end() && it->first == spi ? it->second : nullptr;
}

const PrefixIndex::Slot* PrefixIndex::find(uint64_t key) const {
  for (uint64_t i = slot_hash(key) & slot_mask_;; i = (i + 1) & slot_mask_) {
    const Slot& s = slots_[i];
    if (s.begin == s.end) return nullptr;
    if (s.key == key) return &s;
  }
}

PrefixIndex::Slot& PrefixIndex::insert_slot(uint64_t key) {
  uint64_t i = slot_hash(key) & slot_mask_;
  while (slots_[i].begin != slots_[i].end) i = (i + 1) & slot_mask_;
  slots_[i].key = key;
  return slots_[i];
}

void PrefixIndex::build(const std::vector<Selector>& prefixes) {
  masks_.clear();
  entries_.clear();
  size_t capacity = 2;
  while (capacity < 2 * prefixes.size()) capacity *= 2;
  slots_.assign(capacity, Slot{});
  slot_mask_ = capacity - 1;
  for (const auto& p : prefixes) {
    if (std::find(masks_.begin(), masks_.end(), p.mask) == masks_.end()) masks_.push_back(p.mask);
  }
  std::sort(masks_.begin(), masks_.end(), [](uint32_t a, uint32_t b) { return __builtin_popcount(a) > __builtin_popcount(b); });
  for (const auto& p : prefixes) {
    const uint64_t key = uint64_t{p.mask} << 32 | p.network;
    if (find(key)) continue;
    const auto first = static_cast<uint32_t>(entries_.size());
    for (uint32_t i = 0; i < prefixes.size(); ++i) {
      const Selector& q = prefixes[i];
      if ((q.mask & p.mask) == q.mask && q.contains(p.network)) entries_.push_back(i);  // q ⊇ p
    }
    Slot& slot = insert_slot(key);
    slot.begin = first;
    slot.end = static_cast<uint32_t>(entries_.size());  // at least p itself: never empty
  }
}

PrefixIndex::Range PrefixIndex::candidates(uint32_t ip) const {
  for (uint32_t mask : masks_) {
    if (const Slot* s = find(uint64_t{mask} << 32 | (ip & mask))) return {entries_.data() + s->begin, entries_.data() + s->end};
  }
  return {};
}

const OutboundPolicy* IpsecTables::outbound(uint32_t src, uint32_t dst, uint8_t protocol) const {
  for (auto r = outbound_by_dst_.candidates(dst); r.begin != r.end; ++r.begin) {
    const OutboundPolicy& p = outbound_[*r.begin];
    if (p.src.contains(src) && protocol_matches(p.protocol, protocol)) return &p;
  }
  return nullptr;
}

bool IpsecTables::must_be_protected(uint32_t src, uint32_t dst, uint8_t protocol) const {
  for (auto r = inbound_by_src_.candidates(src); r.begin != r.end; ++r.begin) {
    const InboundPolicy& p = inbound_policies_[*r.begin];
    if (p.dst.contains(dst) && protocol_matches(p.protocol, protocol)) return true;
  }
  return false;
}

std::unique_ptr<IpsecTables> SaRegistry::build(const config::IpsecState& state, std::vector<std::string>& errors) {
  auto tables = std::make_unique<IpsecTables>();
  std::map<std::pair<uint32_t, bool>, Known> next;
  std::map<uint32_t, const SaRuntime*> outbound_by_spi;
  for (const auto& [key, s] : state.sas()) {
    if (s.protocol != 50) {
      errors.push_back(fmt::format("SA {:08x}: only ESP is supported", s.spi));
      continue;
    }
    const auto id = std::pair(s.spi, s.inbound);
    Known k;
    k.fingerprint = fingerprint(s);
    auto old = known_.find(id);
    if (old != known_.end() && old->second.fingerprint == k.fingerprint) {
      k.esp = old->second.esp;
    } else {
      crypto::SaSettings settings;
      settings.spi = s.spi;
      settings.inbound = s.inbound;
      settings.enc_alg = s.enc_alg;
      settings.int_alg = s.int_alg;
      settings.enc_key = s.enc_key;
      settings.int_key = s.int_key;
      settings.replay_window = s.replay_window;
      settings.esn = s.esn;
      std::string error;
      k.esp = crypto::EspSa::create(settings, workers_, error);
      if (!k.esp) {
        errors.push_back(fmt::format("SA {:08x} ({} {}): {}", s.spi, s.enc_name, s.int_name, error));
        continue;
      }
    }
    auto rt = std::make_unique<SaRuntime>();
    rt->esp = k.esp.get();
    rt->hold = k.esp;
    rt->spi = s.spi;
    rt->reqid = s.reqid;
    rt->inbound = s.inbound;
    rt->tunnel = s.tunnel;
    rt->encap = s.encap;
    rt->outer_src = s.src.value;
    rt->outer_dst = s.dst.value;
    rt->src_port = s.src_port;
    rt->dst_port = s.dst_port;
    rt->precompute_outer();
    for (const auto& p : s.local_ts) rt->local_ts.push_back(Selector::of(p));
    for (const auto& p : s.remote_ts) rt->remote_ts.push_back(Selector::of(p));
    if (s.inbound) {
      tables->inbound_by_spi_.emplace_back(s.spi, rt.get());
    } else {
      outbound_by_spi[s.spi] = rt.get();
    }
    tables->sas_.push_back(std::move(rt));
    next[id] = std::move(k);
  }
  known_ = std::move(next);
  std::sort(tables->inbound_by_spi_.begin(), tables->inbound_by_spi_.end());

  for (const auto& [key, p] : state.policies()) {
    if (p.direction == config::IpsecPolicy::Direction::kOut) {
      auto sa = outbound_by_spi.find(p.spi);
      tables->outbound_.push_back({Selector::of(p.src), Selector::of(p.dst), p.protocol,
                                   sa == outbound_by_spi.end() ? nullptr : sa->second});
    } else {
      tables->inbound_policies_.push_back({Selector::of(p.src), Selector::of(p.dst), p.protocol});
    }
  }
  std::stable_sort(tables->outbound_.begin(), tables->outbound_.end(), [](const auto& a, const auto& b) {
    return std::tuple(specificity(a.dst), specificity(a.src), a.protocol != 0) >
           std::tuple(specificity(b.dst), specificity(b.src), b.protocol != 0);
  });
  std::vector<Selector> keys;
  for (const auto& p : tables->outbound_) keys.push_back(p.dst);
  tables->outbound_by_dst_.build(keys);
  keys.clear();
  for (const auto& p : tables->inbound_policies_) keys.push_back(p.src);
  tables->inbound_by_src_.build(keys);
  return tables;
}

SaRegistry::SaRegistry(unsigned workers) : workers_(workers) {
  std::random_device random;
  instance_ = (static_cast<uint64_t>(random()) << 32 | random()) | 1;  // never 0 ("no SA state")
}

config::IpsecUsageReport SaRegistry::usage(const IpsecTables& tables, uint64_t now, uint64_t hz) const {
  config::IpsecUsageReport out;
  out.instance = instance_;
  const uint64_t wall = static_cast<uint64_t>(std::time(nullptr));
  for (const auto& sa : tables.sas()) {
    crypto::SaTotals t = sa->esp->totals();
    config::IpsecSaUsage u;
    u.bytes = t.bytes;
    u.packets = t.packets;
    if (t.packets) {
      uint64_t ago = now > t.last_use && hz ? (now - t.last_use) / hz : 0;
      u.last_use = wall > ago ? wall - ago : wall;
    }
    u.replayed = t.replayed;
    u.auth_failed = t.auth_failed;
    u.malformed = t.malformed;
    out.sas[{sa->spi, sa->outer_dst, 50}] = u;
  }
  return out;
}

}  // namespace bulwark::dataplane
