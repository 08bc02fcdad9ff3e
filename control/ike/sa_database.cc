#include "control/ike/sa_database.h"

#include <openssl/crypto.h>

#include <fmt/format.h>

#include "config/json.h"

namespace bulwark::control::ike {
namespace {

const char* kDirections[] = {"in", "out", "fwd"};

std::string fingerprint(const uint8_t* key, size_t length) {
  return config::key_fingerprint(std::string(reinterpret_cast<const char*>(key), length));
}

std::string policy_key(const bw_policy_t& p) {
  return fmt::format("{} {} {}", p.direction, selector_text(p.src_ts), selector_text(p.dst_ts));
}

std::string selectors(const bw_ts_t* ts, int count) {
  std::string out;
  for (int i = 0; i < count; ++i) out += (i ? "," : "") + selector_text(ts[i]);
  return out;
}

}  // namespace

std::string selector_text(const bw_ts_t& ts) {
  std::string text = fmt::format("{}/{}", ts.net, ts.prefix);
  if (ts.protocol) text += fmt::format("[{}", ts.protocol);
  if (ts.protocol && !(ts.from_port == 0 && ts.to_port == 65535)) {
    text += ts.from_port == ts.to_port ? fmt::format("/{}", ts.from_port)
                                       : fmt::format("/{}-{}", ts.from_port, ts.to_port);
  }
  if (ts.protocol) text += "]";
  return text;
}


SaDatabase::~SaDatabase() {
  for (auto& [key, record] : sas_) OPENSSL_cleanse(&record.sa, sizeof(record.sa));
}

int SaDatabase::add(const bw_sa_t& sa) {
  std::lock_guard<std::mutex> lock(mutex_);
  SaRecord& r = sas_[{sa.spi, sa.dst, sa.protocol}];
  OPENSSL_cleanse(&r.sa, sizeof(r.sa));
  r = SaRecord{};
  r.sa = sa;
  r.installed = std::chrono::steady_clock::now();
  return 0;
}

int SaDatabase::update(uint32_t spi, uint8_t protocol, const std::string& old_dst, const std::string& new_src,
                       const std::string& new_dst, uint16_t src_port, uint16_t dst_port, bool encap) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = sas_.find({spi, old_dst, protocol});
  if (it == sas_.end()) return -1;
  SaRecord record = it->second;
  sas_.erase(it);
  std::snprintf(record.sa.src, BW_ADDR, "%s", new_src.c_str());
  std::snprintf(record.sa.dst, BW_ADDR, "%s", new_dst.c_str());
  record.sa.encap = encap;
  record.sa.src_port = src_port;
  record.sa.dst_port = dst_port;
  sas_[{spi, new_dst, protocol}] = record;
  return 0;
}

int SaDatabase::query(uint32_t spi, uint8_t protocol, const std::string& dst, uint64_t& bytes, uint64_t& packets,
                      time_t& last_use) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = sas_.find({spi, dst, protocol});
  if (it == sas_.end()) return -1;
  bytes = it->second.bytes;
  packets = it->second.packets;
  last_use = it->second.last_use;
  return 0;
}

int SaDatabase::remove(uint32_t spi, uint8_t protocol, const std::string& dst) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = sas_.find({spi, dst, protocol});
  if (it == sas_.end()) return -1;
  OPENSSL_cleanse(&it->second.sa, sizeof(it->second.sa));
  sas_.erase(it);
  return 0;
}

int SaDatabase::add_policy(const bw_policy_t& p) {
  std::lock_guard<std::mutex> lock(mutex_);
  PolicyEntry& e = policies_[policy_key(p)];
  e.policy = p;  // the newest SA's end points and SPI win (rekey)
  return ++e.references;
}

int SaDatabase::remove_policy(const bw_policy_t& p, bw_policy_t& remaining) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = policies_.find(policy_key(p));
  if (it == policies_.end()) return -1;
  int left = --it->second.references;
  remaining = it->second.policy;  // after a rekey: the new SA's, not the one being removed
  if (left == 0) policies_.erase(it);
  return left;
}

std::string SaDatabase::snapshot() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  for (const auto& [key, r] : sas_) {
    if (auto record = to_record(r.sa)) out += config::encode_sa(*record);
  }
  for (const auto& [key, e] : policies_) {
    if (auto record = to_record(e.policy, e.references)) out += config::encode_policy(*record);
  }
  return out;
}

std::string SaDatabase::snapshot_of(uint32_t spi, uint8_t protocol, const std::string& dst) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = sas_.find({spi, dst, protocol});
  if (it == sas_.end()) return {};
  auto record = to_record(it->second.sa);
  return record ? config::encode_sa(*record) : std::string{};
}

namespace {

std::optional<config::Ipv4Prefix> prefix_of(const bw_ts_t& ts) {
  auto address = config::Ipv4Address::parse(ts.net);
  if (!address || ts.prefix > 32) return std::nullopt;
  return config::Ipv4Prefix{*address, ts.prefix};
}

}  // namespace

std::optional<config::IpsecSa> to_record(const bw_sa_t& s) {
  auto src = config::Ipv4Address::parse(s.src);
  auto dst = config::Ipv4Address::parse(s.dst);
  if (!src || !dst) return std::nullopt;
  config::IpsecSa r;
  r.spi = s.spi;
  r.protocol = s.protocol;
  r.inbound = s.inbound;
  r.src = *src;
  r.dst = *dst;
  r.encap = s.encap;
  r.src_port = s.src_port;
  r.dst_port = s.dst_port;
  r.reqid = s.reqid;
  r.tunnel = s.tunnel;
  r.enc_alg = s.enc_alg;
  r.enc_name = s.enc_name;
  r.enc_key.assign(reinterpret_cast<const char*>(s.enc_key), s.enc_key_len);
  r.int_alg = s.int_alg;
  r.int_name = s.int_name;
  r.int_key.assign(reinterpret_cast<const char*>(s.int_key), s.int_key_len);
  r.replay_window = s.replay_window;
  r.esn = s.esn;
  r.soft_seconds = s.soft_seconds;
  r.hard_seconds = s.hard_seconds;
  r.soft_bytes = s.soft_bytes;
  r.hard_bytes = s.hard_bytes;
  r.soft_packets = s.soft_packets;
  r.hard_packets = s.hard_packets;
  // The SA's selectors as seen from this box: an inbound SA's source side is the remote.
  for (int i = 0; i < s.src_ts_count; ++i) {
    if (auto p = prefix_of(s.src_ts[i])) (s.inbound ? r.remote_ts : r.local_ts).push_back(*p);
  }
  for (int i = 0; i < s.dst_ts_count; ++i) {
    if (auto p = prefix_of(s.dst_ts[i])) (s.inbound ? r.local_ts : r.remote_ts).push_back(*p);
  }
  return r;
}

std::optional<config::IpsecPolicy> to_record(const bw_policy_t& p, int references) {
  auto src = prefix_of(p.src_ts);
  auto dst = prefix_of(p.dst_ts);
  if (!src || !dst) return std::nullopt;
  config::IpsecPolicy r;
  r.direction = p.direction == 0   ? config::IpsecPolicy::Direction::kIn
                : p.direction == 1 ? config::IpsecPolicy::Direction::kOut
                                   : config::IpsecPolicy::Direction::kForward;
  r.src = *src;
  r.dst = *dst;
  r.protocol = p.src_ts.protocol;
  r.reqid = p.reqid;
  r.spi = p.esp_spi;
  r.references = references;
  return r;
}

bool SaDatabase::has_policy(const bw_policy_t& p) {
  std::lock_guard<std::mutex> lock(mutex_);
  return policies_.count(policy_key(p)) > 0;
}

void SaDatabase::flush(bool sas, bool policies) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (sas) {
    for (auto& [key, record] : sas_) OPENSSL_cleanse(&record.sa, sizeof(record.sa));
    sas_.clear();
  }
  if (policies) policies_.clear();
}

std::vector<Expiry> SaDatabase::due(std::chrono::steady_clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Expiry> out;
  for (auto& [key, r] : sas_) {
    auto age = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(now - r.installed).count());
    // Time, or volume as the dataplane counted it (`set_usage`): whichever limit comes first.
    auto reached = [&](uint64_t seconds, uint64_t bytes, uint64_t packets) {
      return (seconds && age >= seconds) || (bytes && r.bytes >= bytes) || (packets && r.packets >= packets);
    };
    if (!r.hard_expired && reached(r.sa.hard_seconds, r.sa.hard_bytes, r.sa.hard_packets)) {
      out.push_back({key.protocol, key.spi, key.dst, true});
      r.hard_expired = true;  // once
    } else if (!r.soft_expired && reached(r.sa.soft_seconds, r.sa.soft_bytes, r.sa.soft_packets)) {
      out.push_back({key.protocol, key.spi, key.dst, false});
      r.soft_expired = true;
    }
  }
  return out;
}

std::vector<Expiry> SaDatabase::set_usage(const config::IpsecUsageReport& report) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Expiry> lost;
  for (auto& [key, r] : sas_) {
    auto address = config::Ipv4Address::parse(key.dst);
    if (!address) continue;  // IPv6 SAs are not in the dataplane
    auto it = report.sas.find({key.spi, address->value, key.protocol});
    if (it == report.sas.end()) continue;
    // Another instance counted this SA before: the dataplane restarted and holds it afresh. An SA
    // installed in the last second before the restart was never counted and is not noticed; its
    // peer drops only as many packets as the SA had carried until the sequence numbers catch up.
    if (r.instance && r.instance != report.instance && !r.soft_expired) {
      lost.push_back({key.protocol, key.spi, key.dst, false});
      r.soft_expired = true;
    }
    r.instance = report.instance;
    r.bytes = it->second.bytes;
    r.packets = it->second.packets;
    r.last_use = static_cast<time_t>(it->second.last_use);
  }
  return lost;
}

size_t SaDatabase::sa_count() {
  std::lock_guard<std::mutex> lock(mutex_);
  return sas_.size();
}

size_t SaDatabase::policy_count() {
  std::lock_guard<std::mutex> lock(mutex_);
  return policies_.size();
}

std::string SaDatabase::list_text(const std::set<uint32_t>* reqids) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  for (const auto& [key, r] : sas_) {
    const bw_sa_t& s = r.sa;
    if (reqids && !reqids->count(s.reqid)) continue;
    out += fmt::format("SA {:08x} {} {} {} -> {}{} reqid {} {} {}{} keys {}/{} {} -> {}\n", s.spi,
                       s.protocol == 50 ? "esp" : "ah", s.inbound ? "in" : "out", s.src, s.dst,
                       s.encap ? fmt::format(" udp {}->{}", s.src_port, s.dst_port) : "", s.reqid,
                       s.tunnel ? "tunnel" : "transport", s.enc_name,
                       s.int_alg ? std::string("/") + s.int_name : "", fingerprint(s.enc_key, s.enc_key_len),
                       fingerprint(s.int_key, s.int_key_len), selectors(s.src_ts, s.src_ts_count),
                       selectors(s.dst_ts, s.dst_ts_count));
  }
  for (const auto& [key, e] : policies_) {
    const bw_policy_t& p = e.policy;
    if (reqids && !reqids->count(p.reqid)) continue;
    out += fmt::format("policy {} {} -> {} reqid {} refs {}\n", kDirections[p.direction % 3],
                       selector_text(p.src_ts), selector_text(p.dst_ts), p.reqid, e.references);
  }
  return out;
}

std::string SaDatabase::list_json() {
  using config::json_string;
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out = "{\"sas\": [";
  bool first = true;
  for (const auto& [key, r] : sas_) {
    const bw_sa_t& s = r.sa;
    out += fmt::format(
        "{}{{\"spi\": {}, \"protocol\": {}, \"direction\": {}, \"src\": {}, \"dst\": {}, \"encap\": {}, "
        "\"src_port\": {}, \"dst_port\": {}, \"reqid\": {}, \"mode\": {}, \"encryption\": {}, \"integrity\": {}, "
        "\"enc_key_sha256\": {}, \"int_key_sha256\": {}, \"esn\": {}, \"replay_window\": {}, "
        "\"soft_seconds\": {}, \"hard_seconds\": {}, \"local_ts\": {}, \"remote_ts\": {}, \"bytes\": {}, "
        "\"packets\": {}}}",
        first ? "" : ", ", s.spi, s.protocol, json_string(s.inbound ? "in" : "out"), json_string(s.src),
        json_string(s.dst), s.encap ? "true" : "false", s.src_port, s.dst_port, s.reqid,
        json_string(s.tunnel ? "tunnel" : "transport"), json_string(s.enc_name), json_string(s.int_name),
        json_string(fingerprint(s.enc_key, s.enc_key_len)), json_string(fingerprint(s.int_key, s.int_key_len)),
        s.esn ? "true" : "false", s.replay_window, s.soft_seconds, s.hard_seconds,
        json_string(selectors(s.src_ts, s.src_ts_count)), json_string(selectors(s.dst_ts, s.dst_ts_count)), r.bytes,
        r.packets);
    first = false;
  }
  out += "], \"policies\": [";
  first = true;
  for (const auto& [key, e] : policies_) {
    const bw_policy_t& p = e.policy;
    out += fmt::format("{}{{\"direction\": {}, \"src_ts\": {}, \"dst_ts\": {}, \"reqid\": {}, \"references\": {}}}",
                       first ? "" : ", ", json_string(kDirections[p.direction % 3]),
                       json_string(selector_text(p.src_ts)), json_string(selector_text(p.dst_ts)), p.reqid,
                       e.references);
    first = false;
  }
  return out + "]}";
}

}  // namespace bulwark::control::ike
