#include "control/ike/sa_database.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <fmt/format.h>

#include "config/json.h"

namespace bulwark::control::ike {
namespace {

const char* kDirections[] = {"in", "out", "fwd"};

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

std::string key_fingerprint(const uint8_t* key, size_t length) {
  if (length == 0) return "";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned size = 0;
  EVP_Digest(key, length, digest, &size, EVP_sha256(), nullptr);
  std::string out;
  for (unsigned i = 0; i < 8; ++i) out += fmt::format("{:02x}", digest[i]);
  return out;
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
  ++e.references;
  return 0;
}

int SaDatabase::remove_policy(const bw_policy_t& p) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = policies_.find(policy_key(p));
  if (it == policies_.end()) return -1;
  if (--it->second.references == 0) policies_.erase(it);
  return 0;
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
    auto age = std::chrono::duration_cast<std::chrono::seconds>(now - r.installed).count();
    if (r.sa.hard_seconds && static_cast<uint64_t>(age) >= r.sa.hard_seconds) {
      out.push_back({key.protocol, key.spi, key.dst, true});
      r.sa.hard_seconds = 0;  // once
    } else if (!r.soft_expired && r.sa.soft_seconds && static_cast<uint64_t>(age) >= r.sa.soft_seconds) {
      out.push_back({key.protocol, key.spi, key.dst, false});
      r.soft_expired = true;
    }
  }
  return out;
}

size_t SaDatabase::sa_count() {
  std::lock_guard<std::mutex> lock(mutex_);
  return sas_.size();
}

size_t SaDatabase::policy_count() {
  std::lock_guard<std::mutex> lock(mutex_);
  return policies_.size();
}

std::string SaDatabase::list_text() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  for (const auto& [key, r] : sas_) {
    const bw_sa_t& s = r.sa;
    out += fmt::format("SA {:08x} {} {} {} -> {}{} reqid {} {} {}{} keys {}/{} {} -> {}\n", s.spi,
                       s.protocol == 50 ? "esp" : "ah", s.inbound ? "in" : "out", s.src, s.dst,
                       s.encap ? fmt::format(" udp {}->{}", s.src_port, s.dst_port) : "", s.reqid,
                       s.tunnel ? "tunnel" : "transport", s.enc_name,
                       s.int_alg ? std::string("/") + s.int_name : "", key_fingerprint(s.enc_key, s.enc_key_len),
                       key_fingerprint(s.int_key, s.int_key_len), selectors(s.src_ts, s.src_ts_count),
                       selectors(s.dst_ts, s.dst_ts_count));
  }
  for (const auto& [key, e] : policies_) {
    const bw_policy_t& p = e.policy;
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
        json_string(key_fingerprint(s.enc_key, s.enc_key_len)), json_string(key_fingerprint(s.int_key, s.int_key_len)),
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
