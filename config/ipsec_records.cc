#include "config/ipsec_records.h"

#include <openssl/evp.h>

#include <charconv>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "config/json.h"

namespace bulwark::config {
namespace {

std::string hex(const std::string& bytes) {
  std::string out;
  for (unsigned char b : bytes) out += fmt::format("{:02x}", b);
  return out;
}

std::optional<std::string> unhex(std::string_view text) {
  if (text.size() % 2) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < text.size(); i += 2) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data() + i, text.data() + i + 2, value, 16);
    if (ec != std::errc() || end != text.data() + i + 2) return std::nullopt;
    out += static_cast<char>(value);
  }
  return out;
}

std::string prefixes(const std::vector<Ipv4Prefix>& list) {
  std::string out;
  for (const auto& p : list) out += (out.empty() ? "" : ",") + p.str();
  return out;
}

const char* direction_name(IpsecPolicy::Direction d) {
  return d == IpsecPolicy::Direction::kIn ? "in" : d == IpsecPolicy::Direction::kOut ? "out" : "fwd";
}

// The key=value tokens of one line after its verb.
// The counters of one SA in a listing: JSON members (", …") or an indented text line.
std::string usage_text(const IpsecUsageMap* usage, const std::tuple<uint32_t, uint32_t, uint8_t>& key, bool json) {
  if (!usage) return "";
  auto it = usage->find(key);
  IpsecSaUsage u = it == usage->end() ? IpsecSaUsage{} : it->second;
  if (json) {
    return fmt::format(", \"bytes\": {}, \"packets\": {}, \"last_use\": {}, \"replayed\": {}, \"auth_failed\": {}, "
                       "\"malformed\": {}",
                       u.bytes, u.packets, u.last_use, u.replayed, u.auth_failed, u.malformed);
  }
  return fmt::format("    {} bytes, {} packets, replayed {}, authentication failed {}, malformed {}\n", u.bytes,
                     u.packets, u.replayed, u.auth_failed, u.malformed);
}

class Fields {
 public:
  explicit Fields(const std::string& line) {
    std::istringstream in(line);
    std::string token;
    in >> verb;
    while (in >> token) {
      size_t eq = token.find('=');
      values_[token.substr(0, eq)] = eq == std::string::npos ? "" : token.substr(eq + 1);
    }
  }
  std::string verb;
  bool ok = true;

  template <typename T>
  T number(const std::string& key) {
    auto it = values_.find(key);
    T value{};
    if (it == values_.end() ||
        std::from_chars(it->second.data(), it->second.data() + it->second.size(), value).ec != std::errc()) {
      ok = false;
    }
    return value;
  }
  std::string text(const std::string& key) {
    auto it = values_.find(key);
    return it == values_.end() ? "" : it->second;
  }
  Ipv4Address address(const std::string& key) {
    auto a = Ipv4Address::parse(text(key));
    ok &= a.has_value();
    return a.value_or(Ipv4Address{});
  }
  Ipv4Prefix prefix(const std::string& key) {
    auto p = Ipv4Prefix::parse(text(key));
    ok &= p.has_value();
    return p.value_or(Ipv4Prefix{});
  }
  std::vector<Ipv4Prefix> prefix_list(const std::string& key) {
    std::vector<Ipv4Prefix> out;
    std::string list = text(key);
    size_t start = 0;
    while (start < list.size()) {
      size_t comma = list.find(',', start);
      if (comma == std::string::npos) comma = list.size();
      auto p = Ipv4Prefix::parse(std::string_view(list).substr(start, comma - start));
      ok &= p.has_value();
      if (p) out.push_back(*p);
      start = comma + 1;
    }
    return out;
  }
  std::string bytes(const std::string& key) {
    auto b = unhex(text(key));
    ok &= b.has_value();
    return b.value_or("");
  }

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace

std::string key_fingerprint(const std::string& key) {
  if (key.empty()) return "";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned size = 0;
  EVP_Digest(key.data(), key.size(), digest, &size, EVP_sha256(), nullptr);
  return hex(std::string(reinterpret_cast<char*>(digest), 8));
}

std::string encode_sa(const IpsecSa& s) {
  return fmt::format(
      "sa spi={} proto={} dir={} src={} dst={} encap={} sport={} dport={} reqid={} mode={} enc={} enc_name={} "
      "enc_key={} int={} int_name={} int_key={} replay={} esn={} soft_s={} hard_s={} soft_b={} hard_b={} soft_p={} "
      "hard_p={} local_ts={} remote_ts={}\n",
      s.spi, s.protocol, s.inbound ? "in" : "out", s.src.str(), s.dst.str(), s.encap ? 1 : 0, s.src_port, s.dst_port,
      s.reqid, s.tunnel ? "tunnel" : "transport", s.enc_alg, s.enc_name, hex(s.enc_key), s.int_alg, s.int_name,
      hex(s.int_key), s.replay_window, s.esn ? 1 : 0, s.soft_seconds, s.hard_seconds, s.soft_bytes, s.hard_bytes,
      s.soft_packets, s.hard_packets, prefixes(s.local_ts), prefixes(s.remote_ts));
}

std::string encode_sa_delete(uint32_t spi, uint8_t protocol, Ipv4Address dst) {
  return fmt::format("sa-del spi={} proto={} dst={}\n", spi, protocol, dst.str());
}

std::string encode_policy(const IpsecPolicy& p) {
  return fmt::format("policy dir={} src={} dst={} proto={} reqid={} spi={} refs={}\n", direction_name(p.direction),
                     p.src.str(), p.dst.str(), p.protocol, p.reqid, p.spi, p.references);
}

bool IpsecState::apply(const std::string& lines, std::string& error) {
  std::istringstream in(lines);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    Fields f(line);
    if (f.verb == "flush") {
      sas_.clear();
      policies_.clear();
    } else if (f.verb == "sa") {
      IpsecSa s;
      s.spi = f.number<uint32_t>("spi");
      s.protocol = f.number<uint8_t>("proto");
      s.inbound = f.text("dir") == "in";
      s.src = f.address("src");
      s.dst = f.address("dst");
      s.encap = f.text("encap") == "1";
      s.src_port = f.number<uint16_t>("sport");
      s.dst_port = f.number<uint16_t>("dport");
      s.reqid = f.number<uint32_t>("reqid");
      s.tunnel = f.text("mode") == "tunnel";
      s.enc_alg = f.number<uint16_t>("enc");
      s.enc_name = f.text("enc_name");
      s.enc_key = f.bytes("enc_key");
      s.int_alg = f.number<uint16_t>("int");
      s.int_name = f.text("int_name");
      s.int_key = f.bytes("int_key");
      s.replay_window = f.number<uint32_t>("replay");
      s.esn = f.text("esn") == "1";
      s.soft_seconds = f.number<uint64_t>("soft_s");
      s.hard_seconds = f.number<uint64_t>("hard_s");
      s.soft_bytes = f.number<uint64_t>("soft_b");
      s.hard_bytes = f.number<uint64_t>("hard_b");
      s.soft_packets = f.number<uint64_t>("soft_p");
      s.hard_packets = f.number<uint64_t>("hard_p");
      s.local_ts = f.prefix_list("local_ts");
      s.remote_ts = f.prefix_list("remote_ts");
      if (f.ok) sas_[s.key()] = s;
    } else if (f.verb == "sa-del") {
      auto key = std::tuple(f.number<uint32_t>("spi"), f.address("dst").value, f.number<uint8_t>("proto"));
      if (f.ok) sas_.erase(key);
    } else if (f.verb == "policy") {
      IpsecPolicy p;
      std::string dir = f.text("dir");
      p.direction = dir == "in" ? IpsecPolicy::Direction::kIn
                    : dir == "out" ? IpsecPolicy::Direction::kOut
                                   : IpsecPolicy::Direction::kForward;
      f.ok &= dir == "in" || dir == "out" || dir == "fwd";
      p.src = f.prefix("src");
      p.dst = f.prefix("dst");
      p.protocol = f.number<uint8_t>("proto");
      p.reqid = f.number<uint32_t>("reqid");
      p.spi = f.number<uint32_t>("spi");
      p.references = f.number<int>("refs");
      if (f.ok) {
        if (p.references > 0) {
          policies_[p.key()] = p;
        } else {
          policies_.erase(p.key());
        }
      }
    } else {
      f.ok = false;
    }
    if (!f.ok) {
      error = fmt::format("IPsec update line {} is malformed", number);
      return false;
    }
  }
  return true;
}

std::string encode_usage(const IpsecUsageReport& report) {
  std::string out = fmt::format("instance id={}\n", report.instance);
  for (const auto& [key, u] : report.sas) {
    out += fmt::format("usage spi={} dst={} proto={} bytes={} packets={} last_use={} replayed={} auth_failed={} malformed={}\n",
                       std::get<0>(key), Ipv4Address{std::get<1>(key)}.str(), std::get<2>(key), u.bytes, u.packets,
                       u.last_use, u.replayed, u.auth_failed, u.malformed);
  }
  return out;
}

bool decode_usage(const std::string& lines, IpsecUsageReport& report) {
  std::istringstream in(lines);
  std::string line;
  bool instance_seen = false;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    Fields f(line);
    if (f.verb == "instance") {
      report.instance = f.number<uint64_t>("id");
      if (!f.ok) return false;
      instance_seen = true;
      continue;
    }
    IpsecSaUsage u;
    auto key = std::tuple(f.number<uint32_t>("spi"), f.address("dst").value, f.number<uint8_t>("proto"));
    u.bytes = f.number<uint64_t>("bytes");
    u.packets = f.number<uint64_t>("packets");
    u.last_use = f.number<uint64_t>("last_use");
    u.replayed = f.number<uint64_t>("replayed");
    u.auth_failed = f.number<uint64_t>("auth_failed");
    u.malformed = f.number<uint64_t>("malformed");
    if (!f.ok || f.verb != "usage") return false;
    report.sas[key] = u;
  }
  return instance_seen;
}

std::string IpsecState::list(bool json, const IpsecUsageMap* usage) const {
  std::string out = json ? "{\"sas\": [" : "";
  bool first = true;
  for (const auto& [key, s] : sas_) {
    if (json) {
      out += fmt::format(
          "{}{{\"spi\": {}, \"protocol\": {}, \"direction\": \"{}\", \"src\": \"{}\", \"dst\": \"{}\", \"encap\": {}, "
          "\"src_port\": {}, \"dst_port\": {}, \"reqid\": {}, \"mode\": \"{}\", \"encryption\": {}, \"integrity\": {}, "
          "\"enc_key_sha256\": \"{}\", \"int_key_sha256\": \"{}\", \"replay_window\": {}, \"esn\": {}, "
          "\"local_ts\": \"{}\", \"remote_ts\": \"{}\"{}}}",
          first ? "" : ", ", s.spi, s.protocol, s.inbound ? "in" : "out", s.src.str(), s.dst.str(), s.encap,
          s.src_port, s.dst_port, s.reqid, s.tunnel ? "tunnel" : "transport", json_string(s.enc_name),
          json_string(s.int_name), key_fingerprint(s.enc_key), key_fingerprint(s.int_key), s.replay_window, s.esn,
          prefixes(s.local_ts), prefixes(s.remote_ts), usage_text(usage, key, true));
    } else {
      out += fmt::format("SA {:08x} {} {} {} -> {}{} reqid {} {} {} keys {}/{} {} -> {}\n", s.spi,
                         s.protocol == 50 ? "esp" : "ah", s.inbound ? "in" : "out", s.src.str(), s.dst.str(),
                         s.encap ? fmt::format(" udp {}->{}", s.src_port, s.dst_port) : "", s.reqid,
                         s.tunnel ? "tunnel" : "transport", s.enc_name, key_fingerprint(s.enc_key),
                         key_fingerprint(s.int_key), prefixes(s.local_ts), prefixes(s.remote_ts));
      out += usage_text(usage, key, false);
    }
    first = false;
  }
  if (json) out += "], \"policies\": [";
  first = true;
  for (const auto& [key, p] : policies_) {
    if (json) {
      out += fmt::format("{}{{\"direction\": \"{}\", \"src_ts\": \"{}\", \"dst_ts\": \"{}\", \"reqid\": {}, "
                         "\"references\": {}}}",
                         first ? "" : ", ", direction_name(p.direction), p.src.str(), p.dst.str(), p.reqid,
                         p.references);
    } else {
      out += fmt::format("policy {} {} -> {} reqid {} refs {}\n", direction_name(p.direction), p.src.str(),
                         p.dst.str(), p.reqid, p.references);
    }
    first = false;
  }
  if (json) out += "]}";
  return out;
}

bool read_ipsec_records(const std::string& path, IpsecState& state, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = path + ": cannot read it";
    return false;
  }
  std::stringstream records;
  records << in.rdbuf();
  if (!state.apply(records.str(), error)) {
    error = path + ": " + error;
    return false;
  }
  return true;
}

}  // namespace bulwark::config
