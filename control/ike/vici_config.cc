#include "control/ike/vici_config.h"

#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <regex>
#include <map>
#include <set>

#include <fmt/format.h>

#include "config/secrets.h"
#include "control/ike/vici_client.h"

namespace bulwark::control::ike {
namespace {

std::string seconds(uint32_t s) { return std::to_string(s) + "s"; }

// Sends one command; empty string on success, else the daemon's reason.
std::string submit(ViciClient& vici, const std::string& command, const ViciFields& fields, const std::string& what) {
  std::string error;
  auto reply = vici.request(command, fields, error);
  if (!reply) return fmt::format("{}: {}", what, error);
  if (vici_value(*reply, "success") != "yes") {
    return fmt::format("{}: {}", what, vici_value(*reply, "errmsg", "rejected"));
  }
  return {};
}

std::string der_of_certificate(X509* cert) {
  int n = i2d_X509(cert, nullptr);
  std::string out(static_cast<size_t>(n > 0 ? n : 0), '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  i2d_X509(cert, &p);
  return out;
}

std::string read_file(const std::string& path, std::string& error) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    error = fmt::format("cannot read {}: {}", path, std::strerror(errno));
    return {};
  }
  std::string data;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) data.append(buffer, n);
  std::fclose(f);
  return data;
}

}  // namespace

std::string child_name(const config::VpnConnectionEntry& c, size_t tunnel) {
  return tunnel == 0 ? c.name : fmt::format("{}-{}", c.name, tunnel + 1);
}

std::vector<std::string> without_dh_groups(const std::vector<std::string>& proposals) {
  static const std::regex group("-(modp[0-9]+s?[0-9]*|ecp[0-9]+(bp)?|curve25519|curve448|x25519|x448)");
  std::vector<std::string> out;
  for (const auto& p : proposals) out.push_back(std::regex_replace(p, group, ""));
  return out;
}

std::vector<ViciItem> connection_messages(const config::Tables& t, const CertificateData& data) {
  auto certificate = [&](const config::CertificateEntry& c) { return data ? data(c) : c.path; };
  std::vector<ViciItem> out;
  for (const auto& conn : t.ipsec.connections) {
    ViciItem m{"load-conn", conn.name, {}};
    auto add = [&](const std::string& k, const std::string& v) { m.fields.emplace_back(k, v); };
    const auto& ike = conn.ike;
    add("version", std::to_string(ike.version));
    if (ike.version == 1) add("aggressive", ike.aggressive ? "yes" : "no");
    add("remote_addrs[]", conn.remote_gateway);
    // A connection to %any answers only on its interface's addresses (any_interface, manual 10.2:
    // "Interface to use for gateway setting %any"; the first external one by default).
    if (conn.remote_gateway == "%any" && conn.interface < t.interfaces.size()) {
      for (const auto& a : t.interfaces[conn.interface].addresses) add("local_addrs[]", a.prefix.address.str());
    }
    for (const auto& p : ike.proposals) add("proposals[]", p);
    add("rekey_time", seconds(ike.lifetime > ike.rekey_margin ? ike.lifetime - ike.rekey_margin : ike.lifetime));
    add("over_time", seconds(ike.rekey_margin));
    add("rand_time", seconds(ike.rekey_margin * ike.rekey_fuzz / 100));
    add("dpd_delay", seconds(ike.dpd ? ike.dpd_delay : 0));
    if (ike.version == 1 && ike.dpd) add("dpd_timeout", seconds(ike.dpd_timeout));
    add("encap", conn.force_udp_encapsulation ? "yes" : "no");
    add("fragmentation", t.ipsec.ike_fragmentation ? "yes" : "no");
    add("unique", "replace");
    std::string auth = conn.x509 ? "pubkey" : "psk";
    add("local.auth", auth);
    if (!conn.local_id.empty()) add("local.id", conn.local_id);
    if (conn.x509 && conn.local_certificate < t.ipsec.machine_certificates.size()) {
      add("local.certs[]", certificate(t.ipsec.machine_certificates[conn.local_certificate]));
    }
    add("remote.auth", auth);
    if (!conn.remote_id.empty()) add("remote.id", conn.remote_id);
    if (conn.x509 && conn.remote_certificate < t.ipsec.remote_certificates.size()) {
      add("remote.certs[]", certificate(t.ipsec.remote_certificates[conn.remote_certificate]));
    }
    if (conn.x509 && conn.remote_ca < t.ipsec.ca_certificates.size()) {
      add("remote.cacerts[]", certificate(t.ipsec.ca_certificates[conn.remote_ca]));
    }
    const auto& esp = conn.esp;
    auto esp_proposals = esp.pfs ? esp.proposals : without_dh_groups(esp.proposals);
    for (size_t i = 0; i < conn.tunnels.size(); ++i) {
      const auto& tunnel = conn.tunnels[i];
      std::string child = "children." + child_name(conn, i) + ".";
      if (tunnel.transport) {
        add(child + "mode", "transport");
      } else {
        add(child + "mode", "tunnel");
        add(child + "local_ts[]", tunnel.local.str());
        add(child + "remote_ts[]", tunnel.remote.str());
      }
      for (const auto& p : esp_proposals) add(child + "esp_proposals[]", p);
      add(child + "rekey_time", seconds(esp.lifetime > esp.rekey_margin ? esp.lifetime - esp.rekey_margin : esp.lifetime));
      add(child + "life_time", seconds(esp.lifetime));
      add(child + "rand_time", seconds(esp.rekey_margin * ike.rekey_fuzz / 100));
      add(child + "replay_window", std::to_string(esp.replay_window));
      // A switch-controlled connection starts when bulwark-control says its switch is on.
      add(child + "start_action",
          conn.initiate && conn.initially_started && conn.controlling_switch == config::kNoIndex ? "start" : "none");
      add(child + "dpd_action", conn.initiate ? "restart" : "clear");
      add(child + "close_action", "none");
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<std::string> load_configuration(const config::Tables& t, const std::string& socket_path,
                                            std::set<std::string>& loaded) {
  std::vector<std::string> problems;
  ViciClient vici;
  std::string error;
  if (!vici.connect(socket_path, error)) return {error};

  // Machine certificates and their keys, from PKCS#12; the certificates' DER is kept for the
  // connections that name them.
  std::map<std::string, std::string> machine_der;
  for (const auto& cert : t.ipsec.machine_certificates) {
    std::string password;
    if (cert.password) {
      auto secret = config::read_secret(*cert.password, error);
      if (!secret) {
        problems.push_back(fmt::format("machine certificate {}: {}", cert.name, error));
        continue;
      }
      password = *secret;
    }
    std::FILE* f = std::fopen(cert.path.c_str(), "rb");
    PKCS12* p12 = f ? d2i_PKCS12_fp(f, nullptr) : nullptr;
    if (f) std::fclose(f);
    EVP_PKEY* key = nullptr;
    X509* x509 = nullptr;
    if (!p12 || !PKCS12_parse(p12, password.c_str(), &key, &x509, nullptr) || !key || !x509) {
      problems.push_back(fmt::format("machine certificate {}: cannot open {} (wrong password?)", cert.name, cert.path));
      PKCS12_free(p12);
      EVP_PKEY_free(key);
      X509_free(x509);
      continue;
    }
    PKCS12_free(p12);
    machine_der[cert.path] = der_of_certificate(x509);
    if (auto e = submit(vici, "load-cert", {{"type", "X509"}, {"flag", "NONE"}, {"data", machine_der[cert.path]}},
                        "machine certificate " + cert.name);
        !e.empty()) {
      problems.push_back(e);
    }
    unsigned char* pkcs8 = nullptr;
    PKCS8_PRIV_KEY_INFO* info = EVP_PKEY2PKCS8(key);
    int length = info ? i2d_PKCS8_PRIV_KEY_INFO(info, &pkcs8) : -1;
    if (length > 0) {
      std::string data(reinterpret_cast<char*>(pkcs8), static_cast<size_t>(length));
      if (auto e = submit(vici, "load-key", {{"type", "any"}, {"data", data}}, "private key of " + cert.name);
          !e.empty()) {
        problems.push_back(e);
      }
      OPENSSL_cleanse(data.data(), data.size());
      OPENSSL_clear_free(pkcs8, static_cast<size_t>(length));
    }
    PKCS8_PRIV_KEY_INFO_free(info);
    EVP_PKEY_free(key);
    X509_free(x509);
  }
  for (const auto* list : {&t.ipsec.ca_certificates, &t.ipsec.remote_certificates}) {
    for (const auto& cert : *list) {
      std::string data = read_file(cert.path, error);
      if (data.empty()) {
        problems.push_back(fmt::format("certificate {}: {}", cert.name, error));
        continue;
      }
      std::string flag = list == &t.ipsec.ca_certificates ? "CA" : "NONE";
      if (auto e = submit(vici, "load-cert", {{"type", "X509"}, {"flag", flag}, {"data", data}}, "certificate " + cert.name);
          !e.empty()) {
        problems.push_back(e);
      }
    }
  }
  // Pre-shared keys, bound to the peer's identity (or gateway).
  for (const auto& conn : t.ipsec.connections) {
    if (conn.x509 || !conn.psk) continue;
    auto psk = config::read_secret(*conn.psk, error);
    if (!psk) {
      problems.push_back(fmt::format("VPN connection {}: pre-shared key: {}", conn.name, error));
      continue;
    }
    ViciFields fields{{"id", "bulwark-psk-" + conn.name}, {"type", "IKE"}, {"data", *psk}};
    std::string owner = !conn.remote_id.empty() ? conn.remote_id : conn.remote_gateway;
    if (owner != "%any") fields.emplace_back("owners[]", owner);
    if (auto e = submit(vici, "load-shared", fields, "pre-shared key of " + conn.name); !e.empty()) problems.push_back(e);
    OPENSSL_cleanse(fields[2].second.data(), fields[2].second.size());
    OPENSSL_cleanse(psk->data(), psk->size());
  }
  std::set<std::string> wanted;
  auto certificate_data = [&](const config::CertificateEntry& c) {
    if (auto it = machine_der.find(c.path); it != machine_der.end()) return it->second;
    std::string ignored;
    return read_file(c.path, ignored);
  };
  for (const auto& m : connection_messages(t, certificate_data)) {
    wanted.insert(m.name);
    ViciFields fields;
    for (const auto& [k, v] : m.fields) fields.emplace_back(m.name + "." + k, v);
    if (auto e = submit(vici, "load-conn", fields, "VPN connection " + m.name); !e.empty()) problems.push_back(e);
  }
  // Unload what is no longer configured (charon keeps an unchanged connection as it is).
  for (const auto& name : loaded) {
    if (wanted.count(name)) continue;
    if (auto e = submit(vici, "unload-conn", {{"name", name}}, "unloading " + name); !e.empty()) problems.push_back(e);
  }
  loaded = wanted;
  return problems;
}

}  // namespace bulwark::control::ike
