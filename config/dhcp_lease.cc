#include "config/dhcp_lease.h"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "config/control_protocol.h"

namespace bulwark::config {

std::string DhcpLease::describe() const {
  std::string out = address.str();
  if (router) out += " router " + router->str();
  out += fmt::format(" from {} for {} s", server.str(), lease_seconds);
  return out;
}

std::string encode_leases(const std::vector<DhcpLease>& leases) {
  std::string out;
  for (const auto& l : leases) {
    std::string dns;
    for (const auto& d : l.dns) dns += (dns.empty() ? "" : ",") + d.str();
    out += fmt::format("{}\t{}\t{}\t{}\t{}\t{}\n", l.interface, l.address.str(), l.router ? l.router->str() : "-",
                       l.server.str(), l.lease_seconds, dns.empty() ? "-" : dns);
  }
  return out;
}

std::optional<std::vector<DhcpLease>> decode_leases(const std::string& text, std::string& error) {
  std::vector<DhcpLease> out;
  std::istringstream in(text);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    auto bad = [&](const std::string& what) {
      error = fmt::format("line {}: {}", number, what);
      return std::nullopt;
    };
    std::vector<std::string> f = split_text(line, '\t');
    if (f.size() != 6) return bad("expected 6 tab-separated fields");
    DhcpLease l;
    l.interface = f[0];
    auto address = Ipv4Prefix::parse(f[1]);
    if (l.interface.empty() || !address) return bad("bad interface or address");
    l.address = *address;
    if (f[2] != "-") {
      auto router = Ipv4Address::parse(f[2]);
      if (!router) return bad("bad router");
      l.router = *router;
    }
    auto server = Ipv4Address::parse(f[3]);
    if (!server) return bad("bad server");
    l.server = *server;
    try {
      size_t used = 0;
      unsigned long seconds = std::stoul(f[4], &used);
      if (used != f[4].size() || seconds > 0xffffffffUL) return bad("bad lease time");
      l.lease_seconds = static_cast<uint32_t>(seconds);
    } catch (const std::exception&) {
      return bad("bad lease time");
    }
    if (f[5] != "-") {
      for (const auto& d : split_text(f[5], ',')) {
        auto a = Ipv4Address::parse(d);
        if (!a) return bad("bad DNS server");
        l.dns.push_back(*a);
      }
    }
    out.push_back(std::move(l));
  }
  return out;
}

bool write_leases_file(const std::string& path, const std::vector<DhcpLease>& leases, std::string& error) {
  const std::string temporary = path + ".new";
  {
    std::ofstream file(temporary, std::ios::trunc);
    file << encode_leases(leases);
    if (!file.flush()) {
      error = fmt::format("cannot write {}", temporary);
      return false;
    }
  }
  chmod(temporary.c_str(), 0644);
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    error = fmt::format("cannot rename {} to {}", temporary, path);
    return false;
  }
  return true;
}

std::optional<std::vector<DhcpLease>> read_leases_file(const std::string& path, std::string& error) {
  std::ifstream file(path);
  if (!file) return std::vector<DhcpLease>{};
  std::stringstream text;
  text << file.rdbuf();
  std::string why;
  auto leases = decode_leases(text.str(), why);
  if (!leases) error = fmt::format("{}: {}", path, why);
  return leases;
}

void apply_leases(Model& model, const std::vector<DhcpLease>& leases) {
  for (auto& i : model.interfaces) {
    if (!i.dhcp) continue;
    for (const auto& l : leases) {
      if (l.interface != i.name) continue;
      InterfaceAddress a;
      a.origin = i.at("dhcp");
      a.prefix = l.address;
      i.addresses = {a};
      if (l.router && !model.default_gateway) {
        model.default_gateway = *l.router;
        model.default_gateway_origin = i.at("dhcp");
        model.default_gateway_from_lease = true;
      }
    }
  }
}

}  // namespace bulwark::config
